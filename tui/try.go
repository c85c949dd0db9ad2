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
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/tui/client"
)

var (
	keySend       = bind([]string{"ctrl+s"}, "ctrl+s", "send")
	keyNextField  = bind([]string{"tab"}, "tab", "next field")
	keyPrevField  = bind([]string{"shift+tab"}, "shift+tab", "previous field")
	keyScrollResp = bind([]string{"pgup", "pgdown"}, "pgup/pgdn", "scroll the response")
	keyPretty     = bind([]string{"p"}, "p", "pretty JSON")
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
	resp    pane
	got     *client.Response
	// pretty shows a JSON body indented, rather than as it came.
	pretty bool
	// pos is which of the script's requests sent the fields show; past
	// the last, the request being edited, kept in editing meanwhile.
	pos     int
	editing tryFields
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
	fieldResponse // the response, once there is one: scrolled by plain keys
	fieldCount
)

var routeParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

func newTryScreen(e *env, app client.App, sc client.Script, routes []client.Route) *tryScreen {
	st := e.st
	s := &tryScreen{base: newBase(e), app: app, script: sc}
	s.method = st.input("", "GET")
	s.path = st.input("", "/path")
	s.host = st.input("", "the default app's host")
	if app.ID != model.DefaultAppID {
		s.host.Placeholder = "a host name the app claims"
	}
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
	s.restore()
	s.focus = fieldPath
	s.applyFocus()
	return s
}

func (s *tryScreen) title() string { return "try " + s.script.Name }

// close keeps the fields for the next opening, however try it is left.
func (s *tryScreen) close() { s.keepDraft() }

// init fills in the host, for an app other than the default one, with a
// host name the app claims: without one the request would go to the
// default app.
func (s *tryScreen) init() tea.Cmd {
	if s.app.ID == model.DefaultAppID || s.host.Value() != "" {
		return textinput.Blink
	}
	return tea.Batch(textinput.Blink, s.e.call("load the app's domains", func(ctx context.Context) (tea.Msg, error) {
		ds, err := s.e.c.Domains(ctx, s.app.ID)
		return tryHostMsg{s.to(), hostOf(ds)}, err
	}))
}

// tryHostMsg brings a host name of the app, "" when it claims none.
type tryHostMsg struct {
	to
	host string
}

// hostOf is a host name that reaches an app with domains ds: its first
// exact name, else its first pattern with "www" for the wildcard; "" for
// none.
func hostOf(ds []client.Domain) string {
	for _, d := range ds {
		if !strings.Contains(d.Pattern, "*") {
			return d.Pattern
		}
	}
	if len(ds) > 0 {
		return strings.Replace(ds[0].Pattern, "*", "www", 1)
	}
	return ""
}
func (s *tryScreen) typing() bool { return s.focus != fieldResponse }

func (s *tryScreen) keys() bindings {
	if s.focus == fieldResponse {
		return append(append(bindings{keySend, keyNextField, keyPretty}, s.resp.keys()...), keyScroll, keyPrevField, keyPrevRequest, keyNextRequest)
	}
	return bindings{keySend, keyNextField, keyPrevField, keyPrevRequest, keyNextRequest, keyScrollResp, keyLeave}
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
	s.resp.setSize(w, max(1, h-9))
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

// moveFocus moves the focus by step fields, round; the response is one of
// them once there is one.
func (s *tryScreen) moveFocus(step int) {
	n := fieldCount
	if s.got == nil {
		n = fieldResponse
	}
	s.focus = (s.focus + step + n) % n
	s.applyFocus()
}

func (s *tryScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(tryHostMsg); ok {
		switch {
		case s.host.Value() != "":
		case msg.host == "":
			s.host.Placeholder = "the app claims no host name: the default app's host"
		default:
			s.host.SetValue(msg.host)
		}
		return nil
	}
	if msg, ok := msg.(responseMsg); ok {
		s.got = &msg.r
		s.resp.setText(s.describe(msg.r))
		s.focus = fieldResponse
		s.applyFocus()
		return nil
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, keySend):
			return s.send()
		case key.Matches(k, keyNextField):
			s.moveFocus(1)
			return nil
		case key.Matches(k, keyPrevField):
			s.moveFocus(-1)
			return nil
		case k.String() == "pgup" || k.String() == "pgdown":
			s.resp.update(k)
			return nil
		case key.Matches(k, keyPrevRequest):
			return s.browse(-1)
		case key.Matches(k, keyNextRequest):
			return s.browse(1)
		case k.String() == "esc":
			return pop
		case s.focus == fieldResponse:
			return s.onResponseKey(k)
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

// onResponseKey scrolls the response, or shows its body pretty or as it
// came.
func (s *tryScreen) onResponseKey(k tea.KeyMsg) tea.Cmd {
	if !key.Matches(k, keyPretty) {
		s.resp.update(k)
		return nil
	}
	if !s.pretty && !json.Valid([]byte(s.got.Body)) {
		return func() tea.Msg { return infoMsg("the body is not JSON: it shows as it came") }
	}
	s.pretty = !s.pretty
	s.resp.setText(s.describe(*s.got))
	return nil
}

// send builds the request from the fields and sends it.
func (s *tryScreen) send() tea.Cmd {
	req, err := s.request()
	if err != nil {
		return func() tea.Msg { return errMsg{"send", err} }
	}
	s.sent()
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

// describe renders a response: status line, headers, body. The body is
// shown as it came, each space and line break kept, or when pretty and it
// is JSON, indented.
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
	body := r.Body
	if s.pretty {
		if pretty, err := indentJSON(r.Body); err == nil {
			body = pretty
		}
	}
	lines = append(lines, "", safeText(body))
	if r.Truncated {
		lines = append(lines, st.faint.Render("(the rest of the body is not shown)"))
	}
	return strings.Join(lines, "\n")
}

// separator is the line above the response: focused when the response
// is, with where the response is scrolled to and how its body shows.
func (s *tryScreen) separator() string {
	st := s.e.st
	var about []string
	if h := s.historyNote(); h != "" {
		about = append(about, h)
	}
	if s.got == nil {
		head := ""
		if len(about) > 0 {
			head = "── " + strings.Join(about, " · ") + " "
		}
		return st.faint.Render(head + strings.Repeat("─", max(0, s.w-ansi.StringWidth(head))))
	}
	if s.pretty {
		about = append(about, "JSON indented (p: as it came)")
	}
	if p := s.resp.position(); p != "" {
		about = append(about, p)
	}
	if s.resp.wrap {
		about = append(about, "lines wrapped")
	}
	head := "── RESPONSE "
	if s.focus == fieldResponse {
		head = "──▸RESPONSE "
	}
	if len(about) > 0 {
		head += "· " + strings.Join(about, " · ") + " "
	}
	head = ansi.Truncate(head, s.w, "")
	line := head + strings.Repeat("─", max(0, s.w-ansi.StringWidth(head)))
	if s.focus == fieldResponse {
		return st.focused.Render(line)
	}
	return st.faint.Render(line)
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
		s.separator(),
	}
	if s.got == nil {
		out = append(out, st.faint.Render("ctrl+s sends the request; the response shows here"))
	} else {
		out = append(out, s.resp.view())
	}
	return strings.Join(out, "\n")
}

// indentJSON is a JSON text indented by two spaces a level.
func indentJSON(s string) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	var v json.RawMessage
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "", fmt.Errorf("read the body as JSON: %w", err)
	}
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("indent the JSON body: %w", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
