package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/tui/client"
)

var (
	keyAudit = bind([]string{"h"}, "h", "audit log")
	keyOlder = bind([]string{"m"}, "m", "older")
)

// auditPage is how many audit records one load brings.
const auditPage = 200

// auditScreen lists the audit log, newest first: who changed what, when
// and through which channel (owners and admins; others see the API's
// refusal). m loads older records.
type auditScreen struct {
	base
	recs []client.AuditRecord
	end  bool // no older records
	t    table
}

type auditMsg struct {
	to
	recs  []client.AuditRecord
	older bool // a page to add below
}

func newAuditScreen(e *env) *auditScreen {
	s := &auditScreen{base: newBase(e)}
	s.t = newTable(e.st, "no changes recorded yet", column{"TIME", 16}, column{"WHO", 14}, column{"VIA", 9},
		column{"ACTION", 20}, column{"DETAILS", 0})
	return s
}

func (s *auditScreen) title() string { return "audit log" }

func (s *auditScreen) init() tea.Cmd { return s.load(0) }

func (s *auditScreen) load(before int64) tea.Cmd {
	return s.e.call("load the audit log", func(ctx context.Context) (tea.Msg, error) {
		recs, err := s.e.c.Audit(ctx, before, auditPage)
		return auditMsg{s.to(), recs, before > 0}, err
	})
}

func (s *auditScreen) setSize(w, h int) { s.base.setSize(w, h); s.t.setSize(w, h) }
func (s *auditScreen) typing() bool     { return s.t.editing }

func (s *auditScreen) keys() bindings {
	if s.t.editing {
		return bindings{keyEnter, keyCancel}
	}
	if s.end {
		return bindings{keyFilter, keyReload}
	}
	return bindings{keyOlder, keyFilter, keyReload}
}

func (s *auditScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case auditMsg:
		if msg.older {
			s.recs = append(s.recs, msg.recs...)
		} else {
			s.recs = msg.recs
		}
		s.end, s.loaded = len(msg.recs) < auditPage, true
		rows := make([][]string, len(s.recs))
		for i, r := range s.recs {
			who := r.Username
			if who == "" {
				who = "-"
			}
			if r.TokenID != "" {
				who += " (token)"
			}
			rows[i] = []string{r.At.Local().Format("2006-01-02 15:04"), who, r.Channel, r.Action, auditDetails(r)}
		}
		s.t.setRows(rows)
	case tea.KeyMsg:
		if used, cmd := s.t.update(msg); used {
			return cmd
		}
		switch {
		case key.Matches(msg, keyReload):
			return s.init()
		case key.Matches(msg, keyOlder) && !s.end && len(s.recs) > 0:
			return s.load(s.recs[len(s.recs)-1].ID)
		}
	}
	return nil
}

// auditDetails puts a record's target and details on one line.
func auditDetails(r client.AuditRecord) string {
	parts := make([]string, 0, len(r.Details)+1)
	keys := make([]string, 0, len(r.Details))
	for k := range r.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, r.Details[k]))
	}
	if r.Target != "" && len(parts) == 0 {
		parts = append(parts, r.Target)
	}
	return strings.Join(parts, " ")
}

func (s *auditScreen) view() string { return s.t.view() }
