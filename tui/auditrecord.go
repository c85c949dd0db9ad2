package tui

import (
	"encoding/json"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/tui/client"
)

// auditRecordScreen shows one audit record whole: every field, and its
// details as indented JSON.
type auditRecordScreen struct {
	base
	r client.AuditRecord
	p pane
}

func newAuditRecordScreen(e *env, r client.AuditRecord) *auditRecordScreen {
	return &auditRecordScreen{base: newBase(e), r: r}
}

func (s *auditRecordScreen) title() string { return fmt.Sprintf("record %d", s.r.ID) }
func (s *auditRecordScreen) init() tea.Cmd { return nil }

func (s *auditRecordScreen) setSize(w, h int) {
	s.base.setSize(w, h)
	first := s.p.lines == nil
	s.p.setSize(w, h)
	if first {
		s.p.setText(s.content())
	}
}

func (s *auditRecordScreen) keys() bindings { return append(bindings{keyScroll}, s.p.keys()...) }

func (s *auditRecordScreen) update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		s.p.update(k)
	}
	return nil
}

func (s *auditRecordScreen) view() string { return s.p.view() }

// content lists the record's fields, those it has, and its details.
func (s *auditRecordScreen) content() string {
	st := s.e.st
	r := s.r
	who := r.Username
	if r.UserID != "" {
		who = strings.TrimSpace(who + " (" + r.UserID + ")")
	}
	fields := [][2]string{
		{"at", r.At.Local().Format("2006-01-02 15:04:05.000")},
		{"action", r.Action},
		{"who", who},
		{"token", r.TokenID},
		{"channel", r.Channel},
		{"from", r.Remote},
		{"app", r.AppID},
		{"target", r.Target},
	}
	var lines []string
	for _, f := range fields {
		if f[1] != "" {
			lines = append(lines, st.label.Render(fmt.Sprintf("%-8s", f[0]))+" "+safe(f[1]))
		}
	}
	lines = append(lines, "", st.header.Render("details"))
	if len(r.Details) == 0 {
		return strings.Join(append(lines, st.faint.Render("(none)")), "\n")
	}
	b, err := json.MarshalIndent(r.Details, "", "  ")
	if err != nil {
		b = []byte(fmt.Sprint(r.Details))
	}
	return strings.Join(append(lines, safeText(string(b))), "\n")
}
