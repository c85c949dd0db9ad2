// Package schedule reads cron triggers' schedules and decides when they run:
// 5-field cron expressions and @hourly-style names (parsed by
// github.com/robfig/cron/v3) in an IANA time zone, with daylight-saving
// changes handled, and what a run that is late (the daemon was down) does.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is a parsed schedule in its time zone.
type Schedule struct {
	expr string
	loc  *time.Location
	s    cron.Schedule
}

// Misfire says what a run does when it is due more than Grace ago (the
// daemon was down, or busy past its slot).
type Misfire string

// Misfire policies.
const (
	// RunOnce runs once for all the slots missed, then follows the schedule.
	RunOnce Misfire = "run_once"
	// Skip skips the missed slots and waits for the next one.
	Skip Misfire = "skip"
)

// Grace is how late a run may start and still count as on time.
const Grace = time.Minute

var (
	fiveFields = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	sixFields  = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// Parse reads a 5-field cron expression ("*/5 * * * *") or a name
// (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly) in
// the IANA time zone tz; "" is UTC.
func Parse(expr, tz string) (*Schedule, error) { return parse(expr, tz, fiveFields) }

// ParseWithSeconds is Parse with a leading seconds field, for tests that
// cannot wait for minutes to pass.
func ParseWithSeconds(expr, tz string) (*Schedule, error) { return parse(expr, tz, sixFields) }

func parse(expr, tz string, p cron.Parser) (*Schedule, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, errors.New("the schedule is empty")
	}
	if strings.HasPrefix(expr, "@every") {
		return nil, fmt.Errorf("schedule %q: @every is not supported; write a cron expression such as \"*/5 * * * *\"", expr)
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, fmt.Errorf("schedule %q: give the time zone in the timezone field, not in the schedule", expr)
	}
	loc, err := LoadZone(tz)
	if err != nil {
		return nil, err
	}
	s, err := p.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", expr, err)
	}
	return &Schedule{expr: expr, loc: loc, s: s}, nil
}

// LoadZone returns the IANA time zone named tz ("Europe/Berlin"); "" and
// "UTC" are UTC. "Local" is refused: a schedule must not depend on the
// board's own setting.
func LoadZone(tz string) (*time.Location, error) {
	if tz == "" || tz == "UTC" {
		return time.UTC, nil
	}
	if tz == "Local" {
		return nil, errors.New(`time zone "Local" is not allowed: name an IANA time zone such as "Europe/Berlin"`)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: name an IANA time zone such as \"Europe/Berlin\"", tz)
	}
	return loc, nil
}

// String returns the schedule as written.
func (s *Schedule) String() string { return s.expr }

// Location is the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Next returns the first slot strictly after t, in UTC. Slots are wall
// clock times in the schedule's zone: a time that does not exist on a
// spring-forward day is not run that day; a time that occurs twice on a
// fall-back day is run once, unless the schedule runs every hour.
func (s *Schedule) Next(t time.Time) time.Time {
	n := s.s.Next(t.In(s.loc))
	if n.IsZero() {
		return n
	}
	// robfig/cron runs a fixed wall-clock time twice when the clocks go
	// back (02:30 CEST, then 02:30 CET): skip the repeat, unless the hour
	// field matches every hour, where each real hour is its own slot.
	if !s.everyHour() && sameWallClock(t.In(s.loc), n) {
		n = s.s.Next(n)
	}
	return n.UTC()
}

// everyHour reports whether the schedule matches every hour of a day.
func (s *Schedule) everyHour() bool {
	if spec, ok := s.s.(*cron.SpecSchedule); ok {
		return spec.Hour&(1<<24-1) == 1<<24-1
	}
	return true
}

func sameWallClock(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd && a.Hour() == b.Hour() && a.Minute() == b.Minute() && a.Second() == b.Second()
}

// maxCatchUp bounds the slots Latest walks through: a year of minutes.
const maxCatchUp = 600_000

// Latest returns the last slot not after now, walking from slot (a slot
// of this schedule); slot itself if the next one is after now.
func (s *Schedule) Latest(slot, now time.Time) time.Time {
	for range maxCatchUp {
		n := s.Next(slot)
		if n.IsZero() || n.After(now) {
			break
		}
		slot = n
	}
	return slot
}

// Decision is what to do with a run that was due at a slot.
type Decision struct {
	Run  bool      // run the script now
	Slot time.Time // the slot the run is for: the latest one due
	Next time.Time // the slot to plan after this run
}

// Decide says what a run planned for slot does when it starts at now: on
// time (within Grace), it runs for the latest slot due, which is slot
// unless the run was delayed past later slots; late, it runs once for all
// the slots missed (RunOnce), or is skipped (Skip) unless the latest slot
// due is itself on time. Either way one run follows, at the first slot
// after the latest one due.
func (s *Schedule) Decide(slot, now time.Time, m Misfire) Decision {
	latest := s.Latest(slot, now)
	run := m != Skip || now.Sub(latest) <= Grace
	return Decision{Run: run, Slot: latest, Next: s.Next(latest)}
}
