package tui

import (
	"context"
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/tui/client"
)

// appUsersPage is how many app users the screen loads; the filter and the
// search narrow them.
const appUsersPage = 500

var (
	keyAppUsers     = bind([]string{"U"}, "U", "app users")
	keySearchUsers  = bind([]string{"S"}, "S", "search by email")
	keyRevokeLogins = bind([]string{"o"}, "o", "log out everywhere")
)

// appUsersScreen lists the users of an app (the SDK's users module), for
// owners and admins: search them by email, disable or enable one, end its
// sessions, delete it.
type appUsersScreen struct {
	list
	app    client.App
	search string
	users  []client.AppUser
}

type appUsersMsg struct {
	to
	users []client.AppUser
}

func newAppUsersScreen(e *env, app client.App) *appUsersScreen {
	return &appUsersScreen{app: app, list: newList(e, "no users: an app's scripts create them with users.create",
		column{"EMAIL", 0, 0}, column{"VERIFIED", 9, 0}, column{"DISABLED", 9, 0}, column{"CREATED", 20, 0}).withDialog("go")}
}

func (s *appUsersScreen) title() string {
	if s.search != "" {
		return fmt.Sprintf("users of %s matching %q", s.app.Name, s.search)
	}
	return "users of " + s.app.Name
}

func (s *appUsersScreen) init() tea.Cmd { return s.e.call("load app users", s.fetch) }

func (s *appUsersScreen) fetch(ctx context.Context) (tea.Msg, error) {
	us, err := s.e.c.AppUsers(ctx, s.app.ID, s.search, appUsersPage)
	return appUsersMsg{s.to(), us}, err
}

func (s *appUsersScreen) keys() bindings {
	return s.list.keys(bindings{keySearchUsers, keyDisable, keyRevokeLogins, keyDelete, keyFilter, keyReload})
}

func (s *appUsersScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(appUsersMsg); ok {
		s.users, s.loaded = msg.users, true
		rows := make([][]string, len(s.users))
		for i, u := range s.users {
			rows[i] = []string{u.Email, yesNo(u.Verified), yesNo(u.Disabled), u.CreatedAt.Local().Format("2006-01-02 15:04:05")}
		}
		s.t.setRows(rows)
		return nil
	}
	return s.dispatch(msg, s.init, s.onKey)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// onKey searches, or changes the user under the cursor.
func (s *appUsersScreen) onKey(k tea.KeyMsg) tea.Cmd {
	if key.Matches(k, keySearchUsers) {
		return s.in.ask(s.e.st, "emails containing (empty for all)", s.search, func(v string) tea.Cmd {
			s.search = v
			return s.init()
		})
	}
	i := s.t.selected()
	if i < 0 {
		return nil
	}
	u := s.users[i]
	switch {
	case key.Matches(k, keyDisable):
		verb := "disable"
		if u.Disabled {
			verb = "enable"
		}
		return s.e.change(verb+" "+u.Email, func(ctx context.Context) error {
			return s.e.c.SetAppUserDisabled(ctx, s.app.ID, u.ID, !u.Disabled)
		}, s.fetch)
	case key.Matches(k, keyRevokeLogins):
		return s.e.change("log out "+u.Email, func(ctx context.Context) error {
			return s.e.c.RevokeAppUserSessions(ctx, s.app.ID, u.ID)
		}, s.fetch)
	case key.Matches(k, keyDelete):
		s.ask.ask(fmt.Sprintf("delete the user %s of %s?", u.Email, s.app.Name), func() tea.Cmd {
			return s.e.change("delete "+u.Email, func(ctx context.Context) error {
				return s.e.c.DeleteAppUser(ctx, s.app.ID, u.ID)
			}, s.fetch)
		})
	}
	return nil
}

// canManageAppUsers says whether the person may open the app users screen.
func canManageAppUsers(e *env, appID string) bool { return e.can(access.ManageApps, appID) }
