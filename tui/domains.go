package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/tui/client"
)

var keyClaim = bind([]string{"a"}, "a", "add domain")

// domainsScreen lists the host names and patterns an app claims: a
// request for one of them reaches the app's routes. a claims one, d gives
// one up (editors of the app).
type domainsScreen struct {
	list
	app     client.App
	domains []client.Domain
}

type domainsMsg struct {
	to
	domains []client.Domain
}

func newDomainsScreen(e *env, app client.App) *domainsScreen {
	return &domainsScreen{app: app, list: newList(e, "no domains: requests reach the app by its id only (or as the default app)",
		column{"DOMAIN", 0, 0}, column{"CLAIMED", 16, 0}).withDialog("claim")}
}

func (s *domainsScreen) title() string { return "domains of " + s.app.Name }

func (s *domainsScreen) init() tea.Cmd { return s.e.call("load domains", s.fetch) }

func (s *domainsScreen) fetch(ctx context.Context) (tea.Msg, error) {
	ds, err := s.e.c.Domains(ctx, s.app.ID)
	return domainsMsg{s.to(), ds}, err
}

func (s *domainsScreen) keys() bindings {
	if !s.e.can(access.WriteApp, s.app.ID) {
		return s.list.keys(bindings{keyFilter, keyReload})
	}
	return s.list.keys(bindings{keyClaim, keyDelete, keyFilter, keyReload})
}

func (s *domainsScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(domainsMsg); ok {
		s.domains, s.loaded = msg.domains, true
		rows := make([][]string, len(s.domains))
		for i, d := range s.domains {
			rows[i] = []string{d.Pattern, d.CreatedAt.Local().Format("2006-01-02 15:04")}
		}
		s.t.setRows(rows)
		return nil
	}
	return s.dispatch(msg, s.init, s.onKey)
}

// onKey claims a domain, or gives up the one under the cursor, after a yes.
func (s *domainsScreen) onKey(k tea.KeyMsg) tea.Cmd {
	if !s.e.can(access.WriteApp, s.app.ID) {
		return nil
	}
	switch {
	case key.Matches(k, keyClaim):
		return s.in.askHint(s.e.st, "domain to claim", "shop.example.com or *.shop.example.com", s.claim)
	case key.Matches(k, keyDelete):
		if i := s.t.selected(); i >= 0 {
			d := s.domains[i]
			s.ask.ask(fmt.Sprintf("give up %s? Its requests will no longer reach %s", d.Pattern, s.app.Name), func() tea.Cmd {
				return s.e.change("give up "+d.Pattern, func(ctx context.Context) error {
					return s.e.c.ReleaseDomain(ctx, s.app.ID, d.ID)
				}, s.fetch)
			})
		}
	}
	return nil
}

// claim claims a typed domain for the app.
func (s *domainsScreen) claim(pattern string) tea.Cmd {
	pattern = strings.TrimSpace(pattern)
	if pattern == "" {
		return nil
	}
	return s.e.change("claim "+pattern, func(ctx context.Context) error {
		_, err := s.e.c.ClaimDomain(ctx, s.app.ID, pattern)
		return err
	}, s.fetch)
}
