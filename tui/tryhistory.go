package tui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

var (
	keyPrevRequest = key.NewBinding(key.WithKeys("ctrl+p"), key.WithHelp("ctrl+p", "previous request"))
	keyNextRequest = key.NewBinding(key.WithKeys("ctrl+n"), key.WithHelp("ctrl+n", "next request"))
)

// maxTried is how many requests try it keeps per script.
const maxTried = 20

// tryFields are the fields of try it, as typed.
type tryFields struct{ method, path, host, headers, body string }

// tried is what try it keeps of a script for the session: the requests
// sent, oldest first, and the fields as they were left unsent.
type tried struct {
	sent  []tryFields
	draft *tryFields
}

// triedOf is the history of try it for a script, made on first use.
func (e *env) triedOf(scriptID string) *tried {
	if e.tries == nil {
		e.tries = map[string]*tried{}
	}
	t := e.tries[scriptID]
	if t == nil {
		t = &tried{}
		e.tries[scriptID] = t
	}
	return t
}

// add keeps a request sent, unless it is the same as the last one.
func (t *tried) add(f tryFields) {
	if n := len(t.sent); n > 0 && t.sent[n-1] == f {
		return
	}
	t.sent = append(t.sent, f)
	if len(t.sent) > maxTried {
		t.sent = t.sent[len(t.sent)-maxTried:]
	}
}

// fields is what the fields of try it hold now.
func (s *tryScreen) fields() tryFields {
	return tryFields{s.method.Value(), s.path.Value(), s.host.Value(), s.headers.Value(), s.body.Value()}
}

// fill puts f in the fields.
func (s *tryScreen) fill(f tryFields) {
	s.method.SetValue(f.method)
	s.path.SetValue(f.path)
	s.path.CursorEnd()
	s.host.SetValue(f.host)
	s.headers.SetValue(f.headers)
	s.body.SetValue(f.body)
}

// restore fills the fields as they were left, or with the last request
// sent, when the script was tried before in this session.
func (s *tryScreen) restore() {
	t := s.e.triedOf(s.script.ID)
	switch {
	case t.draft != nil:
		s.fill(*t.draft)
	case len(t.sent) > 0:
		s.fill(t.sent[len(t.sent)-1])
	}
	s.pos = len(t.sent)
}

// keepDraft keeps the fields as they are left, unsent, for the next
// opening of try it on the script.
func (s *tryScreen) keepDraft() {
	t := s.e.triedOf(s.script.ID)
	f := s.fields()
	t.draft = &f
}

// sent notes that the fields were sent.
func (s *tryScreen) sent() {
	t := s.e.triedOf(s.script.ID)
	t.add(s.fields())
	t.draft = nil
	s.pos = len(t.sent)
}

// browse shows the request step places back (-1) or forward (+1) in the
// script's history; past the newest, the fields as they were being edited.
func (s *tryScreen) browse(step int) tea.Cmd {
	t := s.e.triedOf(s.script.ID)
	to := s.pos + step
	if to < 0 || to > len(t.sent) || len(t.sent) == 0 {
		what := "no earlier request"
		if step > 0 {
			what = "no later request"
		}
		return info(what + " sent to " + s.script.Name + " in this session")
	}
	if s.pos == len(t.sent) {
		s.editing = s.fields()
	}
	s.pos = to
	if to == len(t.sent) {
		s.fill(s.editing)
		return nil
	}
	s.fill(t.sent[to])
	return nil
}

// historyNote says which request of the history the fields show, "" when
// they show the one being edited.
func (s *tryScreen) historyNote() string {
	n := len(s.e.triedOf(s.script.ID).sent)
	if s.pos >= n {
		return ""
	}
	return fmt.Sprintf("request %d of %d sent", s.pos+1, n)
}
