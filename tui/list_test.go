package tui

import (
	"strings"
	"testing"
)

// TestListPromptHasTheKeys opens each list screen's prompt: the help bar
// names what enter does there, q is typed into it rather than leaving the
// screen, and esc gives the keys back to the screen.
func TestListPromptHasTheKeys(t *testing.T) {
	for _, tc := range []struct {
		key, enter string
		open       func(e *env) screen
	}{
		{"n", "create", func(e *env) screen { return newScriptsScreen(e, shop) }},
		{"a", "go", func(e *env) screen { return newRoutesScreen(e, shop, hello) }},
		{"a", "go", func(e *env) screen { return newTriggersScreen(e, shop, hello) }},
		{"a", "add", func(e *env) screen { return newKeysScreen(e, nil) }},
		{"n", "ok", func(e *env) screen { return newUsersScreen(e) }},
	} {
		m := newTestModel(t, 80, 24)
		s := open(m, tc.open(m.e))
		l := listOf(t, s)
		m.Update(press(tc.key))
		if !s.typing() || len(s.keys()) == 0 || s.keys()[0].Help().Desc != tc.enter {
			t.Fatalf("%s: after %s, typing %v and keys %v, want the prompt's enter %q", s.title(), tc.key, s.typing(), s.keys(), tc.enter)
		}
		m.Update(press("q"))
		if m.top() != s || !strings.HasSuffix(l.in.in.Value(), "q") {
			t.Fatalf("%s: q in the prompt: top %s, prompt %q", s.title(), m.top().title(), l.in.in.Value())
		}
		m.Update(press("esc"))
		if s.typing() || m.top() != s || s.keys()[len(s.keys())-1].Help().Desc != "reload" {
			t.Fatalf("%s: after esc, typing %v and keys %v", s.title(), s.typing(), s.keys())
		}
	}
}

// listOf is the list part of a list screen.
func listOf(t *testing.T, s screen) *list {
	t.Helper()
	switch s := s.(type) {
	case *scriptsScreen:
		return &s.list
	case *routesScreen:
		return &s.list
	case *triggersScreen:
		return &s.list
	case *keysScreen:
		return &s.list
	case *usersScreen:
		return &s.list
	}
	t.Fatalf("%T is not a list screen", s)
	return nil
}
