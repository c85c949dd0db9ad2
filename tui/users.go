package tui

import (
	"context"
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/tui/client"
)

// usersScreen lists the users with their roles (owners only: others see
// the API's refusal in the status line).
type usersScreen struct {
	base
	users []client.User
	t     table
}

type usersMsg struct {
	to
	users []client.User
}

func newUsersScreen(e *env) *usersScreen {
	s := &usersScreen{base: newBase(e)}
	s.t = newTable(e.st, "no users to show", column{"USER", 20}, column{"ROLE", 8}, column{"STATE", 9}, column{"APP ROLES", 0})
	return s
}

func (s *usersScreen) title() string { return "users" }

func (s *usersScreen) init() tea.Cmd {
	return s.e.call("load users", func(ctx context.Context) (tea.Msg, error) {
		us, err := s.e.c.Users(ctx)
		return usersMsg{s.to(), us}, err
	})
}

func (s *usersScreen) setSize(w, h int) { s.base.setSize(w, h); s.t.setSize(w, h) }
func (s *usersScreen) typing() bool     { return s.t.editing }

func (s *usersScreen) keys() bindings {
	if s.t.editing {
		return bindings{keyEnter, keyCancel}
	}
	return bindings{keyKeys, keyFilter, keyReload}
}

func (s *usersScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case usersMsg:
		s.users, s.loaded = msg.users, true
		rows := make([][]string, len(s.users))
		for i, u := range s.users {
			state := "enabled"
			if u.Disabled {
				state = "disabled"
			}
			roles := "-"
			if len(u.AppRoles) > 0 {
				roles = fmt.Sprintf("%d apps", len(u.AppRoles))
			}
			rows[i] = []string{u.Username, u.Role, state, roles}
		}
		s.t.setRows(rows)
	case tea.KeyMsg:
		if used, cmd := s.t.update(msg); used {
			return cmd
		}
		if msg.String() == "r" {
			return s.init()
		}
		if i := s.t.selected(); i >= 0 && key.Matches(msg, keyKeys) {
			u := s.users[i]
			return push(newKeysScreen(s.e, &u))
		}
	}
	return nil
}

func (s *usersScreen) view() string { return s.t.view() }
