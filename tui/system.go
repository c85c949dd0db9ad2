package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/picloud/picloud/tui/client"
)

// systemScreen shows the board's and the daemon's health: versions,
// uptime, load, temperature, memory, disk, database, executor workers, and
// the scripts' transactions and each app's data against its quota.
// Users who may not read it (members) see the versions only.
type systemScreen struct {
	base
	sys     client.System
	partial bool // only /version could be read
	// requests and errors per minute of the last boardMinutes, across the
	// apps the user may read.
	requests, errors []int64
}

type systemMsg struct {
	to
	sys     client.System
	partial bool
	rollups []client.Rollup // of the last boardMinutes
	at      time.Time       // when they were read
}

// boardMinutes is how many minutes of requests the system screen draws.
const boardMinutes = 30

func newSystemScreen(e *env) *systemScreen { return &systemScreen{base: newBase(e)} }

func (s *systemScreen) title() string { return "system" }

func (s *systemScreen) init() tea.Cmd {
	return s.e.call("load system status", func(ctx context.Context) (tea.Msg, error) {
		sys, err := s.e.c.System(ctx)
		if code := client.StatusOf(err); code == 403 || code == 404 {
			v, err := s.e.c.Versions(ctx)
			return systemMsg{s.to(), client.System{Versions: v}, true, nil, time.Time{}}, err
		}
		if err != nil {
			return nil, err
		}
		// The rollups are a nicety: a daemon without them still answers.
		now := time.Now()
		rollups, _ := s.e.c.Rollups(ctx, "", fmt.Sprintf("%dm", boardMinutes))
		return systemMsg{s.to(), sys, false, rollups, now}, nil
	})
}

func (s *systemScreen) keys() bindings { return bindings{keyReload} }

func (s *systemScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case systemMsg:
		s.sys, s.partial, s.loaded = msg.sys, msg.partial, true
		req, errs := perMinute(msg.rollups, boardMinutes, msg.at)
		s.requests, s.errors = req[""], errs[""]
	case tea.KeyMsg:
		if msg.String() == "r" {
			return s.init()
		}
	}
	return nil
}

func (s *systemScreen) view() string {
	st := s.e.st
	if !s.loaded {
		return st.faint.Render("loading…")
	}
	row := func(k, v string) string { return "  " + st.label.Render(fmt.Sprintf("%-12s", k)) + " " + v }
	y := s.sys
	var left []string
	if !s.partial {
		left = append(left, st.header.Render("board"))
		if y.BootUptimeSeconds > 0 {
			left = append(left, row("up", since(y.BootUptimeSeconds)))
		}
		if len(y.Load) == 3 {
			left = append(left, row("load", fmt.Sprintf("%.2f %.2f %.2f on %d CPUs", y.Load[0], y.Load[1], y.Load[2], y.CPUs)))
		}
		if y.TemperatureC != nil {
			t := fmt.Sprintf("%.1f °C", *y.TemperatureC)
			if *y.TemperatureC >= 80 {
				t = st.err.Render(t + " (throttling)")
			}
			left = append(left, row("temperature", t))
		}
		if y.MemoryTotalBytes > 0 {
			left = append(left, row("memory", fmt.Sprintf("%s free of %s", bytes(y.MemoryAvailBytes), bytes(y.MemoryTotalBytes))))
		}
		if y.DiskTotalBytes > 0 {
			left = append(left, row("disk", fmt.Sprintf("%s free of %s", bytes(y.DiskFreeBytes), bytes(y.DiskTotalBytes))))
		}
		for _, w := range y.Warnings {
			left = append(left, st.err.Width(max(s.w-4, 30)).MarginLeft(2).Render("⚠ "+safe(w)))
		}
		left = append(left, "", st.header.Render("daemon"),
			row("up", since(y.UptimeSeconds)+" (since "+y.StartedAt.Local().Format("2006-01-02 15:04")+")"))
		if y.DaemonRSSBytes > 0 {
			left = append(left, row("memory", bytes(y.DaemonRSSBytes)))
		}
		if y.DatabaseBytes > 0 {
			left = append(left, row("database", bytes(y.DatabaseBytes)))
		}
		left = append(left, row("requests", s.minutes(s.requests)))
		left = append(left, row("errors", s.minutes(s.errors)))
		left = append(left, row("executors", fmt.Sprintf("%s, %s", safe(y.ExecutorMode), plural(len(y.Workers), "worker"))))
		for _, w := range y.Workers {
			left = append(left, s.workerRows(row, w)...)
		}
		left = append(left, "")
	}
	left = append(left, st.header.Render("versions"))
	keys := make([]string, 0, len(y.Versions))
	for k := range y.Versions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		left = append(left, row(safe(k), safe(fmt.Sprint(y.Versions[k]))))
	}
	if s.partial {
		left = append(left, "", st.faint.Render("the board's health is for owners and admins"))
	} else {
		left = append(left, s.dataRows(row)...)
	}
	return strings.Join(left, "\n")
}

// dataRows shows the scripts' open transactions, the apps' users and each
// app's data against its storage quota, the ones past 90 % of it marked.
func (s *systemScreen) dataRows(row func(k, v string) string) []string {
	y, st := s.sys, s.e.st
	if y.Transactions == nil && len(y.Storage) == 0 {
		return nil
	}
	out := []string{"", st.header.Render("data")}
	if t := y.Transactions; t != nil {
		out = append(out, row("transactions", fmt.Sprintf("%d open of %d", t.Open, t.Max)))
	}
	if u := y.AppUsers; u != nil {
		out = append(out, row("app users", fmt.Sprintf("%d, %d logged in", u.Users, u.Sessions)))
	}
	for _, a := range y.Storage {
		v := fmt.Sprintf("%s of %s", bytes(a.UsedBytes), bytes(a.QuotaBytes))
		if a.QuotaBytes > 0 && a.UsedBytes*10 >= a.QuotaBytes*9 {
			v = st.err.Render(v + " (near its quota)")
		}
		out = append(out, row(safe(ansi.Truncate(a.App, 12, "…")), v))
	}
	return out
}

// workerRows shows one worker slot: its process, memory and restarts, and
// on a wide screen why its last worker ended.
func (s *systemScreen) workerRows(row func(k, v string) string, w client.Worker) []string {
	st := s.e.st
	proc := st.faint.Render("starting a replacement…")
	if w.PID != 0 {
		proc = fmt.Sprintf("pid %-7d %7s", w.PID, bytes(w.RSSBytes))
	}
	restarts := st.faint.Render("no restarts")
	switch {
	case w.Restarts == 1:
		restarts = "1 restart"
	case w.Restarts > 1:
		restarts = fmt.Sprintf("%d restarts", w.Restarts)
	}
	if w.LastExit != nil {
		restarts += ", last " + safe(w.LastExit.Code) + " at " + w.LastExit.At.Local().Format("15:04")
		if w.LastExit.Code != "executor.restarted" {
			restarts = st.err.Render(restarts)
		}
	}
	out := []string{row("", proc+"  "+restarts)}
	if w.LastExit != nil && s.w >= 100 {
		out = append(out, row("", st.faint.Render(ansi.Truncate(safe(w.LastExit.Reason), s.w-18, "…"))))
	}
	return out
}

// since formats a number of seconds as days, hours and minutes.
func since(sec int64) string {
	d := time.Duration(sec) * time.Second
	days := int(d.Hours()) / 24
	h, m := int(d.Hours())%24, int(d.Minutes())%60
	if days > 0 {
		return fmt.Sprintf("%dd %dh %dm", days, h, m)
	}
	return fmt.Sprintf("%dh %dm", h, m)
}

// bytes formats a size for a person.
func bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// minutes draws per-minute counts of the last boardMinutes as a sparkline
// with their total, or says there were none.
func (s *systemScreen) minutes(counts []int64) string {
	var total int64
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return s.e.st.faint.Render(fmt.Sprintf("none in the last %d minutes", boardMinutes))
	}
	return fmt.Sprintf("%s %d in %d min", sparkline(counts), total, boardMinutes)
}

// plural is n things, the noun in the plural unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
