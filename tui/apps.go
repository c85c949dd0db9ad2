package tui

import (
	"context"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/api/access"
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
	list
	apps []client.App
}

type appsMsg struct {
	to
	apps []client.App
}

func newAppsScreen(e *env) *appsScreen {
	return &appsScreen{list: newList(e, "no apps you may read", column{"APP", 24}, column{"DESCRIPTION", 0})}
}

func (s *appsScreen) resume() tea.Cmd { return s.init() }

func (s *appsScreen) title() string { return "apps" }

func (s *appsScreen) init() tea.Cmd {
	return s.e.call("load apps", func(ctx context.Context) (tea.Msg, error) {
		apps, err := s.e.c.Apps(ctx)
		return appsMsg{s.to(), apps}, err
	})
}

func (s *appsScreen) keys() bindings {
	own := bindings{keyScripts, keyLogs, keyAllLogs}
	if s.e.can(access.ManageUsers, "") {
		own = append(own, keyUsers)
	}
	own = append(own, keyOwnKeys, keySystem)
	if s.e.can(access.ReadAudit, "") {
		own = append(own, keyAudit)
	}
	return s.list.keys(append(own, keyFilter, keyReload))
}

func (s *appsScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(appsMsg); ok {
		s.apps, s.loaded = msg.apps, true
		rows := make([][]string, len(s.apps))
		for i, a := range s.apps {
			rows[i] = []string{a.Name, a.Description}
		}
		s.t.setRows(rows)
		return nil
	}
	return s.dispatch(msg, s.init, s.onKey)
}

// onKey opens the screen a key names: most for the app under the cursor.
func (s *appsScreen) onKey(k tea.KeyMsg) tea.Cmd {
	app, ok := s.current()
	switch {
	case key.Matches(k, keyUsers) && s.e.can(access.ManageUsers, ""):
		return push(newUsersScreen(s.e))
	case key.Matches(k, keySystem):
		return push(newSystemScreen(s.e))
	case key.Matches(k, keyAudit) && s.e.can(access.ReadAudit, ""):
		return push(newAuditScreen(s.e))
	case key.Matches(k, keyAllLogs):
		return push(newAllLogsScreen(s.e))
	case key.Matches(k, keyOwnKeys):
		return push(newKeysScreen(s.e, nil))
	case !ok:
	case key.Matches(k, keyScripts):
		return push(newScriptsScreen(s.e, app))
	case key.Matches(k, keyLogs):
		return push(newLogsScreen(s.e, app, nil))
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
