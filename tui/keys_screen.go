package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/tui/client"
)

var (
	keyAddKey = bind([]string{"a"}, "a", "add key")
	keyKeys   = bind([]string{"enter"}, "enter", "SSH keys")
)

// keysScreen lists a user's SSH public keys (one's own when user is nil):
// add one by pasting its authorized_keys line, delete one.
type keysScreen struct {
	base
	user    *client.User
	sshKeys []client.SSHKey
	t       table
	in      prompt
	ask     confirm
}

type keysMsg struct {
	to
	keys []client.SSHKey
}

func newKeysScreen(e *env, u *client.User) *keysScreen {
	s := &keysScreen{base: newBase(e), user: u}
	s.t = newTable(e.st, "no SSH keys: press a and paste a public key (~/.ssh/id_ed25519.pub)",
		column{"TYPE", 12}, column{"FINGERPRINT", 51}, column{"COMMENT", 0}, column{"LAST USED", 16})
	return s
}

func (s *keysScreen) userID() string {
	if s.user == nil {
		return ""
	}
	return s.user.ID
}

func (s *keysScreen) title() string {
	if s.user == nil {
		return "your SSH keys"
	}
	return "SSH keys of " + s.user.Username
}

func (s *keysScreen) init() tea.Cmd {
	return s.e.call("load SSH keys", func(ctx context.Context) (tea.Msg, error) {
		ks, err := s.e.c.SSHKeys(ctx, s.userID())
		return keysMsg{s.to(), ks}, err
	})
}

// setSize drops the last-used column where the fingerprint would not fit
// beside it.
func (s *keysScreen) setSize(w, h int) {
	s.base.setSize(w, h)
	s.t.cols = []column{{"TYPE", 12}, {"FINGERPRINT", 51}, {"COMMENT", 0}, {"LAST USED", 16}}
	if w < 100 {
		s.t.cols = s.t.cols[:3]
	}
	s.t.setSize(w, h-1)
}

func (s *keysScreen) typing() bool { return s.t.editing || s.in.active() || s.ask.active() }

func (s *keysScreen) keys() bindings {
	switch {
	case s.t.editing:
		return bindings{keyEnter, keyCancel}
	case s.in.active():
		return bindings{bind([]string{"enter"}, "enter", "add"), keyCancel}
	case s.ask.active():
		return bindings{keyYes, keyNo}
	}
	return bindings{keyAddKey, keyDelete, keyFilter, keyReload}
}

func (s *keysScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(keysMsg); ok {
		s.sshKeys, s.loaded = msg.keys, true
		rows := make([][]string, len(s.sshKeys))
		for i, k := range s.sshKeys {
			used := "never"
			if k.LastUsedAt != nil {
				used = k.LastUsedAt.Local().Format("2006-01-02 15:04")
			}
			rows[i] = []string{k.Type, k.Fingerprint, k.Comment, used}
		}
		s.t.setRows(rows)
		return nil
	}
	k, cmd, free := focus(msg, &s.in, &s.ask, &s.t)
	if !free {
		return cmd
	}
	switch {
	case key.Matches(k, keyReload):
		return s.init()
	case key.Matches(k, keyAddKey):
		return s.in.ask(s.e.st, "public key", "", s.add)
	case key.Matches(k, keyDelete):
		if i := s.t.selected(); i >= 0 {
			key := s.sshKeys[i]
			s.ask.ask(fmt.Sprintf("delete the %s key %s?", key.Type, key.Fingerprint), func() tea.Cmd {
				return s.e.call("delete the key", func(ctx context.Context) (tea.Msg, error) {
					if err := s.e.c.DeleteSSHKey(ctx, s.userID(), key.ID); err != nil {
						return nil, err
					}
					ks, err := s.e.c.SSHKeys(ctx, s.userID())
					return keysMsg{s.to(), ks}, err
				})
			})
		}
	}
	return nil
}

// add registers a pasted public key.
func (s *keysScreen) add(line string) tea.Cmd {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	return s.e.call("add the key", func(ctx context.Context) (tea.Msg, error) {
		if _, err := s.e.c.AddSSHKey(ctx, s.userID(), line); err != nil {
			return nil, err
		}
		ks, err := s.e.c.SSHKeys(ctx, s.userID())
		return keysMsg{s.to(), ks}, err
	})
}

func (s *keysScreen) view() string {
	return fitBlock(s.t.view(), s.w, s.h-1) + "\n" + dialogLine(s.e.st, &s.in, &s.ask)
}
