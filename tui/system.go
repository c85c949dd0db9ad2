package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// systemScreen shows the daemon's versions and the board's health.
type systemScreen struct {
	base
	versions map[string]any
}

type versionsInfoMsg struct {
	to
	v map[string]any
}

func newSystemScreen(e *env) *systemScreen { return &systemScreen{base: newBase(e)} }

func (s *systemScreen) title() string { return "system" }

func (s *systemScreen) init() tea.Cmd {
	return s.e.call("load system status", func(ctx context.Context) (tea.Msg, error) {
		v, err := s.e.c.Versions(ctx)
		return versionsInfoMsg{s.to(), v}, err
	})
}

func (s *systemScreen) keys() bindings { return bindings{keyReload} }

func (s *systemScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case versionsInfoMsg:
		s.versions, s.loaded = msg.v, true
	case tea.KeyMsg:
		if msg.String() == "r" {
			return s.init()
		}
	}
	return nil
}

func (s *systemScreen) view() string {
	st := s.e.st
	if !s.loaded {
		return st.faint.Render("loading…")
	}
	lines := []string{st.header.Render("versions")}
	keys := make([]string, 0, len(s.versions))
	for k := range s.versions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lines = append(lines, fmt.Sprintf("  %-12s %v", k, s.versions[k]))
	}
	return strings.Join(lines, "\n")
}
