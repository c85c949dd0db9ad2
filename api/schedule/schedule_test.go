package schedule

import (
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, expr, tz string) *Schedule {
	t.Helper()
	s, err := Parse(expr, tz)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", expr, tz, err)
	}
	return s
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestParseRefusesWithReason(t *testing.T) {
	for _, c := range []struct{ expr, tz, want string }{
		{"", "", "empty"},
		{"* * * *", "", "expected exactly 5 fields"},
		{"0 0 * * * *", "", "expected exactly 5 fields"},
		{"61 * * * *", "", "above maximum"},
		{"@every 5m", "", "@every is not supported"},
		{"@sometimes", "", "unrecognized descriptor"},
		{"CRON_TZ=Europe/Berlin 0 9 * * *", "", "timezone field"},
		{"0 9 * * *", "Mars/Olympus", `unknown time zone "Mars/Olympus"`},
		{"0 9 * * *", "Local", "not allowed"},
	} {
		_, err := Parse(c.expr, c.tz)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q, %q) = %v, want an error saying %q", c.expr, c.tz, err, c.want)
		}
	}
	for _, expr := range []string{"*/5 * * * *", "0 3 * * 1-5", "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly"} {
		mustParse(t, expr, "Europe/Berlin")
	}
	if _, err := ParseWithSeconds("*/2 * * * * *", ""); err != nil {
		t.Errorf("seconds schedule: %v", err)
	}
}

func TestNextInItsTimeZone(t *testing.T) {
	s := mustParse(t, "0 9 * * *", "Europe/Berlin")
	// 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
	for _, c := range [][2]string{
		{"2026-01-10T12:00:00Z", "2026-01-11T08:00:00Z"},
		{"2026-07-10T12:00:00Z", "2026-07-11T07:00:00Z"},
	} {
		if got := s.Next(utc(c[0])); !got.Equal(utc(c[1])) {
			t.Errorf("Next(%s) = %s, want %s", c[0], got, c[1])
		}
	}
}

// walk returns the n slots after from.
func walk(s *Schedule, from time.Time, n int) []string {
	var out []string
	for range n {
		from = s.Next(from)
		out = append(out, from.Format(time.RFC3339))
	}
	return out
}

func TestDaylightSavingChanges(t *testing.T) {
	for _, c := range []struct {
		name, expr, from string
		want             []string
	}{{
		// 2026-03-29 02:00 CET becomes 03:00 CEST: 02:30 does not exist
		// that day and is not run.
		name: "spring forward, daily at 02:30", expr: "30 2 * * *", from: "2026-03-27T12:00:00Z",
		want: []string{"2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"},
	}, {
		// 2026-10-25 03:00 CEST becomes 02:00 CET: 02:30 happens twice and
		// is run once, the first time.
		name: "fall back, daily at 02:30", expr: "30 2 * * *", from: "2026-10-23T12:00:00Z",
		want: []string{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
	}, {
		// Every hour runs every real hour, the repeated one included.
		name: "fall back, hourly", expr: "0 * * * *", from: "2026-10-24T23:30:00Z",
		want: []string{"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"},
	}, {
		name: "spring forward, hourly", expr: "@hourly", from: "2026-03-29T00:30:00Z",
		want: []string{"2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"},
	}} {
		s := mustParse(t, c.expr, "Europe/Berlin")
		got := walk(s, utc(c.from), len(c.want))
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s:\n got %v\nwant %v", c.name, got, c.want)
		}
	}
}

func TestDecideAfterDowntime(t *testing.T) {
	s := mustParse(t, "*/5 * * * *", "")
	slot := utc("2026-05-01T10:00:00Z")
	for _, c := range []struct {
		name      string
		now       string
		misfire   Misfire
		run       bool
		slot, nxt string
	}{
		{"on time", "2026-05-01T10:00:02Z", RunOnce, true, "2026-05-01T10:00:00Z", "2026-05-01T10:05:00Z"},
		{"on time, skip", "2026-05-01T10:00:02Z", Skip, true, "2026-05-01T10:00:00Z", "2026-05-01T10:05:00Z"},
		// Down from before 10:00 until 10:42: one run for the nine slots
		// missed, for the latest, then the schedule again.
		{"missed, run once", "2026-05-01T10:42:00Z", RunOnce, true, "2026-05-01T10:40:00Z", "2026-05-01T10:45:00Z"},
		{"missed, skip", "2026-05-01T10:42:00Z", Skip, false, "2026-05-01T10:40:00Z", "2026-05-01T10:45:00Z"},
		// Back just after a slot: that slot is on time even when skipping.
		{"missed, skip, back at a slot", "2026-05-01T10:40:30Z", Skip, true, "2026-05-01T10:40:00Z", "2026-05-01T10:45:00Z"},
	} {
		d := s.Decide(slot, utc(c.now), c.misfire)
		if d.Run != c.run || !d.Slot.Equal(utc(c.slot)) || !d.Next.Equal(utc(c.nxt)) {
			t.Errorf("%s: got run %v slot %s next %s; want run %v slot %s next %s", c.name,
				d.Run, d.Slot.Format(time.RFC3339), d.Next.Format(time.RFC3339), c.run, c.slot, c.nxt)
		}
	}
}
