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
	list
	user    *client.User
	sshKeys []client.SSHKey
}

type keysMsg struct {
	to
	keys []client.SSHKey
}

func newKeysScreen(e *env, u *client.User) *keysScreen {
	return &keysScreen{user: u, list: newList(e, "no SSH keys: press a and paste a public key (~/.ssh/id_ed25519.pub)",
		sshKeyColumns...).withDialog("add")}
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

func (s *keysScreen) init() tea.Cmd { return s.e.call("load SSH keys", s.fetch) }

// fetch reads the user's keys.
func (s *keysScreen) fetch(ctx context.Context) (tea.Msg, error) {
	ks, err := s.e.c.SSHKeys(ctx, s.userID())
	return keysMsg{s.to(), ks}, err
}

// sshKeyColumns are the keys screen's columns.
var sshKeyColumns = []column{{"TYPE", 12, 0}, {"FINGERPRINT", 51, 0}, {"COMMENT", 0, 0}, {"LAST USED", 16, 0}}

// setSize drops the last-used column where the fingerprint would not fit
// beside it.
func (s *keysScreen) setSize(w, h int) {
	s.t.cols = sshKeyColumns
	if w < 100 {
		s.t.cols = sshKeyColumns[:3]
	}
	s.list.setSize(w, h)
}

func (s *keysScreen) keys() bindings {
	return s.list.keys(bindings{keyAddKey, keyDelete, keyFilter, keyReload})
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
	return s.dispatch(msg, s.init, s.onKey)
}

// onKey asks for a key to add, or deletes the key under the cursor.
func (s *keysScreen) onKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, keyAddKey):
		return s.in.ask(s.e.st, "public key", "", s.add)
	case key.Matches(k, keyDelete):
		if i := s.t.selected(); i >= 0 {
			key := s.sshKeys[i]
			s.ask.ask(s.deleteQuestion(key), func() tea.Cmd {
				return s.e.change("delete the key", func(ctx context.Context) error {
					return s.e.c.DeleteSSHKey(ctx, s.userID(), key.ID)
				}, s.fetch)
			})
		}
	}
	return nil
}

// deleteQuestion asks about deleting key, warning when it is the key this
// session signed in with: it signs in no more, and when it is the only
// one the user could not come back over SSH.
func (s *keysScreen) deleteQuestion(key client.SSHKey) string {
	own := s.user == nil || s.user.ID == s.e.me.ID
	if !own || s.e.sessionKey == "" || key.Fingerprint != s.e.sessionKey {
		return fmt.Sprintf("delete the %s key %s?", key.Type, key.Fingerprint)
	}
	if len(s.sshKeys) == 1 {
		return "delete your only key, this session's? It signs you in no more"
	}
	return "delete this session's own key? It signs you in no more"
}

// add registers a pasted public key.
func (s *keysScreen) add(line string) tea.Cmd {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	return s.e.change("add the key", func(ctx context.Context) error {
		_, err := s.e.c.AddSSHKey(ctx, s.userID(), line)
		return err
	}, s.fetch)
}
