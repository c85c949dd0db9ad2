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
	list
	recs []client.AuditRecord
	end  bool // no older records
}

type auditMsg struct {
	to
	recs  []client.AuditRecord
	older bool // a page to add below
}

func newAuditScreen(e *env) *auditScreen {
	return &auditScreen{list: newList(e, "no changes recorded yet", column{"TIME", 16, 0}, column{"WHO", 14, 0}, column{"VIA", 9, 0},
		column{"ACTION", 20, 0}, column{"DETAILS", 0, 0})}
}

func (s *auditScreen) title() string { return "audit log" }

func (s *auditScreen) init() tea.Cmd { return s.load(0) }

func (s *auditScreen) load(before int64) tea.Cmd {
	return s.e.call("load the audit log", func(ctx context.Context) (tea.Msg, error) {
		recs, err := s.e.c.Audit(ctx, before, auditPage)
		return auditMsg{s.to(), recs, before > 0}, err
	})
}

func (s *auditScreen) keys() bindings {
	if s.end {
		return s.list.keys(bindings{keyOpen, keyFilter, keyReload})
	}
	return s.list.keys(bindings{keyOpen, keyOlder, keyFilter, keyReload})
}

func (s *auditScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(auditMsg); ok {
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
		return nil
	}
	return s.dispatch(msg, s.init, s.onKey)
}

// onKey loads older records, or opens the one under the cursor.
func (s *auditScreen) onKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, keyOlder) && !s.end && len(s.recs) > 0:
		return s.load(s.recs[len(s.recs)-1].ID)
	case key.Matches(k, keyOpen):
		if i := s.t.selected(); i >= 0 {
			return push(newAuditRecordScreen(s.e, s.recs[i]))
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
