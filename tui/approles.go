package tui

import (
	"context"
	"slices"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/tui/client"
)

var (
	keyAppRoles = bind([]string{"a"}, "a", "app roles")
	keyEditor   = bind([]string{"e"}, "e", "make editor")
	keyViewer   = bind([]string{"v"}, "v", "make viewer")
	keyRevoke   = bind([]string{"d"}, "d", "no role")
)

// appRolesScreen shows a user's role in every app and lets owners and
// admins make them an editor or a viewer of one, or take the role away.
// Owners and admins reach every app whatever these say.
type appRolesScreen struct {
	list
	user client.User
	apps []client.App
}

type appRolesMsg struct {
	to
	apps []client.App
	user client.User
	done string
}

func newAppRolesScreen(e *env, u client.User) *appRolesScreen {
	return &appRolesScreen{user: u, list: newList(e, "no apps", column{"APP", 24, 0}, column{"ROLE", 0, 0}).withDialog("")}
}

// readsEveryApp says whether u's instance role reaches every app, whatever
// their app roles.
func readsEveryApp(u client.User) bool { return u.Role == "owner" || u.Role == "admin" }

func (s *appRolesScreen) title() string { return "app roles of " + s.user.Username }

func (s *appRolesScreen) init() tea.Cmd { return s.e.call("load apps", s.fetch("")) }

// fetch reads the apps and the user again, for a message that says done
// when it is not empty.
func (s *appRolesScreen) fetch(done string) func(ctx context.Context) (tea.Msg, error) {
	return func(ctx context.Context) (tea.Msg, error) {
		apps, err := s.e.c.Apps(ctx)
		if err != nil {
			return nil, err
		}
		users, err := s.e.c.Users(ctx)
		if err != nil {
			return nil, err
		}
		u := s.user
		if i := slices.IndexFunc(users, func(x client.User) bool { return x.ID == s.user.ID }); i >= 0 {
			u = users[i]
		}
		return appRolesMsg{s.to(), apps, u, done}, nil
	}
}

// change makes a change and reads the apps and the user again.
func (s *appRolesScreen) change(what, done string, fn func(ctx context.Context) error) tea.Cmd {
	return s.e.change(what, fn, s.fetch(done))
}

func (s *appRolesScreen) keys() bindings {
	return s.list.keys(bindings{keyEditor, keyViewer, keyRevoke, keyFilter, keyReload})
}

func (s *appRolesScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(appRolesMsg); ok {
		s.apps, s.user, s.loaded = msg.apps, msg.user, true
		rows := make([][]string, len(s.apps))
		for i, a := range s.apps {
			role := s.user.AppRoles[a.ID]
			switch {
			case readsEveryApp(s.user):
				role = "all apps, as " + s.user.Role
			case role == "":
				role = "-"
			}
			rows[i] = []string{a.Name, role}
		}
		s.t.setRows(rows)
		return info(msg.done)
	}
	return s.dispatch(msg, s.init, s.onKey)
}

// onKey gives or takes away a role in the app under the cursor.
func (s *appRolesScreen) onKey(k tea.KeyMsg) tea.Cmd {
	i := s.t.selected()
	if i < 0 {
		return nil
	}
	app, u := s.apps[i], s.user
	switch {
	case key.Matches(k, keyEditor), key.Matches(k, keyViewer):
		role := "editor"
		if key.Matches(k, keyViewer) {
			role = "viewer"
		}
		return s.change("make "+u.Username+" "+role+" of "+app.Name, u.Username+" is "+role+" of "+app.Name+" now",
			func(ctx context.Context) error { return s.e.c.GrantAppRole(ctx, u.ID, app.ID, role) })
	case key.Matches(k, keyRevoke):
		if u.AppRoles[app.ID] == "" {
			return nil
		}
		s.ask.ask("take "+u.Username+"'s role ("+u.AppRoles[app.ID]+") in "+app.Name+" away?", func() tea.Cmd {
			return s.change("take "+u.Username+"'s role in "+app.Name+" away", u.Username+" has no role in "+app.Name+" now",
				func(ctx context.Context) error { return s.e.c.RevokeAppRole(ctx, u.ID, app.ID) })
		})
	}
	return nil
}
