package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/tui/client"
)

var (
	keyEdit   = bind([]string{"enter", "e"}, "enter", "edit")
	keyNew    = bind([]string{"n"}, "n", "new script")
	keyRoutes = bind([]string{"t"}, "t", "routes")
	keyTry    = bind([]string{"x"}, "x", "try it")
	keyDelete = bind([]string{"d"}, "d", "delete")
)

// newScriptSource is what a new script starts with.
const newScriptSource = `export default {
  async fetch(request, env, ctx) {
    return { hello: "world" }
  }
}
`

// scriptsScreen lists an app's scripts with their routes and last status.
type scriptsScreen struct {
	list
	app     client.App
	scripts []client.Script
	routes  map[string][]client.Route
	last    map[string]client.Execution
	recent  map[string][]int64 // requests per minute of the last sparkMinutes, by script
}

type scriptsMsg struct {
	to
	scripts []client.Script
	routes  map[string][]client.Route
	last    map[string]client.Execution
	rollups []client.Rollup // of the last sparkMinutes; nil when the daemon keeps none
	at      time.Time       // when they were read
}

// sparkMinutes is how many minutes of requests the scripts screen draws.
const sparkMinutes = 15

type scriptCreatedMsg struct {
	to
	s client.Script
}

type scriptDeletedMsg struct {
	to
	name string
}

func newScriptsScreen(e *env, app client.App) *scriptsScreen {
	empty := "no scripts yet"
	if e.can(access.WriteApp, app.ID) {
		empty += ": press n to write one"
	}
	return &scriptsScreen{app: app, list: newList(e, empty,
		column{"SCRIPT", 16, 0}, column{"VER", 4, 0}, column{"ROUTES", 0, 0}, column{"LAST 15 MIN", sparkMinutes, 0}, column{"LAST RUN", 20, 0}).withDialog("create")}
}

func (s *scriptsScreen) resume() tea.Cmd { return s.init() }

func (s *scriptsScreen) title() string { return s.app.Name }

func (s *scriptsScreen) init() tea.Cmd {
	return s.e.call("load scripts", func(ctx context.Context) (tea.Msg, error) {
		scripts, err := s.e.c.Scripts(ctx, s.app.ID)
		if err != nil {
			return nil, err
		}
		msg := scriptsMsg{to: s.to(), scripts: scripts, routes: map[string][]client.Route{}, last: map[string]client.Execution{}}
		for _, sc := range scripts {
			if msg.routes[sc.ID], err = s.e.c.Routes(ctx, sc.ID); err != nil {
				return nil, err
			}
		}
		logs, err := s.e.c.Logs(ctx, s.app.ID, "", 200)
		if err != nil {
			return nil, err
		}
		for _, l := range logs {
			if _, seen := msg.last[l.ScriptID]; !seen {
				msg.last[l.ScriptID] = l
			}
		}
		// The rollups are a nicety: a daemon without them still lists.
		msg.at = time.Now()
		msg.rollups, _ = s.e.c.Rollups(ctx, s.app.ID, fmt.Sprintf("%dm", sparkMinutes))
		return msg, nil
	})
}

func (s *scriptsScreen) keys() bindings {
	if !s.e.can(access.WriteApp, s.app.ID) {
		return s.list.keys(bindings{keyEdit, keyRoutes, keyTry, keyTriggers, keyLogs, keyFilter, keyReload})
	}
	return s.list.keys(bindings{keyEdit, keyNew, keyRoutes, keyTry, keyTriggers, keyLogs, keyDelete, keyFilter, keyReload})
}

func (s *scriptsScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case scriptsMsg:
		cur, _ := s.current()
		s.scripts, s.routes, s.last, s.loaded = msg.scripts, msg.routes, msg.last, true
		s.recent, _ = perMinute(msg.rollups, sparkMinutes, msg.at)
		s.refresh()
		s.selectScript(cur.ID)
		return nil
	case scriptCreatedMsg:
		// In the list's order (by name), and under the cursor, so that
		// the keys after the editor act on it.
		i, _ := slices.BinarySearchFunc(s.scripts, msg.s.Name, func(sc client.Script, name string) int { return strings.Compare(sc.Name, name) })
		s.scripts = slices.Insert(s.scripts, i, msg.s)
		s.refresh()
		s.selectScript(msg.s.ID)
		return tea.Batch(s.init(), push(newEditorScreen(s.e, s.app, msg.s)))
	case scriptDeletedMsg:
		return tea.Batch(s.init(), info("deleted "+msg.name))
	}
	return s.dispatch(msg, s.init, s.onKey)
}

// onKey starts a new script, or opens or deletes the one under the cursor.
func (s *scriptsScreen) onKey(k tea.KeyMsg) tea.Cmd {
	sc, ok := s.current()
	writes := s.e.can(access.WriteApp, s.app.ID)
	switch {
	case key.Matches(k, keyNew) && writes:
		return s.in.ask(s.e.st, "name of the new script", "", s.create)
	case key.Matches(k, keyLogs):
		if ok {
			return push(newLogsScreen(s.e, s.app, &sc))
		}
		return push(newLogsScreen(s.e, s.app, nil))
	case !ok:
	case key.Matches(k, keyEdit):
		return push(newEditorScreen(s.e, s.app, sc))
	case key.Matches(k, keyRoutes):
		return push(newRoutesScreen(s.e, s.app, sc))
	case key.Matches(k, keyTriggers):
		return push(newTriggersScreen(s.e, s.app, sc))
	case key.Matches(k, keyTry):
		return push(newTryScreen(s.e, s.app, sc, s.routes[sc.ID]))
	case key.Matches(k, keyDelete) && writes:
		s.ask.ask(fmt.Sprintf("delete %s with its versions and routes?", sc.Name), func() tea.Cmd {
			return s.e.call("delete "+sc.Name, func(ctx context.Context) (tea.Msg, error) {
				return scriptDeletedMsg{s.to(), sc.Name}, s.e.c.DeleteScript(ctx, sc.ID)
			})
		})
	}
	return nil
}

// create makes a script with a starting source and opens it.
func (s *scriptsScreen) create(name string) tea.Cmd {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil
	}
	return s.e.call("create "+name, func(ctx context.Context) (tea.Msg, error) {
		sc, err := s.e.c.CreateScript(ctx, s.app.ID, name, newScriptSource)
		return scriptCreatedMsg{s.to(), sc}, err
	})
}

// selectScript puts the cursor on the script with the given id, if shown;
// the list's rows move when scripts come and go.
func (s *scriptsScreen) selectScript(id string) {
	if id == "" {
		return
	}
	for i, sc := range s.scripts {
		if sc.ID == id {
			s.t.selectRow(i)
		}
	}
}

func (s *scriptsScreen) current() (client.Script, bool) {
	i := s.t.selected()
	if i < 0 || i >= len(s.scripts) {
		return client.Script{}, false
	}
	return s.scripts[i], true
}

// refresh fills the table from the scripts, their routes and last runs.
func (s *scriptsScreen) refresh() {
	rows := make([][]string, len(s.scripts))
	for i, sc := range s.scripts {
		var rs []string
		for _, r := range s.routes[sc.ID] {
			rs = append(rs, r.Method+" "+r.Path)
		}
		routes := strings.Join(rs, ", ")
		if routes == "" {
			routes = "-"
		}
		ver := fmt.Sprint(sc.ActiveVersion)
		if sc.LatestVersion != sc.ActiveVersion {
			ver += "/" + fmt.Sprint(sc.LatestVersion)
		}
		rows[i] = []string{sc.Name, ver, routes, sparkline(s.recent[sc.ID]), lastStatus(s.last[sc.ID])}
	}
	s.t.setRows(rows)
}

// lastStatus sums up an execution: its status and, for a failure, its
// error code.
func lastStatus(e client.Execution) string {
	if e.Status == 0 {
		return "never run"
	}
	if e.ErrorCode != "" {
		return fmt.Sprintf("%d %s", e.Status, e.ErrorCode)
	}
	return fmt.Sprintf("%d %s", e.Status, duration(e.DurationUS))
}

// duration formats microseconds for a person.
func duration(us int64) string {
	switch {
	case us < 1000:
		return fmt.Sprintf("%dµs", us)
	case us < 1000000:
		return fmt.Sprintf("%.1fms", float64(us)/1000)
	}
	return fmt.Sprintf("%.2fs", float64(us)/1e6)
}
