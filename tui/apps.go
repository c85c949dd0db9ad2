package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	keyNewApp  = bind([]string{"n"}, "n", "new app")
	keyEditApp = bind([]string{"e"}, "e", "rename")
	keyDomains = bind([]string{"D"}, "D", "domains")
)

// appsScreen lists the apps the user may read: the first screen.
type appsScreen struct {
	list
	apps []client.App
	// want is the name of an app just made or renamed, for the cursor to
	// go to when the list comes.
	want string
}

type appsMsg struct {
	to
	apps []client.App
}

func newAppsScreen(e *env) *appsScreen {
	return &appsScreen{list: newList(e, "no apps you may read", column{"APP", 24, 0}, column{"DESCRIPTION", 0, 0}).withDialog("ok")}
}

func (s *appsScreen) resume() tea.Cmd { return s.init() }

func (s *appsScreen) title() string { return "apps" }

func (s *appsScreen) init() tea.Cmd { return s.e.call("load apps", s.fetch) }

// fetch reads the apps the user may read.
func (s *appsScreen) fetch(ctx context.Context) (tea.Msg, error) {
	apps, err := s.e.c.Apps(ctx)
	return appsMsg{s.to(), apps}, err
}

func (s *appsScreen) keys() bindings {
	own := bindings{keyScripts, keyData, keyLogs, keyAllLogs, keyDomains}
	if s.e.can(access.ManageApps, "") {
		own = append(own, keyNewApp, keyEditApp, keyDelete, keyAppUsers)
	}
	if s.e.can(access.ManageUsers, "") {
		own = append(own, keyUsers)
	}
	own = append(own, keyOwnKeys, keySystem)
	if s.e.can(access.ReadAudit, "") {
		own = append(own, keyAudit)
	}
	return s.list.keys(append(own, keyQueues, keyInbox, keyFilter, keyReload))
}

func (s *appsScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(appsMsg); ok {
		s.apps, s.loaded = msg.apps, true
		rows := make([][]string, len(s.apps))
		for i, a := range s.apps {
			rows[i] = []string{a.Name, a.Description}
		}
		s.t.setRows(rows)
		for i, a := range s.apps {
			if s.want != "" && a.Name == s.want {
				s.t.selectRow(i)
			}
		}
		s.want = ""
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
	case key.Matches(k, keyNewApp) && s.e.can(access.ManageApps, ""):
		return s.in.ask(s.e.st, "name of the new app", "", func(name string) tea.Cmd {
			return s.in.ask(s.e.st, "its description (may stay empty)", "", func(desc string) tea.Cmd {
				return s.create(name, desc)
			})
		})
	case !ok:
	case key.Matches(k, keyDomains):
		return push(newDomainsScreen(s.e, app))
	case key.Matches(k, keyEditApp) && s.e.can(access.ManageApps, app.ID):
		return s.in.ask(s.e.st, "name", app.Name, func(name string) tea.Cmd {
			return s.in.ask(s.e.st, "description", app.Description, func(desc string) tea.Cmd {
				return s.rename(app, name, desc)
			})
		})
	case key.Matches(k, keyDelete) && s.e.can(access.ManageApps, app.ID):
		return s.in.ask(s.e.st, fmt.Sprintf("delete %s and everything in it? Type its name", app.Name), "",
			func(typed string) tea.Cmd { return s.delete(app, typed) })
	case key.Matches(k, keyAppUsers) && canManageAppUsers(s.e, app.ID):
		return push(newAppUsersScreen(s.e, app))
	case key.Matches(k, keyScripts):
		return push(newScriptsScreen(s.e, app))
	case key.Matches(k, keyLogs):
		return push(newLogsScreen(s.e, app, nil))
	case key.Matches(k, keyData):
		return push(newDataScreen(s.e, app, kvKind{s.e.c}, docsKind{s.e.c}))
	case key.Matches(k, keyQueues):
		return push(newQueuesScreen(s.e, app))
	case key.Matches(k, keyInbox):
		return push(newInboxScreen(s.e, app))
	}
	return nil
}

// create makes an app; the cursor goes to it.
func (s *appsScreen) create(name, desc string) tea.Cmd {
	name = strings.TrimSpace(name)
	if name == "" {
		return func() tea.Msg {
			return errMsg{"create the app", errors.New("an app needs a name; nothing was created")}
		}
	}
	s.want = name
	return s.e.change("create the app "+name, func(ctx context.Context) error {
		_, err := s.e.c.CreateApp(ctx, name, strings.TrimSpace(desc))
		return err
	}, s.fetch)
}

// rename gives an app a new name and description.
func (s *appsScreen) rename(app client.App, name, desc string) tea.Cmd {
	name = strings.TrimSpace(name)
	if name == "" {
		return func() tea.Msg {
			return errMsg{"rename " + app.Name, errors.New("an app needs a name; nothing was changed")}
		}
	}
	s.want = name
	return s.e.change("rename "+app.Name, func(ctx context.Context) error {
		_, err := s.e.c.UpdateApp(ctx, app.ID, name, strings.TrimSpace(desc))
		return err
	}, s.fetch)
}

// delete deletes an app when its name was typed to confirm.
func (s *appsScreen) delete(app client.App, typed string) tea.Cmd {
	if strings.TrimSpace(typed) != app.Name {
		return func() tea.Msg {
			return errMsg{"delete " + app.Name, fmt.Errorf("the name typed is not %q; nothing was deleted", app.Name)}
		}
	}
	return s.e.change("delete "+app.Name, func(ctx context.Context) error {
		return s.e.c.DeleteApp(ctx, app.ID)
	}, s.fetch)
}

func (s *appsScreen) current() (client.App, bool) {
	i := s.t.selected()
	if i < 0 {
		return client.App{}, false
	}
	return s.apps[i], true
}
