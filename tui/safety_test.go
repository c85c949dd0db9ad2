package tui

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/picloud/picloud/tui/client"
	"github.com/picloud/picloud/tui/safetext"
)

// evil is what data may hold: an OSC that sets the window title, an SGR,
// a C1 CSI, a right-to-left override, an isolate and a byte of invalid
// UTF-8.
const evil = "\x1b]0;PWNED\x07\x1b[31m\u009b1m\u202e\u2066\xff"

// drawnSafe fails the test when the view holds a rune a terminal acts on
// (the test draws without styles, so the program's own output has none but
// newlines) or invalid UTF-8, or when the data is not drawn at all.
func drawnSafe(t *testing.T, m *Model, scene string) {
	t.Helper()
	v := m.View()
	if !utf8.ValidString(v) {
		t.Errorf("%s: the view is not valid UTF-8:\n%q", scene, v)
	}
	for _, r := range v {
		if r != '\n' && safetext.Unsafe(r) {
			t.Errorf("%s: the view holds %U:\n%q", scene, r, v)
			return
		}
	}
	if !strings.Contains(v, "PWNED") {
		t.Errorf("%s: the data is not drawn:\n%s", scene, v)
	}
}

// TestDataIsDrawnEscaped puts evil in every string that data fills on
// every screen, and checks that nothing of it reaches the view as a
// character a terminal acts on.
func TestDataIsDrawnEscaped(t *testing.T) {
	app := client.App{ID: "a1", Name: "shop" + evil, Description: "d" + evil}
	sc := client.Script{ID: "11111111-aaaa", AppID: "a1", Name: "s" + evil, Language: "js" + evil, ActiveVersion: 2, LatestVersion: 3,
		Source: "// " + evil + "\r\n\tconsole.log(1)\n"}
	route := client.Route{ID: "r1", ScriptID: sc.ID, Method: "GET" + evil, Path: "/p" + evil}
	ex := client.Execution{AppID: "a1", ScriptID: sc.ID, ScriptVersion: 2, RequestID: "req" + evil, Method: "GET" + evil, Path: "/x" + evil,
		Status: 500, DurationUS: 900, CreatedAt: at, ErrorCode: "code" + evil, Error: "Error: thrown " + evil + "\n    at line 3",
		Console: []byte(`[{"time":"2026-03-14T09:26:53Z","level":"info\u001b","message":"console \u001b]0;PWNED\u0007\u009b\u202e"}]`)}
	user := client.User{ID: "u1", Username: "bob" + evil, Role: "member" + evil, AppRoles: map[string]string{"a1": "editor" + evil}}

	for _, size := range sizes {
		w, h := size[0], size[1]
		m := newTestModel(t, w, h)
		feed(m, appsMsg{to{m.stack[0].id()}, []client.App{app}})
		drawnSafe(t, m, "apps")
		feed(m, busyMsg{what: "load " + evil})
		drawnSafe(t, m, "busy")
		feed(m, doneMsg{msg: errMsg{"load " + evil, errors.New("failed: " + evil)}})
		drawnSafe(t, m, "error")
		feed(m, infoMsg("saved "+evil))
		drawnSafe(t, m, "info")
		m = newTestModel(t, w, h)
		feed(m, meMsg{client.User{Username: "a\x1b]0;PWNED\x07", Role: "owner\u202e\xff"}})
		drawnSafe(t, m, "header")

		m = newTestModel(t, w, h)
		s := open(m, newScriptsScreen(m.e, app))
		feed(m, scriptsMsg{to{s.id()}, []client.Script{sc}, map[string][]client.Route{sc.ID: {route}}, map[string]client.Execution{sc.ID: ex}, nil, at})
		drawnSafe(t, m, "scripts")
		m.Update(press("d"))
		drawnSafe(t, m, "scripts, delete?")

		m = newTestModel(t, w, h)
		ed := open(m, newEditorScreen(m.e, app, sc)).(*editorScreen)
		feed(m, scriptLoadedMsg{to{ed.id()}, sc})
		drawnSafe(t, m, "editor")
		m.Update(press("x"))
		m.Update(press("ctrl+s"))
		drawnSafe(t, m, "editor, diff")
		feed(m, saveFailedMsg{to{ed.id()}, &client.Error{Status: 422, Message: "Unexpected " + evil, Line: 1, Column: 4}})
		drawnSafe(t, m, "editor, compile error")
		feed(m, versionSourceMsg{to{ed.id()}, client.Version{Version: 1, Source: "// v1 " + evil + "\n"}})
		drawnSafe(t, m, "editor, version diff")

		m = newTestModel(t, w, h)
		rs := open(m, newRoutesScreen(m.e, app, sc))
		feed(m, routesMsg{to{rs.id()}, []client.Route{route}},
			matchMsg{to{rs.id()}, "GET /p", client.Match{Matched: true, ScriptName: "s" + evil, Version: 2, Params: map[string]string{"k" + evil: "v" + evil}}})
		drawnSafe(t, m, "routes, match")
		feed(m, matchMsg{to{rs.id()}, "GET /q", client.Match{Reason: "no host " + evil}})
		drawnSafe(t, m, "routes, no match")
		feed(m, routeCheckedMsg{to{rs.id()}, "GET", "/p", client.RouteCheck{Conflicts: []client.Route{route}}, map[string]string{route.ScriptID: "s" + evil}})
		drawnSafe(t, m, "routes, conflict")
		feed(m, routeAddedMsg{to{rs.id()}, route})
		drawnSafe(t, m, "routes, added")
		m.Update(press("d"))
		drawnSafe(t, m, "routes, delete?")

		for _, across := range []bool{false, true} {
			m = newTestModel(t, w, h)
			var lg *logsScreen
			var apps []client.App
			if across {
				lg, apps = newAllLogsScreen(m.e), []client.App{app}
			} else {
				lg = newLogsScreen(m.e, app, &sc)
			}
			open(m, lg)
			feed(m, logsMsg{to{lg.id()}, apps, []client.Script{sc}, []client.Execution{ex}})
			m.Update(press("a"))
			m.Update(press("s"))
			drawnSafe(t, m, "logs")
			follow(m, press("enter"))
			if _, ok := m.top().(*executionScreen); !ok {
				t.Fatalf("enter on an execution opened %T", m.top())
			}
			drawnSafe(t, m, "execution")
		}

		m = newTestModel(t, w, h)
		tr := open(m, newTryScreen(m.e, app, sc, []client.Route{route}))
		feed(m, responseMsg{to{tr.id()}, client.Response{Status: 200, Duration: time.Millisecond,
			Header: http.Header{"X-Evil" + evil: {"h" + evil}}, Body: "body " + evil + "\n\tsecond line"}})
		drawnSafe(t, m, "try")

		m = newTestModel(t, w, h)
		us := open(m, newUsersScreen(m.e))
		feed(m, usersMsg{to{us.id()}, []client.User{user}, "done " + evil})
		drawnSafe(t, m, "users")
		m.Update(press("x"))
		drawnSafe(t, m, "users, disable?")
		m.Update(press("n"))
		m.Update(press("o"))
		drawnSafe(t, m, "users, role prompt")
		m.Update(press("esc"))
		follow(m, press("a"))
		ar := m.top()
		feed(m, appRolesMsg{to{ar.id()}, []client.App{app}, user, "done " + evil})
		drawnSafe(t, m, "app roles")
		m.Update(press("d"))
		drawnSafe(t, m, "app roles, revoke?")

		m = newTestModel(t, w, h)
		ks := open(m, newKeysScreen(m.e, &user))
		feed(m, keysMsg{to{ks.id()}, []client.SSHKey{{ID: "k1", Type: "ssh-ed25519" + evil, Fingerprint: "SHA256:" + evil, Comment: "c" + evil}}})
		drawnSafe(t, m, "keys")
		m.Update(press("d"))
		drawnSafe(t, m, "keys, delete?")

		m = newTestModel(t, w, h)
		au := open(m, newAuditScreen(m.e))
		feed(m, auditMsg{to{au.id()}, []client.AuditRecord{{ID: 1, At: at, Username: "u" + evil, Channel: "c" + evil, Action: "a" + evil,
			Target: "t" + evil, Details: map[string]any{"k" + evil: "v" + evil}}}, false})
		drawnSafe(t, m, "audit")
		follow(m, press("enter"))
		if _, ok := m.top().(*auditRecordScreen); !ok {
			t.Fatalf("enter on an audit record opened %T", m.top())
		}
		drawnSafe(t, m, "audit record")

		m = newTestModel(t, w, h)
		ds := open(m, newDomainsScreen(m.e, app))
		feed(m, domainsMsg{to{ds.id()}, []client.Domain{{ID: "d1", AppID: app.ID, Pattern: "p" + evil, CreatedAt: at}}})
		drawnSafe(t, m, "domains")
		m.Update(press("d"))
		drawnSafe(t, m, "domains, give up?")

		m = newTestModel(t, w, h)
		feed(m, errMsg{"load " + evil, errors.New(strings.Repeat("long ", 30) + evil + "\nsecond line " + evil)})
		drawnSafe(t, m, "error, cut")
		m.Update(tea.KeyMsg{Type: tea.KeyCtrlR})
		drawnSafe(t, m, "error, whole")

		m = newTestModel(t, w, h)
		sy := open(m, newSystemScreen(m.e))
		feed(m, systemMsg{to{sy.id()}, client.System{Versions: map[string]any{"k" + evil: "v" + evil}, ExecutorMode: "m" + evil, Warnings: []string{"w" + evil},
			Workers: []client.Worker{{PID: 1, Restarts: 1, LastExit: &client.WorkerExit{Code: "c" + evil, Reason: "r" + evil, At: at}}}}, false, nil, at})
		drawnSafe(t, m, "system")
	}
}

// TestEditorKeepsControlCharacters loads a source with control
// characters of every kind into the editor: they show as symbols, the
// cursor names them, and what is saved after an edit is the source with
// only that edit.
func TestEditorKeepsControlCharacters(t *testing.T) {
	src := "// \x1b]0;PWNED\x07 \u009b \u202e \ufffd \x7f\r\n\tconsole.log(1)\n"
	m := newTestModel(t, 80, 24)
	sc := client.Script{ID: "s1", Name: "ctl.js", Language: "js", ActiveVersion: 1, LatestVersion: 1, Source: src}
	ed := open(m, newEditorScreen(m.e, shop, sc)).(*editorScreen)
	feed(m, scriptLoadedMsg{to{ed.id()}, sc})
	if ed.dirty() || ed.source() != src {
		t.Fatalf("loaded: dirty %v, source %q", ed.dirty(), ed.source())
	}
	drawnSafe(t, m, "editor")
	v := m.View()
	if !strings.Contains(v, "// ␛]0;PWNED␇ ␦ ␦ \ufffd ␡␍") || !strings.Contains(v, "␉console.log(1)") {
		t.Fatalf("the control characters are not shown as symbols:\n%s", v)
	}
	for range 3 {
		m.Update(press("right"))
	}
	if v := m.View(); !strings.Contains(v, `line 1, column 4 · \x1b under the cursor`) {
		t.Fatalf("the cursor on ESC does not name it:\n%s", v)
	}
	m.Update(press("x"))
	if want := "// x\x1b]0;PWNED\x07 \u009b \u202e \ufffd \x7f\r\n\tconsole.log(1)\n"; ed.source() != want {
		t.Fatalf("after typing x:\n%q\nwant\n%q", ed.source(), want)
	}
	m.Update(press("ctrl+s"))
	if v := m.View(); !strings.Contains(v, `+ // x\x1b]0;PWNED\a \u009b \u202e`+" \ufffd "+`\x7f\r`) {
		t.Fatalf("the diff does not show the change escaped:\n%s", v)
	}
	drawnSafe(t, m, "editor, diff")
}

// TestEditorRefusesSourcesItCannotShow checks that a source holding a
// character of the stand-ins' own range opens with an error rather than
// in an editor that would save something else.
func TestEditorRefusesSourcesItCannotShow(t *testing.T) {
	m := newTestModel(t, 80, 24)
	sc := client.Script{ID: "s1", Name: "pua.js", Source: "// \U0010001b\n"}
	ed := open(m, newEditorScreen(m.e, shop, sc)).(*editorScreen)
	_, cmd := m.Update(scriptLoadedMsg{to{ed.id()}, sc})
	if ed.loaded || cmd == nil {
		t.Fatalf("the editor took a source it cannot show: loaded %v", ed.loaded)
	}
	feed(m, cmd())
	if v := m.View(); !strings.Contains(v, "U+10001B") || !strings.Contains(v, "✗ edit pua.js") {
		t.Fatalf("no error says why:\n%s", v)
	}
	m.Update(press("ctrl+s"))
	if ed.mode != modeEdit {
		t.Fatal("ctrl+s went on to save")
	}
}

// TestStandIns checks that every character the text area would drop or
// change goes there and back unchanged, and shows as a one-column symbol.
func TestStandIns(t *testing.T) {
	var src strings.Builder
	for r := rune(0); r < 0x3000; r++ {
		src.WriteRune(r)
	}
	src.WriteString("\ufffd\U0010ffff\U000f001b")
	v, err := toEditor(src.String())
	if err != nil {
		t.Fatal(err)
	}
	if got := fromEditor(v); got != src.String() {
		t.Fatal("the source did not come back from the editor unchanged")
	}
	for _, r := range drawWidget(v) {
		if r != '\n' && safetext.Unsafe(r) {
			t.Fatalf("drawWidget left %U", r)
		}
	}
	for _, r := range []rune{0, '\t', 0x1b, 0x7f, 0x85, 0x202e, 0x2066} {
		if w := ansi.StringWidth(string(symbol(r))); w != 1 {
			t.Errorf("the symbol of %U is %d columns wide", r, w)
		}
	}
}

// TestControlCharacterScreens draws the screens that show the most data,
// with control characters in it, against golden files: how each is shown.
func TestControlCharacterScreens(t *testing.T) {
	osc := "\x1b]0;PWNED\x07\x1b[31m"
	for _, size := range sizes {
		w, h := size[0], size[1]
		m := newTestModel(t, w, h)
		sc := client.Script{ID: hello.ID, AppID: "a1", Name: "hello.js", Language: "js", ActiveVersion: 1, LatestVersion: 1,
			Source: "// " + osc + " \u009b \u202e\r\nexport default {\n\tfetch() {\n\t\treturn 'hi'\n\t}\n}\n"}
		ed := open(m, newEditorScreen(m.e, shop, sc)).(*editorScreen)
		feed(m, scriptLoadedMsg{to{ed.id()}, sc})
		golden(t, m, "editor_controls")

		m = newTestModel(t, w, h)
		ex := client.Execution{ScriptID: hello.ID, ScriptVersion: 1, RequestID: "r-9", Method: "GET", Path: "/x" + osc, Status: 500,
			DurationUS: 900, CreatedAt: at, ErrorCode: "script.exception", Error: "Error: thrown " + osc + "\u202e",
			Console: []byte(`[{"time":"2026-03-14T09:26:53Z","level":"info","message":"console \u001b]0;PWNED\u0007\tand\ra\u009b"}]`)}
		lg := open(m, newLogsScreen(m.e, shop, nil))
		feed(m, logsMsg{to{lg.id()}, nil, []client.Script{sc}, []client.Execution{ex}})
		golden(t, m, "logs_controls")
		follow(m, press("enter"))
		golden(t, m, "execution_controls")

		m = newTestModel(t, w, h)
		tr := open(m, newTryScreen(m.e, shop, sc, nil))
		feed(m, responseMsg{to{tr.id()}, client.Response{Status: 200, Duration: 3 * time.Millisecond,
			Header: http.Header{"Content-Type": {"text/plain"}, "X-Evil": {"\u009b31m\u202e"}}, Body: "body " + osc + "\nline\ttwo \xff"}})
		golden(t, m, "try_controls")
	}
}

// TestFilterMatchesWhatIsShown checks that the filter finds a row by its
// control characters as they are shown.
func TestFilterMatchesWhatIsShown(t *testing.T) {
	m := newTestModel(t, 80, 24)
	feed(m, appsMsg{to{m.stack[0].id()}, []client.App{shop, {ID: "a2", Name: "evil", Description: "title \x1b]0;x\x07"}}})
	m.Update(press("/"))
	m.Update(press(`\x1b]0`))
	if s := m.stack[0].(*appsScreen); len(s.t.shown) != 1 || s.t.rows[s.t.shown[0]][0] != "evil" {
		t.Fatalf("the filter \\x1b]0 shows %v", s.t.shown)
	}
}
