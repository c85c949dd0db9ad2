package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/tui/client"
)

var (
	keySend       = bind([]string{"ctrl+s"}, "ctrl+s", "send")
	keyNextField  = bind([]string{"tab"}, "tab", "next field")
	keyPrevField  = bind([]string{"shift+tab"}, "shift+tab", "previous field")
	keyScrollResp = bind([]string{"pgup", "pgdown"}, "pgup/pgdn", "scroll the response")
)

// tryScreen sends a request to a script, by its route or by id, and shows
// the response.
type tryScreen struct {
	base
	app     client.App
	script  client.Script
	method  textinput.Model
	path    textinput.Model
	host    textinput.Model
	headers textarea.Model
	body    textarea.Model
	focus   int
	resp    viewport.Model
	got     *client.Response
}

type responseMsg struct {
	to
	r client.Response
}

const (
	fieldMethod = iota
	fieldPath
	fieldHost
	fieldHeaders
	fieldBody
	fieldCount
)

var routeParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

func newTryScreen(e *env, app client.App, sc client.Script, routes []client.Route) *tryScreen {
	st := e.st
	s := &tryScreen{base: newBase(e), app: app, script: sc}
	s.method = st.input("", "GET")
	s.path = st.input("", "/path")
	s.host = st.input("", "any host of the app")
	s.headers = st.editor()
	s.headers.ShowLineNumbers = false
	s.headers.Placeholder = "Name: value, one per line"
	s.body = st.editor()
	s.body.ShowLineNumbers = false
	method, path := "GET", "/api/v1/execute/"+sc.ID
	if len(routes) > 0 {
		r := routes[0]
		if r.Method != "*" {
			method = r.Method
		}
		path = routeParam.ReplaceAllString(r.Path, "$1")
	}
	s.method.SetValue(method)
	s.path.SetValue(path)
	s.path.CursorEnd()
	s.focus = fieldPath
	s.applyFocus()
	return s
}

func (s *tryScreen) title() string { return "try " + s.script.Name }
func (s *tryScreen) init() tea.Cmd { return textinput.Blink }
func (s *tryScreen) typing() bool  { return true }

func (s *tryScreen) keys() bindings {
	return bindings{keySend, keyNextField, keyPrevField, keyScrollResp, keyLeave}
}

func (s *tryScreen) setSize(w, h int) {
	s.base.setSize(w, h)
	s.method.Width = 8
	s.path.Width = max(10, w-26)
	s.host.Width = max(10, w-12)
	s.headers.SetWidth(max(10, w-10))
	s.headers.SetHeight(2)
	s.body.SetWidth(max(10, w-10))
	s.body.SetHeight(3)
	s.resp.Width, s.resp.Height = w, max(1, h-9)
}

func (s *tryScreen) applyFocus() {
	s.method.Blur()
	s.path.Blur()
	s.host.Blur()
	s.headers.Blur()
	s.body.Blur()
	switch s.focus {
	case fieldMethod:
		s.method.Focus()
	case fieldPath:
		s.path.Focus()
	case fieldHost:
		s.host.Focus()
	case fieldHeaders:
		s.headers.Focus()
	case fieldBody:
		s.body.Focus()
	}
}

func (s *tryScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(responseMsg); ok {
		s.got = &msg.r
		s.resp = viewport.New(s.w, max(1, s.h-9))
		s.resp.SetContent(s.describe(msg.r))
		return nil
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, keySend):
			return s.send()
		case key.Matches(k, keyNextField):
			s.focus = (s.focus + 1) % fieldCount
			s.applyFocus()
			return nil
		case key.Matches(k, keyPrevField):
			s.focus = (s.focus + fieldCount - 1) % fieldCount
			s.applyFocus()
			return nil
		case k.String() == "pgup" || k.String() == "pgdown":
			var cmd tea.Cmd
			s.resp, cmd = s.resp.Update(msg)
			return cmd
		case k.String() == "esc":
			return pop
		}
	}
	var cmd tea.Cmd
	switch s.focus {
	case fieldMethod:
		s.method, cmd = s.method.Update(msg)
	case fieldPath:
		s.path, cmd = s.path.Update(msg)
	case fieldHost:
		s.host, cmd = s.host.Update(msg)
	case fieldHeaders:
		s.headers, cmd = s.headers.Update(msg)
	case fieldBody:
		s.body, cmd = s.body.Update(msg)
	}
	return cmd
}

// send builds the request from the fields and sends it.
func (s *tryScreen) send() tea.Cmd {
	req, err := s.request()
	if err != nil {
		return func() tea.Msg { return errMsg{"send", err} }
	}
	return s.e.call("send "+req.Method+" "+req.Path, func(ctx context.Context) (tea.Msg, error) {
		r, err := s.e.c.Send(ctx, req)
		return responseMsg{s.to(), r}, err
	})
}

// request is the request the fields describe. A JSON body goes as JSON
// unless the headers say otherwise.
func (s *tryScreen) request() (client.Request, error) {
	method := strings.ToUpper(strings.TrimSpace(s.method.Value()))
	if method == "" {
		method = "GET"
	}
	h := http.Header{}
	for _, line := range strings.Split(s.headers.Value(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return client.Request{}, fmt.Errorf("header %q is not Name: value", line)
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if body := strings.TrimSpace(s.body.Value()); body != "" && h.Get("Content-Type") == "" && json.Valid([]byte(body)) {
		h.Set("Content-Type", "application/json")
	}
	return client.Request{Method: method, Path: strings.TrimSpace(s.path.Value()), Host: strings.TrimSpace(s.host.Value()),
		Headers: h, Body: s.body.Value()}, nil
}

// describe renders a response: status line, headers, body.
func (s *tryScreen) describe(r client.Response) string {
	st := s.e.st
	status := fmt.Sprintf("%d %s", r.Status, http.StatusText(r.Status))
	switch {
	case r.Status >= 500:
		status = st.err.Render(status)
	case r.Status >= 400:
		status = st.warn.Render(status)
	default:
		status = st.ok.Render(status)
	}
	lines := []string{status + st.faint.Render(fmt.Sprintf(" in %s", r.Duration.Round(100_000)))}
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		if k != "Date" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		lines = append(lines, st.faint.Render(safe(k+": "+strings.Join(r.Header[k], ", "))))
	}
	lines = append(lines, "", wrap(safeText(r.Body), s.w))
	if r.Truncated {
		lines = append(lines, st.faint.Render("(the rest of the body is not shown)"))
	}
	return strings.Join(lines, "\n")
}

func (s *tryScreen) view() string {
	st := s.e.st
	label := func(name string, field int) string {
		l := fmt.Sprintf("%-8s", name)
		if s.focus == field {
			return st.focused.Render("▸" + l)
		}
		return " " + st.label.Render(l)
	}
	indent := func(v string, field int, name string) string {
		lines := strings.Split(v, "\n")
		for i := range lines {
			if i == 0 {
				lines[i] = label(name, field) + " " + lines[i]
			} else {
				lines[i] = strings.Repeat(" ", 10) + lines[i]
			}
		}
		return strings.Join(lines, "\n")
	}
	out := []string{
		label("METHOD", fieldMethod) + " " + pad(drawWidget(s.method.View()), 10) + label("PATH", fieldPath) + " " + drawWidget(s.path.View()),
		label("HOST", fieldHost) + " " + drawWidget(s.host.View()),
		indent(drawWidget(s.headers.View()), fieldHeaders, "HEADERS"),
		indent(drawWidget(s.body.View()), fieldBody, "BODY"),
		st.faint.Render(strings.Repeat("─", s.w)),
	}
	if s.got == nil {
		out = append(out, st.faint.Render("ctrl+s sends the request; the response shows here"))
	} else {
		out = append(out, s.resp.View())
	}
	return strings.Join(out, "\n")
}
