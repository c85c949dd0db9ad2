package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/tui/client"
)

var keyInbox = bind([]string{"M"}, "M", "received mail")

// inboxScreen lists the mail an app received, newest first, with its
// state: enter opens a message, x delivers a failed or rejected one again,
// d deletes one (editors). It is the queue messages' screen for mail.
type inboxScreen struct {
	list
	app  client.App
	msgs []client.InboxMessage
}

type inboxMsg struct {
	to
	msgs []client.InboxMessage
}

func newInboxScreen(e *env, app client.App) *inboxScreen {
	return &inboxScreen{app: app, list: newList(e, "no mail: an email trigger's address receives it",
		column{"RECEIVED", 19, 0}, column{"STATE", 9, 0}, column{"TRIES", 5, 0}, column{"FROM", 0, 20},
		column{"SUBJECT", 0, 0}, column{"WHY", 0, 0}).withDialog("")}
}

func (s *inboxScreen) resume() tea.Cmd { return s.init() }

func (s *inboxScreen) title() string { return "mail received by " + s.app.Name }

func (s *inboxScreen) init() tea.Cmd { return s.e.call("load the mail", s.fetch) }

func (s *inboxScreen) fetch(ctx context.Context) (tea.Msg, error) {
	ms, err := s.e.c.InboxMessages(ctx, s.app.ID)
	return inboxMsg{s.to(), ms}, err
}

func (s *inboxScreen) keys() bindings {
	if !s.e.can(access.WriteApp, s.app.ID) {
		return s.list.keys(bindings{keyOpen, keyFilter, keyReload})
	}
	return s.list.keys(bindings{keyOpen, keyRetry, keyDelete, keyFilter, keyReload})
}

func (s *inboxScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(inboxMsg); ok {
		s.msgs, s.loaded = msg.msgs, true
		rows := make([][]string, len(s.msgs))
		for i, m := range s.msgs {
			rows[i] = []string{m.ReceivedAt.Local().Format("2006-01-02 15:04:05"), m.State, strconv.Itoa(m.Attempts),
				m.From, m.Subject, m.LastError + m.RejectReason}
		}
		s.t.setRows(rows)
		return nil
	}
	return s.dispatch(msg, s.init, s.onKey)
}

func (s *inboxScreen) onKey(k tea.KeyMsg) tea.Cmd {
	i := s.t.selected()
	if i < 0 {
		return nil
	}
	m := s.msgs[i]
	write := s.e.can(access.WriteApp, s.app.ID)
	switch {
	case key.Matches(k, keyOpen):
		return push(newMailScreen(s.e, s.app, m))
	case key.Matches(k, keyRetry) && write:
		return s.e.change("deliver the message again", func(ctx context.Context) error {
			return s.e.c.RetryInboxMessage(ctx, s.app.ID, m.ID)
		}, s.fetch)
	case key.Matches(k, keyDelete) && write:
		s.ask.ask("delete this message? It is gone for good", func() tea.Cmd {
			return s.e.change("delete the message", func(ctx context.Context) error {
				return s.e.c.DeleteInboxMessage(ctx, s.app.ID, m.ID)
			}, s.fetch)
		})
	}
	return nil
}

// mailScreen shows one received message: its envelope and delivery, then
// the message as received.
type mailScreen struct {
	base
	app client.App
	m   client.InboxMessage
	p   pane
}

type mailMsg struct {
	to
	m client.InboxMessage
}

func newMailScreen(e *env, app client.App, m client.InboxMessage) *mailScreen {
	return &mailScreen{base: newBase(e), app: app, m: m}
}

func (s *mailScreen) title() string { return "mail " + s.m.ID }

func (s *mailScreen) init() tea.Cmd {
	return s.e.call("load the message", func(ctx context.Context) (tea.Msg, error) {
		m, err := s.e.c.InboxMessage(ctx, s.app.ID, s.m.ID)
		return mailMsg{s.to(), m}, err
	})
}

func (s *mailScreen) setSize(w, h int) {
	s.base.setSize(w, h)
	s.p.setSize(w, h)
	s.p.setText(s.content())
}

func (s *mailScreen) keys() bindings { return append(bindings{keyScroll}, s.p.keys()...) }

func (s *mailScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case mailMsg:
		s.m, s.loaded = msg.m, true
		s.p.setText(s.content())
	case tea.KeyMsg:
		s.p.update(msg)
	}
	return nil
}

func (s *mailScreen) view() string { return s.p.view() }

// content is the message's fields, those it has, and its text.
func (s *mailScreen) content() string {
	st, m := s.e.st, s.m
	why := m.LastError
	if m.RejectReason != "" {
		why = m.RejectReason
	}
	var lines []string
	for _, f := range [][2]string{
		{"received", m.ReceivedAt.Local().Format("2006-01-02 15:04:05")},
		{"from", m.From},
		{"to", m.To},
		{"subject", m.Subject},
		{"size", strconv.Itoa(m.Size) + " bytes"},
		{"state", fmt.Sprintf("%s after %d attempts", m.State, m.Attempts)},
		{"why", why},
	} {
		if f[1] != "" {
			lines = append(lines, st.label.Render(fmt.Sprintf("%-8s", f[0]))+" "+safe(f[1]))
		}
	}
	lines = append(lines, "", st.header.Render("message"))
	switch {
	case !s.loaded:
		lines = append(lines, st.faint.Render("loading…"))
	case m.RawTruncated:
		lines = append(lines, safeText(strings.ReplaceAll(m.Raw, "\r\n", "\n")), st.faint.Render("(cut at 1 MiB)"))
	default:
		lines = append(lines, safeText(strings.ReplaceAll(m.Raw, "\r\n", "\n")))
	}
	return strings.Join(lines, "\n")
}
