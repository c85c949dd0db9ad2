package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/tui/client"
)

var (
	keyTriggers   = bind([]string{"c"}, "c", "cron triggers")
	keyAddTrigger = bind([]string{"a"}, "a", "add cron trigger")
	keyRunTrigger = bind([]string{"x"}, "x", "run now")
)

// triggersScreen lists a script's triggers (cron schedules, queues and
// email addresses) with their next and last runs: add a cron trigger,
// delete one, run one now.
type triggersScreen struct {
	list
	app      client.App
	script   client.Script
	triggers []client.Trigger
}

type triggersMsg struct {
	to
	triggers []client.Trigger
}

func newTriggersScreen(e *env, app client.App, sc client.Script) *triggersScreen {
	return &triggersScreen{app: app, script: sc, list: newList(e, "no triggers: press a to add a cron trigger, e.g. */5 * * * * Europe/Berlin",
		column{"TRIGGER", 0, 0}, column{"ZONE", 16, 0}, column{"NEXT RUN", 20, 0}, column{"LAST RUN", 20, 0}).withDialog("go")}
}

func (s *triggersScreen) resume() tea.Cmd { return s.init() }

func (s *triggersScreen) title() string { return "triggers of " + s.script.Name }

func (s *triggersScreen) init() tea.Cmd { return s.e.call("load triggers", s.fetch) }

// fetch reads the script's triggers.
func (s *triggersScreen) fetch(ctx context.Context) (tea.Msg, error) {
	ts, err := s.e.c.Triggers(ctx, s.script.ID)
	return triggersMsg{s.to(), ts}, err
}

func (s *triggersScreen) keys() bindings {
	if !s.e.can(access.WriteApp, s.app.ID) {
		return s.list.keys(bindings{keyFilter, keyReload})
	}
	return s.list.keys(bindings{keyAddTrigger, keyRunTrigger, keyDelete, keyFilter, keyReload})
}

func (s *triggersScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(triggersMsg); ok {
		s.triggers, s.loaded = msg.triggers, true
		rows := make([][]string, len(s.triggers))
		for i, t := range s.triggers {
			rows[i] = []string{what(t), t.Timezone, when(t.NextRunAt), when(t.LastRunAt)}
		}
		s.t.setRows(rows)
		return nil
	}
	return s.dispatch(msg, s.init, s.onKey)
}

// onKey adds a cron trigger, or runs or deletes the one under the cursor.
func (s *triggersScreen) onKey(k tea.KeyMsg) tea.Cmd {
	if !s.e.can(access.WriteApp, s.app.ID) {
		return nil
	}
	if key.Matches(k, keyAddTrigger) {
		return s.in.askHint(s.e.st, "cron schedule [time zone]", "*/5 * * * * Europe/Berlin", s.add)
	}
	i := s.t.selected()
	if i < 0 {
		return nil
	}
	t := s.triggers[i]
	switch {
	case key.Matches(k, keyRunTrigger):
		return s.e.change("run "+t.Schedule, func(ctx context.Context) error { return s.e.c.RunTrigger(ctx, t.ID) }, s.fetch)
	case key.Matches(k, keyDelete):
		s.ask.ask(fmt.Sprintf("delete the trigger %s?", t.Schedule), func() tea.Cmd {
			return s.e.change("delete trigger", func(ctx context.Context) error { return s.e.c.DeleteTrigger(ctx, t.ID) }, s.fetch)
		})
	}
	return nil
}

// add adds a cron trigger from "schedule [zone]": five fields and an
// optional time zone, or an @name and an optional zone.
func (s *triggersScreen) add(v string) tea.Cmd {
	schedule, zone := splitSchedule(v)
	return s.e.change("add trigger "+schedule, func(ctx context.Context) error {
		_, err := s.e.c.AddCronTrigger(ctx, s.script.ID, schedule, zone)
		return err
	}, s.fetch)
}

// splitSchedule splits "*/5 * * * * Europe/Berlin" or "@daily UTC" into
// the schedule and the time zone, "" when none is given.
func splitSchedule(v string) (schedule, zone string) {
	f := strings.Fields(v)
	n := 5
	if len(f) > 0 && strings.HasPrefix(f[0], "@") {
		n = 1
	}
	if len(f) == n+1 {
		return strings.Join(f[:n], " "), f[n]
	}
	return strings.Join(f, " "), ""
}

// what says what starts a trigger: its schedule, "queue NAME" or
// "email ADDRESS".
func what(t client.Trigger) string {
	switch t.Type {
	case "queue":
		return "queue " + t.Queue
	case "email":
		return "email " + t.Address
	}
	return t.Schedule
}

// when shows a run time in the board's local time, or - before the first.
func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
