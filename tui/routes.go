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
	keyAddRoute = bind([]string{"a"}, "a", "add route")
	keyMatch    = bind([]string{"m"}, "m", "which script would a request reach")
)

// routesScreen lists a script's routes: add (checked for conflicts first),
// delete, and ask which script a request would reach.
type routesScreen struct {
	list
	app    client.App
	script client.Script
	routes []client.Route
	note   []string // the last check or match, shown under the table
}

type routesMsg struct {
	to
	routes []client.Route
}

type routeCheckedMsg struct {
	to
	method, path string
	check        client.RouteCheck
	// names are the app's scripts by id, to name those of the conflicts.
	names map[string]string
}

type routeAddedMsg struct {
	to
	r client.Route
}

type matchMsg struct {
	to
	query string
	m     client.Match
}

func newRoutesScreen(e *env, app client.App, sc client.Script) *routesScreen {
	return &routesScreen{app: app, script: sc, list: newList(e, "no routes: press a to add one, e.g. GET /hello/:name",
		column{"METHOD", 8, 0}, column{"PATH", 0, 0}).withDialog("go")}
}

func (s *routesScreen) resume() tea.Cmd { return s.init() }

func (s *routesScreen) title() string { return "routes of " + s.script.Name }

func (s *routesScreen) init() tea.Cmd { return s.e.call("load routes", s.fetch) }

// fetch reads the script's routes.
func (s *routesScreen) fetch(ctx context.Context) (tea.Msg, error) {
	rs, err := s.e.c.Routes(ctx, s.script.ID)
	return routesMsg{s.to(), rs}, err
}

// setSize keeps the lines of the note under the table.
func (s *routesScreen) setSize(w, h int) { s.base.setSize(w, h); s.t.setSize(w, s.tableHeight()) }

func (s *routesScreen) tableHeight() int { return max(3, s.h-1-len(s.note)) }

func (s *routesScreen) keys() bindings {
	return s.list.keys(bindings{keyAddRoute, keyDelete, keyMatch, keyFilter, keyReload})
}

func (s *routesScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case routesMsg:
		s.routes, s.loaded = msg.routes, true
		sort.Slice(s.routes, func(i, j int) bool { return s.routes[i].Path < s.routes[j].Path })
		rows := make([][]string, len(s.routes))
		for i, r := range s.routes {
			rows[i] = []string{r.Method, r.Path}
		}
		s.t.setRows(rows)
		return nil
	case routeCheckedMsg:
		if !msg.check.OK {
			s.setNote(append([]string{s.e.st.err.Render(safe(fmt.Sprintf("✗ %s %s conflicts with:", msg.method, msg.path)))}, describeRoutes(msg.check.Conflicts, msg.names)...))
			return nil
		}
		return s.e.call("add "+msg.method+" "+msg.path, func(ctx context.Context) (tea.Msg, error) {
			r, err := s.e.c.AddRoute(ctx, s.script.ID, msg.method, msg.path)
			return routeAddedMsg{s.to(), r}, err
		})
	case routeAddedMsg:
		s.setNote([]string{s.e.st.ok.Render(safe(fmt.Sprintf("✓ %s %s now reaches %s", msg.r.Method, msg.r.Path, s.script.Name)))})
		return s.init()
	case matchMsg:
		m := msg.m
		switch {
		case !m.Matched && m.Reason != "":
			s.setNote([]string{safe("→ " + msg.query + ": no match (" + m.Reason + ")")})
		case !m.Matched:
			s.setNote([]string{safe("→ " + msg.query + ": no script; the request would get 404")})
		default:
			line := fmt.Sprintf("→ %s reaches %s version %d", msg.query, m.ScriptName, m.Version)
			if len(m.Params) > 0 {
				var ps []string
				for k, v := range m.Params {
					ps = append(ps, k+"="+v)
				}
				sort.Strings(ps)
				line += ", params " + strings.Join(ps, " ")
			}
			note := []string{safe(line)}
			if chain := chainNote(m.Interceptors); chain != "" {
				note = append(note, safe(chain))
			}
			s.setNote(note)
		}
		return nil
	}
	return s.dispatch(msg, s.init, s.onKey)
}

// onKey asks for a route to add or a request to match, or deletes the
// route under the cursor.
func (s *routesScreen) onKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, keyAddRoute):
		return s.in.askHint(s.e.st, "new route (METHOD /path)", "GET /hello/:name", s.add)
	case key.Matches(k, keyMatch):
		return s.in.askHint(s.e.st, "request ([host] METHOD /path)", "GET /hello/pi", s.match)
	case key.Matches(k, keyDelete):
		if i := s.t.selected(); i >= 0 {
			r := s.routes[i]
			s.ask.ask(fmt.Sprintf("delete %s %s?", r.Method, r.Path), func() tea.Cmd {
				return s.e.change("delete route", func(ctx context.Context) error { return s.e.c.DeleteRoute(ctx, r.ID) }, s.fetch)
			})
		}
	}
	return nil
}

// add checks a route for conflicts, and adds it when there are none.
func (s *routesScreen) add(v string) tea.Cmd {
	f := strings.Fields(v)
	if len(f) != 2 {
		return func() tea.Msg {
			return errMsg{"add route", fmt.Errorf("give a method and a path, e.g. GET /hello/:name")}
		}
	}
	method, path := strings.ToUpper(f[0]), f[1]
	return s.e.call("check "+method+" "+path, func(ctx context.Context) (tea.Msg, error) {
		c, err := s.e.c.CheckRoute(ctx, s.app.ID, method, path)
		if err != nil || c.OK {
			return routeCheckedMsg{s.to(), method, path, c, nil}, err
		}
		return routeCheckedMsg{s.to(), method, path, c, s.scriptNames(ctx)}, nil
	})
}

// match asks which script a request would reach.
func (s *routesScreen) match(v string) tea.Cmd {
	f := strings.Fields(v)
	host := ""
	if len(f) == 3 {
		host, f = f[0], f[1:]
	}
	if len(f) != 2 {
		return func() tea.Msg { return errMsg{"match", fmt.Errorf("give [host] METHOD /path, e.g. GET /hello/pi")} }
	}
	method, path := strings.ToUpper(f[0]), f[1]
	query := strings.TrimSpace(host + " " + method + " " + path)
	return s.e.call("match "+query, func(ctx context.Context) (tea.Msg, error) {
		m, err := s.e.c.MatchRoute(ctx, host, method, path)
		return matchMsg{s.to(), query, m}, err
	})
}

func (s *routesScreen) setNote(lines []string) {
	s.note = lines
	s.t.setSize(s.w, s.tableHeight())
}

// scriptNames are the app's scripts' names by id; nil when they cannot be
// read (the conflicts are then named by id).
func (s *routesScreen) scriptNames(ctx context.Context) map[string]string {
	scripts, err := s.e.c.Scripts(ctx, s.app.ID)
	if err != nil {
		return nil
	}
	names := make(map[string]string, len(scripts))
	for _, sc := range scripts {
		names[sc.ID] = sc.Name
	}
	return names
}

// describeRoutes lists routes one per line, each with its script's name
// (from names, by id), or its id when the name is not known.
func describeRoutes(rs []client.Route, names map[string]string) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		script := "script " + shortID(r.ScriptID)
		if n, ok := names[r.ScriptID]; ok {
			script = n
		}
		out[i] = safe(fmt.Sprintf("  %s %s → %s", r.Method, r.Path, script))
	}
	return out
}

// shortID is the first part of a UUID.
func shortID(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}

func (s *routesScreen) view() string { return s.render(s.note) }
