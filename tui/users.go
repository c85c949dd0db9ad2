package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/tui/client"
)

var (
	keyNewUser  = bind([]string{"n"}, "n", "new user")
	keyDisable  = bind([]string{"x"}, "x", "disable/enable")
	keyRole     = bind([]string{"o"}, "o", "role")
	keyPassword = bind([]string{"p"}, "p", "set password")
)

// usersScreen lists the users with their roles, and lets owners add users,
// change their role, disable or enable them and set their password (others
// see the API's refusal in the status line).
type usersScreen struct {
	list
	users []client.User
}

type usersMsg struct {
	to
	users []client.User
	done  string // what changed, for the status line
}

func newUsersScreen(e *env) *usersScreen {
	return &usersScreen{list: newList(e, "no users to show",
		column{"USER", 20, 0}, column{"ROLE", 8, 0}, column{"STATE", 9, 0}, column{"APP ROLES", 0, 0}).withDialog("ok")}
}

func (s *usersScreen) title() string { return "users" }

func (s *usersScreen) init() tea.Cmd { return s.e.call("load users", s.fetch("")) }

// fetch reads the users, for a message that says done when it is not
// empty.
func (s *usersScreen) fetch(done string) func(ctx context.Context) (tea.Msg, error) {
	return func(ctx context.Context) (tea.Msg, error) {
		us, err := s.e.c.Users(ctx)
		return usersMsg{s.to(), us, done}, err
	}
}

func (s *usersScreen) keys() bindings {
	return s.list.keys(bindings{keyKeys, keyAppRoles, keyNewUser, keyRole, keyDisable, keyPassword, keyFilter, keyReload})
}

func (s *usersScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(usersMsg); ok {
		s.users, s.loaded = msg.users, true
		rows := make([][]string, len(s.users))
		for i, u := range s.users {
			state := "enabled"
			if u.Disabled {
				state = "disabled"
			}
			roles := "-"
			switch n := len(u.AppRoles); {
			case readsEveryApp(u):
				roles = "all apps"
			case n == 1:
				roles = "1 app"
			case n > 1:
				roles = fmt.Sprintf("%d apps", n)
			}
			rows[i] = []string{u.Username, u.Role, state, roles}
		}
		s.t.setRows(rows)
		return info(msg.done)
	}
	return s.dispatch(msg, s.init, s.onKey)
}

// onKey adds a user, or acts on the user under the cursor.
func (s *usersScreen) onKey(k tea.KeyMsg) tea.Cmd {
	if key.Matches(k, keyNewUser) {
		return s.in.ask(s.e.st, "name of the new user", "", func(name string) tea.Cmd {
			name = strings.TrimSpace(name)
			if name == "" {
				return nil
			}
			return s.askPassword("password for "+name, func(pw string) tea.Cmd {
				return s.in.ask(s.e.st, "role (owner, admin or member)", "member", func(role string) tea.Cmd {
					return s.change("create "+name, "created "+name, func(ctx context.Context) error {
						_, err := s.e.c.CreateUser(ctx, name, pw, strings.TrimSpace(role))
						return err
					})
				})
			})
		})
	}
	i := s.t.selected()
	if i < 0 {
		return nil
	}
	u := s.users[i]
	switch {
	case key.Matches(k, keyKeys):
		return push(newKeysScreen(s.e, &u))
	case key.Matches(k, keyAppRoles):
		return push(newAppRolesScreen(s.e, u))
	case key.Matches(k, keyDisable):
		verb, disabled := "disable", !u.Disabled
		if u.Disabled {
			verb = "enable"
		}
		question := verb + " " + u.Username + "?"
		if disabled {
			question = "disable " + u.Username + "? Their sessions end and their tokens and keys stop working."
		}
		s.ask.ask(question, func() tea.Cmd {
			return s.change(verb+" "+u.Username, verb+"d "+u.Username, func(ctx context.Context) error {
				_, err := s.e.c.UpdateUser(ctx, u.ID, client.UserChange{Disabled: &disabled})
				return err
			})
		})
	case key.Matches(k, keyRole):
		return s.in.ask(s.e.st, "role of "+u.Username+" (owner, admin or member)", u.Role, func(role string) tea.Cmd {
			role = strings.TrimSpace(role)
			return s.change("change the role of "+u.Username, u.Username+" is "+role+" now", func(ctx context.Context) error {
				_, err := s.e.c.UpdateUser(ctx, u.ID, client.UserChange{Role: &role})
				return err
			})
		})
	case key.Matches(k, keyPassword):
		return s.askPassword("new password for "+u.Username, func(pw string) tea.Cmd {
			return s.change("set the password of "+u.Username, "set the password of "+u.Username+"; their sessions ended", func(ctx context.Context) error {
				return s.e.c.ResetPassword(ctx, u.ID, pw)
			})
		})
	}
	return nil
}

// askPassword asks for a new password and checks it against the board's
// policy at once, asking again with the reason until it passes (or esc):
// a person learns a password is too short before the next question, not
// after the last one.
func (s *usersScreen) askPassword(label string, done func(pw string) tea.Cmd) tea.Cmd {
	return s.in.askSecret(s.e.st, label+" ("+fmt.Sprint(auth.MinPasswordLen)+" characters or more)", func(pw string) tea.Cmd {
		if err := auth.ValidatePassword(pw); err != nil {
			reason := strings.TrimPrefix(err.Error(), auth.ErrPasswordPolicy.Error()+": ")
			return tea.Batch(s.askPassword(label, done), func() tea.Msg {
				return errMsg{"password", errors.New("that password is too short or too long: " + reason)}
			})
		}
		return done(pw)
	})
}

// change makes a change and lists the users again.
func (s *usersScreen) change(what, done string, fn func(ctx context.Context) error) tea.Cmd {
	return s.e.change(what, fn, s.fetch(done))
}
