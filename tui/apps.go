package tui

import (
	"context"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/tui/client"
)

var (
	keyLogs    = bind([]string{"l"}, "l", "live logs")
	keyAllLogs = bind([]string{"L"}, "L", "logs of all apps")
	keyUsers   = bind([]string{"u"}, "u", "users")
	keySystem  = bind([]string{"i"}, "i", "system")
	keyOwnKeys = bind([]string{"s"}, "s", "your SSH keys")
	keyScripts = bind([]string{"enter"}, "enter", "scripts")
)

// appsScreen lists the apps the user may read: the first screen.
type appsScreen struct {
	base
	apps []client.App
	t    table
}

type appsMsg struct {
	to
	apps []client.App
}

func newAppsScreen(e *env) *appsScreen {
	s := &appsScreen{base: newBase(e)}
	s.t = newTable(e.st, "no apps you may read", column{"APP", 24}, column{"DESCRIPTION", 0})
	return s
}

func (s *appsScreen) resume() tea.Cmd { return s.init() }

func (s *appsScreen) title() string { return "apps" }

func (s *appsScreen) init() tea.Cmd {
	return s.e.call("load apps", func(ctx context.Context) (tea.Msg, error) {
		apps, err := s.e.c.Apps(ctx)
		return appsMsg{s.to(), apps}, err
	})
}

func (s *appsScreen) setSize(w, h int) { s.base.setSize(w, h); s.t.setSize(w, h) }
func (s *appsScreen) typing() bool     { return s.t.editing }

func (s *appsScreen) keys() bindings {
	if s.t.editing {
		return bindings{keyEnter, keyCancel}
	}
	return bindings{keyScripts, keyLogs, keyAllLogs, keyUsers, keyOwnKeys, keySystem, keyAudit, keyFilter, keyReload}
}

func (s *appsScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case appsMsg:
		s.apps, s.loaded = msg.apps, true
		rows := make([][]string, len(s.apps))
		for i, a := range s.apps {
			rows[i] = []string{a.Name, a.Description}
		}
		s.t.setRows(rows)
		return nil
	case tea.KeyMsg:
		if used, cmd := s.t.update(msg); used {
			return cmd
		}
		app, ok := s.current()
		switch {
		case key.Matches(msg, keyReload):
			return s.init()
		case key.Matches(msg, keyUsers):
			return push(newUsersScreen(s.e))
		case key.Matches(msg, keySystem):
			return push(newSystemScreen(s.e))
		case key.Matches(msg, keyAudit):
			return push(newAuditScreen(s.e))
		case key.Matches(msg, keyAllLogs):
			return push(newAllLogsScreen(s.e))
		case key.Matches(msg, keyOwnKeys):
			return push(newKeysScreen(s.e, nil))
		case !ok:
		case key.Matches(msg, keyScripts):
			return push(newScriptsScreen(s.e, app))
		case key.Matches(msg, keyLogs):
			return push(newLogsScreen(s.e, app, nil))
		}
	}
	return nil
}

func (s *appsScreen) current() (client.App, bool) {
	i := s.t.selected()
	if i < 0 {
		return client.App{}, false
	}
	return s.apps[i], true
}

func (s *appsScreen) view() string { return s.t.view() }
