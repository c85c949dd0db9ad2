package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/tui/client"
)

var (
	keyFollow      = bind([]string{"f"}, "f", "follow")
	keyLevel       = bind([]string{"v"}, "v", "level")
	keyScriptCycle = bind([]string{"s"}, "s", "script")
	keyOpen        = bind([]string{"enter"}, "enter", "open")
	keyAppCycle    = bind([]string{"a"}, "a", "app")
)

// maxLogRows is how many executions the logs screen keeps.
const maxLogRows = 1000

// levels are the level filter's steps: every execution, those that warned
// or failed, those that failed.
var levels = []string{"all", "warn", "error"}

// logsScreen shows an app's executions as they happen, from the live
// stream, after the most recent ones; or, for the app client.AllApps,
// those of every app the user may read, with an app filter.
type logsScreen struct {
	list
	app      client.App
	apps     []client.App      // in the view across apps
	appNames map[string]string // app id → name, in the view across apps
	appOnly  string            // the app filter there; "" for all
	names    map[string]string // script id → name
	scripts  []client.Script
	script   string // the script filter; "" for all
	level    int
	all      []client.Execution // oldest first
	shown    []int
	stream   *client.Stream
	live     bool
	// gen numbers the stream opened last: the messages of an older one,
	// and a reconnection planned for it, are ignored.
	gen int
	// opening says a stream is being opened; retryIn, when not 0, that
	// the next try is that far off; tries counts the tries since the
	// stream was last live.
	opening bool
	retryIn time.Duration
	tries   int
	// reopen says the stream was open before: its opening is news.
	reopen bool
	// unseen counts the executions that arrived below the cursor while
	// not following, until the cursor reaches the last row.
	unseen int
}

type logsMsg struct {
	to
	apps    []client.App // in the view across apps
	scripts []client.Script
	logs    []client.Execution
}

type streamMsg struct {
	to
	s   *client.Stream
	gen int
}

// discard closes a stream that arrives for a screen already closed.
func (m streamMsg) discard() { m.s.Close() }

type executionMsg struct {
	to
	e   client.Execution
	gen int
}

// streamEndMsg says the stream numbered gen ended, or (opening) could not
// be opened.
type streamEndMsg struct {
	to
	err     error
	gen     int
	opening bool
}

// reconnectMsg is the time to open the stream again.
type reconnectMsg struct {
	to
	gen int
}

// reconnectDelay is how long to wait before the try-th try (from 0) to
// open the live stream again: 1s, 2s, 4s, 8s, then 15s.
func reconnectDelay(try int) time.Duration {
	if try >= 4 {
		return 15 * time.Second
	}
	return time.Second << try
}

func newLogsScreen(e *env, app client.App, sc *client.Script) *logsScreen {
	s := &logsScreen{app: app, names: map[string]string{}, appNames: map[string]string{}}
	if sc != nil {
		s.script = sc.ID
		s.names[sc.ID] = sc.Name
	}
	script := column{"SCRIPT", 14, 0}
	if s.acrossApps() {
		script = column{"APP/SCRIPT", 20, 0}
	}
	s.list = newList(e, "no executions yet: waiting for requests…",
		// A request rarely needs more than 40 columns; what a wide terminal
		// has beyond goes to the note, where console lines and errors are.
		column{"TIME", 8, 0}, column{"ST", 3, 0}, column{"REQUEST", 0, 40}, script, column{"TOOK", 7, 0}, column{"NOTE", 0, 0})
	s.t.follow = true
	return s
}

// newAllLogsScreen is the logs screen of every app the user may read.
func newAllLogsScreen(e *env) *logsScreen {
	return newLogsScreen(e, client.App{ID: client.AllApps, Name: "all apps"}, nil)
}

func (s *logsScreen) acrossApps() bool { return s.app.ID == client.AllApps }

func (s *logsScreen) title() string { return "logs of " + s.app.Name }

// backlogAgain is when the recent executions are read once more after the
// stream opened: those that ran just before it may not have been written
// yet at the first reading.
const backlogAgain = 2 * time.Second

type reloadLogsMsg struct{ to }

// init opens the live stream first, then reads the recent executions, so
// that none falls between the two.
func (s *logsScreen) init() tea.Cmd { return s.open() }

// open opens the live stream, numbered gen.
func (s *logsScreen) open() tea.Cmd {
	ctx, gen, id, app := s.e.ctx, s.gen, s.to(), s.app.ID
	s.opening, s.retryIn = true, 0
	return func() tea.Msg {
		st, err := s.e.c.Stream(ctx, app, "")
		if err != nil {
			return streamEndMsg{id, err, gen, true}
		}
		return streamMsg{id, st, gen}
	}
}

// restart closes the stream, if open, and opens it anew.
func (s *logsScreen) restart() tea.Cmd {
	s.close()
	s.tries = 0
	return s.open()
}

// retry plans the next try to open the stream, later each time, unless
// the stream cannot come back: the user may not read the logs (403), or
// the session ended (401).
func (s *logsScreen) retry(err error) tea.Cmd {
	if st := client.StatusOf(err); st >= 400 && st < 500 {
		return nil
	}
	s.retryIn = reconnectDelay(s.tries)
	s.tries++
	id, gen := s.to(), s.gen
	return tea.Tick(s.retryIn, func(time.Time) tea.Msg { return reconnectMsg{id, gen} })
}

// load reads the app's scripts (every readable app's, across apps) and
// recent executions.
func (s *logsScreen) load() tea.Cmd {
	return s.e.call("load logs", func(ctx context.Context) (tea.Msg, error) {
		apps := []client.App{s.app}
		if s.acrossApps() {
			var err error
			if apps, err = s.e.c.Apps(ctx); err != nil {
				return nil, err
			}
		}
		var scripts []client.Script
		for _, a := range apps {
			sc, err := s.e.c.Scripts(ctx, a.ID)
			if err != nil {
				return nil, err
			}
			scripts = append(scripts, sc...)
		}
		logs, err := s.e.c.Logs(ctx, s.app.ID, "", 200)
		if !s.acrossApps() {
			apps = nil
		}
		return logsMsg{s.to(), apps, scripts, logs}, err
	})
}

// next waits for the stream's next execution.
func (s *logsScreen) next() tea.Cmd {
	st, id, gen := s.stream, s.to(), s.gen
	return func() tea.Msg {
		e, err := st.Next()
		if err != nil {
			return streamEndMsg{to: id, err: err, gen: gen}
		}
		return executionMsg{id, e, gen}
	}
}

// close closes the stream, if open; what is still to come of it, and a
// planned reconnection, are ignored.
func (s *logsScreen) close() {
	s.gen++
	s.live, s.opening, s.retryIn = false, false, 0
	if s.stream != nil {
		s.stream.Close()
		s.stream = nil
	}
}

// setSize keeps the first line for the state of the stream and filters.
func (s *logsScreen) setSize(w, h int) { s.base.setSize(w, h); s.t.setSize(w, h-1) }

func (s *logsScreen) keys() bindings {
	if s.acrossApps() {
		return s.list.keys(bindings{keyOpen, keyFollow, keyAppCycle, keyScriptCycle, keyLevel, keyFilter, keyReload})
	}
	return s.list.keys(bindings{keyOpen, keyFollow, keyScriptCycle, keyLevel, keyFilter, keyReload})
}

func (s *logsScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case logsMsg:
		s.scripts, s.loaded = msg.scripts, true
		if msg.apps != nil {
			s.apps = msg.apps
			for _, a := range msg.apps {
				s.appNames[a.ID] = a.Name
			}
		}
		for _, sc := range msg.scripts {
			s.names[sc.ID] = sc.Name
		}
		// Records written before the stream opened; the stream may have
		// brought some of them already.
		old := slices.Clone(msg.logs)
		slices.Reverse(old)
		for _, e := range s.all {
			if !slices.ContainsFunc(old, func(o client.Execution) bool { return o.RequestID == e.RequestID }) {
				old = append(old, e)
			}
		}
		s.all = old
		s.refresh()
		return nil
	case streamMsg:
		if msg.gen != s.gen {
			msg.s.Close()
			return nil
		}
		news := ""
		if s.reopen {
			news = "live logs reconnected"
		}
		s.stream, s.live, s.opening, s.tries, s.reopen = msg.s, true, false, 0, true
		id := s.to()
		return tea.Batch(s.next(), s.load(), tea.Tick(backlogAgain, func(time.Time) tea.Msg { return reloadLogsMsg{id} }), info(news))
	case reloadLogsMsg:
		return s.load()
	case reconnectMsg:
		if msg.gen != s.gen {
			return nil
		}
		return s.open()
	case executionMsg:
		if msg.gen != s.gen {
			return nil
		}
		s.all = append(s.all, msg.e)
		if !s.t.follow && s.passes(msg.e) {
			s.unseen++
		}
		if len(s.all) > maxLogRows {
			s.all = s.all[len(s.all)-maxLogRows:]
		}
		s.refresh()
		return s.next()
	case streamEndMsg:
		if msg.gen != s.gen {
			return nil // an older stream's, closed on purpose
		}
		return s.ended(msg)
	}
	cmd := s.dispatch(msg, s.restart, s.onKey)
	if s.t.follow || s.t.cursor >= len(s.t.shown)-1 {
		s.unseen = 0
	}
	return cmd
}

// ended handles the end of the stream, or a failure to open it: it says
// why, unless the daemon merely closed the stream, and plans the next try.
func (s *logsScreen) ended(msg streamEndMsg) tea.Cmd {
	if s.stream != nil {
		s.stream.Close()
		s.stream = nil
	}
	s.live, s.opening = false, false
	what := "live log stream ended"
	if msg.opening {
		what = "open the live log stream"
	}
	var report tea.Cmd
	if !errors.Is(msg.err, io.EOF) {
		err := msg.err
		report = func() tea.Msg { return errMsg{what, err} }
	}
	return tea.Batch(report, s.retry(msg.err))
}

// onKey changes the filters and following, or opens the execution under
// the cursor.
func (s *logsScreen) onKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, keyFollow):
		s.t.follow = !s.t.follow
		s.refresh()
	case key.Matches(k, keyLevel):
		s.level = (s.level + 1) % len(levels)
		s.refresh()
	case key.Matches(k, keyScriptCycle):
		s.cycleScript()
		s.refresh()
	case key.Matches(k, keyAppCycle) && s.acrossApps():
		s.cycleApp()
		s.refresh()
	case key.Matches(k, keyOpen):
		if i := s.t.selected(); i >= 0 {
			e := s.all[s.shown[i]]
			return push(newExecutionScreen(s.e, e, s.names[e.ScriptID]))
		}
	}
	return nil
}

// cycleScript moves the script filter to the next script (of the app
// filter's app, across apps), then to all.
func (s *logsScreen) cycleScript() {
	ids := make([]string, 0, len(s.scripts)+1)
	ids = append(ids, "")
	for _, sc := range s.scripts {
		if s.appOnly == "" || sc.AppID == s.appOnly {
			ids = append(ids, sc.ID)
		}
	}
	i := slices.Index(ids, s.script)
	s.script = ids[(i+1)%len(ids)]
}

// cycleApp moves the app filter to the next app, then to all; the script
// filter starts over.
func (s *logsScreen) cycleApp() {
	ids := make([]string, 0, len(s.apps)+1)
	ids = append(ids, "")
	for _, a := range s.apps {
		ids = append(ids, a.ID)
	}
	i := slices.Index(ids, s.appOnly)
	s.appOnly, s.script = ids[(i+1)%len(ids)], ""
}

// passes applies the app, script and level filters.
func (s *logsScreen) passes(e client.Execution) bool {
	if s.appOnly != "" && e.AppID != s.appOnly {
		return false
	}
	if s.script != "" && e.ScriptID != s.script {
		return false
	}
	switch levels[s.level] {
	case "warn":
		return client.Level(e) == "warn" || client.Level(e) == "error"
	case "error":
		return client.Level(e) == "error"
	}
	return true
}

func (s *logsScreen) refresh() {
	s.shown = s.shown[:0]
	rows := [][]string{}
	for i, e := range s.all {
		if !s.passes(e) {
			continue
		}
		s.shown = append(s.shown, i)
		name := s.scriptName(e.ScriptID)
		if s.acrossApps() {
			name = s.appName(e.AppID) + "/" + name
		}
		rows = append(rows, []string{e.CreatedAt.Local().Format("15:04:05"), fmt.Sprint(e.Status), e.Method + " " + e.Path,
			name, duration(e.DurationUS), logNote(e)})
	}
	s.t.setRows(rows)
}

func (s *logsScreen) appName(id string) string {
	if n, ok := s.appNames[id]; ok {
		return n
	}
	return shortID(id)
}

func (s *logsScreen) scriptName(id string) string {
	if n, ok := s.names[id]; ok {
		return n
	}
	return shortID(id)
}

// logNote is the most telling thing about an execution: its error, or its
// last console line.
func logNote(e client.Execution) string {
	if e.Error != "" {
		return e.ErrorCode + ": " + e.Error
	}
	c := client.Console(e)
	if len(c) > 0 {
		l := c[len(c)-1]
		return l.Level + ": " + l.Message
	}
	return ""
}

func (s *logsScreen) view() string {
	st := s.e.st
	var state string
	switch {
	case s.live:
		state = st.ok.Render("● live")
	case s.opening && s.tries > 0:
		state = st.warn.Render("○ reconnecting…")
	case s.opening:
		state = st.faint.Render("○ connecting…")
	case s.retryIn > 0:
		state = st.err.Render(fmt.Sprintf("○ not live · reconnecting in %s…", s.retryIn))
	default:
		state = st.err.Render("○ not live")
	}
	script := "all scripts"
	if s.script != "" {
		script = "script " + safe(s.scriptName(s.script))
	}
	follow := "follow off"
	if s.t.follow {
		follow = "following"
	}
	if s.acrossApps() {
		app := "all apps"
		if s.appOnly != "" {
			app = "app " + safe(s.appName(s.appOnly))
		}
		script = app + " · " + script
	}
	if s.unseen > 0 {
		state += " · " + st.warn.Render(fmt.Sprintf("↓ %d new below", s.unseen))
	}
	count := fmt.Sprintf("%d shown", len(s.t.shown))
	if len(s.t.shown) != len(s.all) {
		count = fmt.Sprintf("%d of %d shown", len(s.t.shown), len(s.all))
	}
	info := fmt.Sprintf("%s · %s · level %s · %s · %s", state, script, levels[s.level], follow, count)
	return info + "\n" + s.list.view()
}

// executionScreen shows one execution: request, status, console output
// and error, each line whole and as it was written (a long line is
// scrolled to sideways, or wrapped).
type executionScreen struct {
	base
	ex   client.Execution
	name string
	p    pane
}

func newExecutionScreen(e *env, ex client.Execution, name string) *executionScreen {
	return &executionScreen{base: newBase(e), ex: ex, name: name}
}

func (s *executionScreen) title() string { return "execution " + s.ex.RequestID }
func (s *executionScreen) init() tea.Cmd { return nil }

func (s *executionScreen) setSize(w, h int) {
	s.base.setSize(w, h)
	first := s.p.lines == nil
	s.p.setSize(w, h)
	if first {
		s.p.setText(s.content())
	}
}

func (s *executionScreen) keys() bindings { return append(bindings{keyScroll}, s.p.keys()...) }

func (s *executionScreen) update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		s.p.update(k)
	}
	return nil
}

func (s *executionScreen) content() string {
	st := s.e.st
	e := s.ex
	name := s.name
	if name == "" {
		name = e.ScriptID
	}
	label := func(l string) string { return st.label.Render(fmt.Sprintf("%-11s", l)) }
	lines := []string{
		label("request") + safe(e.Method+" "+e.Path),
		label("script") + fmt.Sprintf("%s version %d", safe(name), e.ScriptVersion),
		label("status") + fmt.Sprintf("%d in %s", e.Status, duration(e.DurationUS)),
		label("at") + e.CreatedAt.Local().Format("2006-01-02 15:04:05.000"),
		label("request id") + safe(e.RequestID),
	}
	if e.Error != "" {
		where := ""
		if e.ErrorLine > 0 {
			where = fmt.Sprintf(" at line %d, column %d", e.ErrorLine, e.ErrorColumn)
		}
		lines = append(lines, "", st.err.Render("error "+safe(e.ErrorCode)+where), safeText(e.Error))
	}
	if r := e.Response; r != nil {
		lines = append(lines, "", st.header.Render("response"))
		names := make([]string, 0, len(r.Headers))
		for k := range r.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			for _, v := range r.Headers[k] {
				lines = append(lines, safe(k)+": "+safe(v))
			}
		}
		switch {
		case r.Size == 0:
			lines = append(lines, st.faint.Render("(no body)"))
		default:
			lines = append(lines, "", safeText(r.Body))
			if r.Cut {
				lines = append(lines, st.faint.Render(fmt.Sprintf("… the start of %d bytes (PICLOUD_LOG_RESPONSE_BYTES)", r.Size)))
			}
		}
	}
	lines = append(lines, "", st.header.Render("console"))
	c := client.Console(e)
	if len(c) == 0 {
		lines = append(lines, st.faint.Render("(nothing logged)"))
	}
	for _, l := range c {
		level := fmt.Sprintf("%-5s", safe(l.Level))
		switch l.Level {
		case "error":
			level = st.err.Render(level)
		case "warn":
			level = st.warn.Render(level)
		}
		lines = append(lines, l.Time.Local().Format("15:04:05.000")+" "+level+" "+hangingIndent(safeText(l.Message), 19))
	}
	return strings.Join(lines, "\n")
}

func (s *executionScreen) view() string { return s.p.view() }

// hangingIndent indents every line of text but the first by n spaces, so
// that a message of several lines stays in its column, its own
// indentation kept.
func hangingIndent(text string, n int) string {
	return strings.ReplaceAll(text, "\n", "\n"+strings.Repeat(" ", n))
}
