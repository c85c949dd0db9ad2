package tui

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aymanbagabas/go-udiff"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/tui/client"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	time.Local = time.UTC
	os.Exit(m.Run())
}

// sizes are the terminal sizes every screen is drawn at.
var sizes = [][2]int{{80, 24}, {120, 40}}

// newTestModel is the program drawn without colour, as after loading who
// the user is. Its API calls are never run: the tests feed the messages
// their answers would make.
func newTestModel(t *testing.T, w, h int) *Model {
	t.Helper()
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.Ascii)
	m := New(context.Background(), Options{Client: client.New("http://picloud.invalid", nil, ""), Renderer: r, NoColor: true, Via: "local"})
	feed(m, tea.WindowSizeMsg{Width: w, Height: h}, meMsg{client.User{ID: "u1", Username: "alice", Role: "owner"}})
	return m
}

// feed gives the model messages, dropping the commands they return.
func feed(m *Model, msgs ...tea.Msg) {
	for _, msg := range msgs {
		m.Update(msg)
	}
}

// follow gives the model a message and, when it answers by opening a
// screen, opens it.
func follow(m *Model, msg tea.Msg) {
	_, cmd := m.Update(msg)
	if cmd == nil {
		return
	}
	if p, ok := cmd().(pushMsg); ok {
		feed(m, p)
	}
}

// open pushes a screen as a key would.
func open(m *Model, s screen) screen {
	feed(m, pushMsg{s})
	return s
}

func press(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "ctrl+s":
		return tea.KeyMsg{Type: tea.KeyCtrlS}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// golden compares the model's view with testdata/name_WxH.golden, and
// checks that it is exactly the terminal's size.
func golden(t *testing.T, m *Model, name string) {
	t.Helper()
	got := m.View()
	lines := strings.Split(got, "\n")
	if len(lines) != m.h {
		t.Errorf("%s: %d lines, want the terminal's %d", name, len(lines), m.h)
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > m.w {
			t.Errorf("%s: line %d is %d wide, more than %d: %q", name, i+1, w, m.w, l)
		}
	}
	path := filepath.Join("testdata", fmt.Sprintf("%s_%dx%d.golden", name, m.w, m.h))
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run go test ./tui -update if the change is meant):\n%s",
			name, path, udiff.Unified(path, "view", string(want), got))
	}
}

var (
	at       = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	shop     = client.App{ID: "a1", Name: "shop", Description: "the shop's webhooks and API"}
	defApp   = client.App{ID: "00000000-0000-0000-0000-000000000001", Name: "default", Description: "scripts of the board itself"}
	helloSrc = "export default {\n  async fetch(request, env, ctx) {\n    console.log('hello', ctx.params.name)\n    return { hello: ctx.params.name }\n  }\n}\n"
	hello    = client.Script{ID: "11111111-aaaa-bbbb-cccc-000000000001", AppID: "a1", Name: "hello.js", Language: "js", ActiveVersion: 3, LatestVersion: 3, Source: helloSrc}
	orders   = client.Script{ID: "22222222-aaaa-bbbb-cccc-000000000002", AppID: "a1", Name: "orders.ts", Language: "ts", ActiveVersion: 1, LatestVersion: 2}
	cron     = client.Script{ID: "33333333-aaaa-bbbb-cccc-000000000003", AppID: "a1", Name: "nightly", Language: "js", ActiveVersion: 1, LatestVersion: 1}
)

func executions() []client.Execution {
	return []client.Execution{
		{ScriptID: hello.ID, ScriptVersion: 3, RequestID: "r-3", Method: "GET", Path: "/hello/pi", Status: 200, DurationUS: 840, CreatedAt: at,
			Console:  []byte(`[{"time":"2026-03-14T09:26:53Z","level":"info","message":"hello pi"}]`),
			Response: &client.ResponsePreview{Headers: map[string][]string{"Content-Type": {"application/json"}}, Body: `{"hello": "pi",  "n": 2}`, Size: 1500, Cut: true}},
		{ScriptID: orders.ID, ScriptVersion: 1, RequestID: "r-2", Method: "POST", Path: "/orders", Status: 500, DurationUS: 12400, CreatedAt: at.Add(-time.Minute),
			ErrorCode: "script.exception", Error: "TypeError: Cannot read property 'id' of undefined", ErrorLine: 7, ErrorColumn: 19},
		{ScriptID: hello.ID, ScriptVersion: 2, RequestID: "r-1", Method: "GET", Path: "/hello/world", Status: 200, DurationUS: 2100000, CreatedAt: at.Add(-2 * time.Minute),
			Console: []byte(`[{"time":"2026-03-14T09:24:53Z","level":"warn","message":"slow upstream"}]`)},
	}
}

func TestScreens(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			feed(m, appsMsg{to{m.stack[0].id()}, []client.App{defApp, shop}})
			golden(t, m, "apps")
			m.Update(press("?"))
			golden(t, m, "apps_help")
			m.Update(press("?"))
			m.Update(press("/"))
			m.Update(press("sh"))
			golden(t, m, "apps_filter")

			m = newTestModel(t, w, h)
			sc := open(m, newScriptsScreen(m.e, shop))
			feed(m, scriptsMsg{to{sc.id()}, []client.Script{hello, orders, cron},
				map[string][]client.Route{hello.ID: {{Method: "GET", Path: "/hello/:name"}, {Method: "GET", Path: "/hi"}}, orders.ID: {{Method: "POST", Path: "/orders"}}},
				map[string]client.Execution{hello.ID: executions()[0], orders.ID: executions()[1]}, recentRollups(hello.ID, orders.ID), at})
			golden(t, m, "scripts")
			m.Update(press("d"))
			golden(t, m, "scripts_delete")

			m = newTestModel(t, w, h)
			ed := open(m, newEditorScreen(m.e, shop, hello)).(*editorScreen)
			feed(m, scriptLoadedMsg{to{ed.id()}, hello})
			golden(t, m, "editor")
			ed.ta.SetValue(strings.Replace(helloSrc, "{ hello: ctx.params.name }", "{ hello: ctx.params.name, at: Date.now() }", 1))
			m.Update(press("ctrl+s"))
			golden(t, m, "editor_diff")
			feed(m, saveFailedMsg{to{ed.id()}, &client.Error{Status: 422, Message: "Unexpected token )", Line: 4, Column: 43}})
			golden(t, m, "editor_compile_error")
			feed(m, versionsMsg{to{ed.id()}, []client.Version{{Version: 3, CreatedAt: at, Active: true, CreatedByName: "alice"}, {Version: 2, CreatedAt: at.Add(-time.Hour), CreatedByName: "bob"}, {Version: 1, CreatedAt: at.Add(-48 * time.Hour)}}})
			golden(t, m, "editor_versions")
			feed(m, versionSourceMsg{to{ed.id()}, client.Version{Version: 2, Source: strings.Replace(helloSrc, "    console.log('hello', ctx.params.name)\n", "", 1)}})
			golden(t, m, "editor_version_diff")
			feed(m, replayMsg{to{ed.id()}, replayReport()})
			golden(t, m, "editor_replay")

			m = newTestModel(t, w, h)
			rs := open(m, newRoutesScreen(m.e, shop, hello))
			feed(m, routesMsg{to{rs.id()}, []client.Route{{ID: "r1", Method: "GET", Path: "/hello/:name"}, {ID: "r2", Method: "GET", Path: "/hi"}}},
				matchMsg{to{rs.id()}, "GET /hello/pi", client.Match{Matched: true, ScriptName: "hello.js", Version: 3, Params: map[string]string{"name": "pi"}}})
			golden(t, m, "routes")
			feed(m, routeCheckedMsg{to{rs.id()}, "GET", "/hello/:who", client.RouteCheck{Conflicts: []client.Route{{Method: "GET", Path: "/hello/:name", ScriptID: hello.ID}, {Method: "GET", Path: "/hello/*rest", ScriptID: orders.ID}}},
				map[string]string{hello.ID: "hello.js"}})
			if v := m.View(); !strings.Contains(v, "GET /hello/:name → hello.js") || !strings.Contains(v, "GET /hello/*rest → script 22222222") {
				t.Errorf("the conflicts are not named by their scripts' names (or ids when not known):\n%s", v)
			}
			golden(t, m, "routes_conflict")

			m = newTestModel(t, w, h)
			lg := open(m, newLogsScreen(m.e, shop, nil))
			ex := executions()
			feed(m, logsMsg{to{lg.id()}, nil, []client.Script{hello, orders, cron}, ex[1:]}, streamMsg{to{lg.id()}, client.NewStream(http.NoBody, nil), 0}, executionMsg{to{lg.id()}, ex[0], 0})
			golden(t, m, "logs")
			m.Update(press("v"))
			m.Update(press("v"))
			golden(t, m, "logs_errors")
			m.Update(press("enter"))
			feed(m, pushMsg{newExecutionScreen(m.e, ex[1], "orders.ts")})
			if v := m.View(); !strings.Contains(v, "error script.exception at line 7, column 19") {
				t.Errorf("the execution does not say where the error was raised:\n%s", v)
			}
			golden(t, m, "execution")
			feed(m, pushMsg{newExecutionScreen(m.e, ex[0], "hello.js")})
			golden(t, m, "execution_response")

			// Across apps: the default app's status script beside the shop's.
			m = newTestModel(t, w, h)
			al := open(m, newAllLogsScreen(m.e))
			status := client.Script{ID: "44444444-aaaa-bbbb-cccc-000000000004", AppID: defApp.ID, Name: "status.js"}
			ex = executions()
			for i := range ex {
				ex[i].AppID = shop.ID
			}
			ex = append(ex, client.Execution{AppID: defApp.ID, ScriptID: status.ID, ScriptVersion: 1, RequestID: "r-0", Method: "GET",
				Path: "/status", Status: 200, DurationUS: 310, CreatedAt: at.Add(-3 * time.Minute)})
			feed(m, logsMsg{to{al.id()}, []client.App{defApp, shop}, []client.Script{hello, orders, cron, status}, ex[1:]},
				streamMsg{to{al.id()}, client.NewStream(http.NoBody, nil), 0}, executionMsg{to{al.id()}, ex[0], 0})
			golden(t, m, "logs_all")
			m.Update(press("a"))
			golden(t, m, "logs_all_default")

			m = newTestModel(t, w, h)
			tr := open(m, newTryScreen(m.e, shop, hello, []client.Route{{Method: "GET", Path: "/hello/:name"}}))
			golden(t, m, "try")
			feed(m, responseMsg{to{tr.id()}, client.Response{Status: 200, Duration: 3 * time.Millisecond,
				Header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r-4"}}, Body: `{"hello":"name"}`}})
			golden(t, m, "try_response")

			m = newTestModel(t, w, h)
			us := open(m, newUsersScreen(m.e))
			feed(m, usersMsg{to{us.id()}, []client.User{{Username: "alice", Role: "owner"}, {Username: "bob", Role: "member", AppRoles: map[string]string{"a1": "editor"}}, {Username: "carol", Role: "admin", Disabled: true}}, ""})
			golden(t, m, "users")
			m.Update(press("x"))
			golden(t, m, "users_disable")
			m.Update(press("n"))
			m.Update(press("n"))
			m.Update(press("o"))
			m.Update(press("n"))
			m.Update(press("enter"))
			m.Update(press("hunter22"))
			golden(t, m, "users_new_password")
			m.Update(press("esc"))
			follow(m, press("enter"))
			ks := m.top()
			if _, ok := ks.(*keysScreen); !ok {
				t.Fatalf("enter on a user opened %T", ks)
			}
			used := at.Add(-3 * time.Hour)
			feed(m, keysMsg{to{ks.id()}, []client.SSHKey{
				{Type: "ssh-ed25519", Fingerprint: "SHA256:1YvDfZ5kCkzLIXXpXbBzzj/k6OD8rnBBhV7VbqrzFLc", Comment: "alice@laptop", LastUsedAt: &used},
				{Type: "ecdsa-sha2-nistp256", Fingerprint: "SHA256:D6nfUzUb9QS8bNTAodXewRkpviRc7eA83AudoOLUhLg", Comment: "phone"}}})
			golden(t, m, "keys")

			m = newTestModel(t, w, h)
			us = open(m, newUsersScreen(m.e))
			bob := client.User{ID: "u2", Username: "bob", Role: "member", AppRoles: map[string]string{"a1": "editor"}}
			feed(m, usersMsg{to{us.id()}, []client.User{{Username: "alice", Role: "owner"}, bob}, ""})
			m.Update(press("down"))
			follow(m, press("a"))
			ar, ok := m.top().(*appRolesScreen)
			if !ok {
				t.Fatalf("a on a user opened %T", m.top())
			}
			feed(m, appRolesMsg{to{ar.id()}, []client.App{{ID: "a1", Name: "shop"}, {ID: "a2", Name: "blog"}}, bob, ""})
			golden(t, m, "app_roles")
			m.Update(press("d"))
			golden(t, m, "app_roles_revoke")

			m = newTestModel(t, w, h)
			au := open(m, newAuditScreen(m.e))
			feed(m, auditMsg{to{au.id()}, []client.AuditRecord{
				{ID: 3, At: at.Add(-2 * time.Minute), Username: "alice", Channel: "terminal", Action: "user.grant_role", Target: "u2",
					Details: map[string]any{"username": "bob", "role": "editor"}},
				{ID: 2, At: at.Add(-time.Hour), Username: "alice", TokenID: "t1", Channel: "api", Action: "script.create", Target: "s1",
					Details: map[string]any{"name": "hello.js"}},
				{ID: 1, At: at.Add(-3 * time.Hour), Channel: "terminal", Action: "user.create", Target: "u1"}}, false})
			golden(t, m, "audit")
			follow(m, press("enter"))
			rec, ok := m.top().(*auditRecordScreen)
			if !ok || rec.r.ID != 3 {
				t.Fatalf("enter on the first audit record opened %T", m.top())
			}
			if v := m.View(); !strings.Contains(v, `"role": "editor"`) || !strings.Contains(v, `"username": "bob"`) || !strings.Contains(v, "target   u2") {
				t.Errorf("the audit record does not show all of itself:\n%s", v)
			}
			golden(t, m, "audit_record")

			m = newTestModel(t, w, h)
			sy := open(m, newSystemScreen(m.e))
			temp := 52.6
			feed(m, systemMsg{to{sy.id()}, client.System{Versions: map[string]any{"picloud": "1.0.0", "api": "v1", "scripts": 1, "schema": 5, "public_url": "http://pi.local:8080"},
				StartedAt: at.Add(-26 * time.Hour), UptimeSeconds: 26 * 3600, BootUptimeSeconds: 3*86400 + 7200 + 60, CPUs: 4, Load: []float64{0.42, 0.3, 0.18},
				TemperatureC: &temp, MemoryTotalBytes: 512 << 20, MemoryAvailBytes: 301 << 20, DiskTotalBytes: 29 << 30, DiskFreeBytes: 21 << 30,
				DatabaseBytes: 9 << 20, ExecutorMode: "process", Workers: []client.Worker{{PID: 812, RSSBytes: 41 << 20},
					{Index: 1, PID: 913, RSSBytes: 38 << 20, Restarts: 2, LastExit: &client.WorkerExit{Code: "limit.time", At: at.Add(-3 * time.Hour),
						Reason: `an execution of script "hello.js" (id 11111111-aaaa-bbbb-cccc-000000000001) ran 1s past its wall time of 5s`}}}, DaemonRSSBytes: 36 << 20,
				Transactions: &client.Transactions{Open: 1, Max: 8},
				Storage: []client.AppStorage{{App: "default", UsedBytes: 3 << 20, QuotaBytes: 256 << 20},
					{App: "shop-with-a-long-name", UsedBytes: 250 << 20, QuotaBytes: 256 << 20}}}, false, recentRollups("a", "b"), at})
			golden(t, m, "system")
			feed(m, systemMsg{to{sy.id()}, client.System{Versions: map[string]any{"picloud": "1.0.0"}, StartedAt: at.Add(-time.Hour),
				UptimeSeconds: 3600, CPUs: 4, DiskTotalBytes: 160 << 20, DiskFreeBytes: 3 << 20, ExecutorMode: "process",
				Warnings: []string{"the disk holding PiCloud's data is nearly full (3.0 MiB free of 160.0 MiB): saves and data writes fail when it is; " +
					"free space, or shorten the execution log (PICLOUD_LOG_RETENTION_HOURS, PICLOUD_LOG_MAX_RECORDS)"}}, false, nil, at})
			golden(t, m, "system_low_disk")
			feed(m, systemMsg{to{sy.id()}, client.System{Versions: map[string]any{"picloud": "1.0.0", "api": "v1"}}, true, nil, at})
			golden(t, m, "system_member")
		})
	}
}

// TestErrorsShowInTheStatusLine checks that a failed call is a line of the
// screen, not a crash.
func TestErrorsShowInTheStatusLine(t *testing.T) {
	m := newTestModel(t, 80, 24)
	feed(m, busyMsg{what: "load apps"}, doneMsg{msg: errMsg{"load apps", &client.Error{Status: 403, Message: "your role does not allow this\n(users.manage)"}}})
	if v := m.View(); !strings.Contains(v, "✗ load apps: needs another role: your role does not allow this (users.manage)") {
		t.Fatalf("status line:\n%s", v)
	}
	if m.busy != 0 {
		t.Errorf("busy = %d after the call ended", m.busy)
	}
}

// TestResize checks that the screens reflow to any size, even a tiny one.
func TestResize(t *testing.T) {
	m := newTestModel(t, 80, 24)
	feed(m, appsMsg{to{m.stack[0].id()}, []client.App{defApp, shop}})
	for _, s := range [][2]int{{40, 10}, {200, 60}, {20, 5}} {
		feed(m, tea.WindowSizeMsg{Width: s[0], Height: s[1]})
		if lines := strings.Split(m.View(), "\n"); len(lines) != s[1] {
			t.Errorf("at %dx%d: %d lines", s[0], s[1], len(lines))
		}
	}
}

// TestEditorStaleSave shows a save refused because another version was
// saved since: the diff against the newer version, then the newer version
// with the person's changes re-applied, clashes marked.
func TestEditorStaleSave(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			ed := open(m, newEditorScreen(m.e, shop, hello)).(*editorScreen)
			feed(m, scriptLoadedMsg{to{ed.id()}, hello})
			if ed.baseVersion != 3 {
				t.Fatalf("base version %d after loading, want the latest, 3", ed.baseVersion)
			}
			mine := strings.Replace(helloSrc, "{ hello: ctx.params.name }", "{ hello: ctx.params.name, at: Date.now() }", 1)
			ed.ta.SetValue(mine)
			theirs := hello
			theirs.ActiveVersion, theirs.LatestVersion = 4, 4
			theirs.Source = strings.Replace(helloSrc, "export default {", "export default { // greets", 1)
			feed(m, staleMsg{to{ed.id()}, theirs})
			golden(t, m, "editor_stale")
			m.Update(press("m"))
			want := strings.Replace(mine, "export default {", "export default { // greets", 1)
			if ed.source() != want || ed.baseVersion != 4 || ed.mode != modeEdit {
				t.Fatalf("after m: base %d, mode %d, text\n%s\nwant base 4 and\n%s", ed.baseVersion, ed.mode, ed.source(), want)
			}
			golden(t, m, "editor_stale_merged")

			// Both changed the same line: both texts stay, marked.
			ed.ta.SetValue(strings.Replace(want, "'hello'", "'hi'", 1))
			theirs.ActiveVersion, theirs.LatestVersion = 5, 5
			theirs.Source = strings.Replace(want, "'hello'", "'hey'", 1)
			feed(m, staleMsg{to{ed.id()}, theirs})
			m.Update(press("m"))
			if src := ed.source(); !strings.Contains(src, "<<<<<<< yours\n    console.log('hi', ctx.params.name)\n") ||
				!strings.Contains(src, "=======\n    console.log('hey', ctx.params.name)\n") || !strings.Contains(src, ">>>>>>> version 5\n") {
				t.Fatalf("clashing merge:\n%s", ed.source())
			}
			golden(t, m, "editor_stale_clash")

			// o saves again over the newer version, knowingly.
			feed(m, staleMsg{to{ed.id()}, client.Script{ID: hello.ID, Name: hello.Name, ActiveVersion: 6, LatestVersion: 6, Source: helloSrc}})
			m.Update(press("o"))
			if ed.baseVersion != 6 {
				t.Fatalf("base version %d after o, want 6", ed.baseVersion)
			}
		})
	}
}

// TestNewRoutePromptStartsEmpty types the help text's own example into the
// new-route prompt, which shows an example but holds nothing.
func TestNewRoutePromptStartsEmpty(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			rs := open(m, newRoutesScreen(m.e, shop, hello)).(*routesScreen)
			feed(m, routesMsg{to{rs.id()}, []client.Route{{ID: "r1", Method: "GET", Path: "/hi"}}})
			for _, k := range []string{"a", "m"} {
				m.Update(press(k))
				if k == "a" {
					golden(t, m, "routes_new")
				}
				m.Update(press("GET /greet/:name"))
				if v := rs.in.in.Value(); v != "GET /greet/:name" {
					t.Fatalf("%s then GET /greet/:name: the prompt holds %q", k, v)
				}
				m.Update(press("esc"))
			}
		})
	}
}

// TestNewScriptIsSelected creates a script that sorts first: after the
// list reloads, the cursor is on it, and t opens its routes.
func TestNewScriptIsSelected(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			sc := open(m, newScriptsScreen(m.e, shop)).(*scriptsScreen)
			none := map[string][]client.Route{}
			last := map[string]client.Execution{}
			feed(m, scriptsMsg{to{sc.id()}, []client.Script{hello, cron, orders}, none, last, nil, at})
			boom := client.Script{ID: "55555555-aaaa-bbbb-cccc-000000000005", AppID: "a1", Name: "boom.js", Language: "js", ActiveVersion: 1, LatestVersion: 1}
			feed(m, scriptCreatedMsg{to{sc.id()}, boom})
			if cur, _ := sc.current(); cur.ID != boom.ID {
				t.Fatalf("after create the cursor is on %s, want boom.js", cur.Name)
			}
			feed(m, scriptsMsg{to{sc.id()}, []client.Script{boom, hello, cron, orders}, none, last, nil, at})
			golden(t, m, "scripts_created")
			follow(m, press("t"))
			rs, ok := m.top().(*routesScreen)
			if !ok || rs.script.ID != boom.ID {
				t.Fatalf("t after creating boom.js opened %T (%v)", m.top(), m.top().title())
			}
		})
	}
}

// TestStaleErrorsClear has a call fail, then another succeed: the error
// leaves the status line. A call that started before the error came does
// not clear it, and a screen opened or closed after it shows no bare ✗.
func TestStaleErrorsClear(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			rs := open(m, newRoutesScreen(m.e, shop, hello))
			feed(m, routesMsg{to{rs.id()}, []client.Route{{ID: "r1", Method: "GET", Path: "/hi"}}})
			// call starts a call as the screens do, and returns its number.
			call := func(what string) int {
				m.e.call(what, nil)
				feed(m, busyMsg{what, m.e.calls})
				return m.e.calls
			}
			older := call("load routes")
			failed := call("add GET /api/x")
			feed(m, doneMsg{errMsg{"add GET /api/x", &client.Error{Status: 400, Message: "/api/ is reserved for PiCloud's own API"}}, failed})
			feed(m, doneMsg{routesMsg{to{rs.id()}, []client.Route{{ID: "r1", Method: "GET", Path: "/hi"}}}, older})
			if !strings.Contains(m.View(), "✗ add GET /api/x: /api/ is reserved") {
				t.Fatalf("the error went with the success of a call started before it:\n%s", m.View())
			}
			added := call("add GET /greet/:name")
			feed(m, doneMsg{routeAddedMsg{to{rs.id()}, client.Route{ID: "r2", Method: "GET", Path: "/greet/:name"}}, added})
			golden(t, m, "routes_added_after_error")
			if strings.Contains(m.View(), "✗") {
				t.Fatalf("the old error stayed next to the success:\n%s", m.View())
			}

			feed(m, errMsg{"delete route", &client.Error{Status: 404, Message: "not found"}})
			feed(m, pushMsg{newTryScreen(m.e, shop, hello, nil)})
			if strings.Contains(m.View(), "✗") {
				t.Fatalf("a bare ✗ on the next screen:\n%s", m.View())
			}
			feed(m, errMsg{"send", &client.Error{Status: 502, Message: "bad gateway"}}, popMsg{})
			if strings.Contains(m.View(), "✗") {
				t.Fatalf("a bare ✗ on the screen below:\n%s", m.View())
			}
		})
	}
}

// quits reports whether cmd ends the program.
func quits(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

// TestUnsavedEditsAreAskedAbout types in the editor, then rolls back and
// quits: each asks first, and no keeps the text.
func TestUnsavedEditsAreAskedAbout(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			ed := open(m, newEditorScreen(m.e, shop, hello)).(*editorScreen)
			feed(m, scriptLoadedMsg{to{ed.id()}, hello})
			m.Update(press("// mine"))
			mine := ed.source()
			versions := versionsMsg{to{ed.id()}, []client.Version{{Version: 3, CreatedAt: at, Active: true}, {Version: 2, CreatedAt: at.Add(-time.Hour)}}}

			// ctrl+o, j, enter: the rollback asks about the changes.
			feed(m, versions)
			m.Update(press("j"))
			if _, cmd := m.Update(press("enter")); cmd != nil {
				t.Fatal("enter on a version rolled back without asking")
			}
			golden(t, m, "editor_rollback_unsaved")
			m.Update(press("n"))
			// From the version's diff, y asks too.
			feed(m, versionSourceMsg{to{ed.id()}, client.Version{Version: 2, Source: helloSrc}})
			if _, cmd := m.Update(press("y")); cmd != nil || !strings.Contains(m.View(), "make version 2 active and throw away your unsaved changes?") {
				t.Fatalf("y on a version's diff rolled back without asking:\n%s", m.View())
			}
			m.Update(press("n"))
			m.Update(press("esc"))
			m.Update(press("esc"))
			if ed.mode != modeEdit || ed.source() != mine {
				t.Fatalf("after no: mode %d, text\n%s", ed.mode, ed.source())
			}

			// ctrl+c asks; n keeps the program and the text.
			_, cmd := m.Update(press("ctrl+c"))
			if quits(cmd) {
				t.Fatal("ctrl+c quit with unsaved changes")
			}
			golden(t, m, "editor_quit_unsaved")
			if _, cmd := m.Update(press("n")); quits(cmd) || ed.source() != mine {
				t.Fatalf("n quit, or changed the text:\n%s", ed.source())
			}
			if strings.Contains(m.View(), "quit and throw away") {
				t.Fatalf("the question stayed after n:\n%s", m.View())
			}
			// y, or ctrl+c again, quits.
			m.Update(press("ctrl+c"))
			if _, cmd := m.Update(press("y")); !quits(cmd) {
				t.Fatal("y did not quit")
			}
			m.Update(press("ctrl+c"))
			if _, cmd := m.Update(press("ctrl+c")); !quits(cmd) {
				t.Fatal("a second ctrl+c did not quit")
			}
			// Without changes, ctrl+c quits at once.
			m = newTestModel(t, w, h)
			ed = open(m, newEditorScreen(m.e, shop, hello)).(*editorScreen)
			feed(m, scriptLoadedMsg{to{ed.id()}, hello})
			if _, cmd := m.Update(press("ctrl+c")); !quits(cmd) {
				t.Fatal("ctrl+c without changes did not quit")
			}
		})
	}
}

// TestSpinnerNamesARunningCall checks that the status line names a call
// that still runs: after esc leaves "try it" while its request waits, the
// scripts screen's reload ends first, and the spinner goes on naming the
// request, not the finished reload.
func TestSpinnerNamesARunningCall(t *testing.T) {
	m := newTestModel(t, 80, 24)
	feed(m, busyMsg{what: "send GET /slow", seq: 1}, busyMsg{what: "load scripts", seq: 2})
	if v := m.View(); !strings.Contains(v, "load scripts…") {
		t.Fatalf("while both run, the status line should name the last started:\n%s", v)
	}
	feed(m, doneMsg{msg: infoMsg(""), seq: 2})
	v := m.View()
	if strings.Contains(v, "load scripts") || !strings.Contains(v, "send GET /slow…") {
		t.Fatalf("after the reload ended, the status line should name the request still waiting:\n%s", v)
	}
	feed(m, doneMsg{msg: infoMsg(""), seq: 1})
	if m.busy != 0 || strings.Contains(m.View(), "send GET") {
		t.Fatalf("after both ended, busy = %d and the status line shows:\n%s", m.busy, m.View())
	}
}

// TestMembersMeetNoDeadEnds checks that a member is offered only what
// they may do, and that a session whose user was disabled says so plainly
// and offers nothing but quitting.
func TestMembersMeetNoDeadEnds(t *testing.T) {
	bob := client.User{ID: "u2", Username: "bob", Role: "member", AppRoles: map[string]string{"a1": "viewer"}}
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			feed(m, meMsg{bob}, appsMsg{to{m.stack[0].id()}, []client.App{shop}})
			golden(t, m, "apps_member")
			for _, k := range []string{"u", "h"} {
				if _, cmd := m.Update(press(k)); cmd != nil {
					t.Errorf("%s opened a screen a member may not use", k)
				}
			}

			// A viewer of the app is not asked to write a script.
			sc := open(m, newScriptsScreen(m.e, shop))
			feed(m, scriptsMsg{to{sc.id()}, nil, nil, nil, nil, at})
			golden(t, m, "scripts_viewer")
			if _, cmd := m.Update(press("n")); cmd != nil || m.top().typing() {
				t.Error("n asked a viewer for a new script's name")
			}

			// Disabled meanwhile: the reload is refused with 401.
			m = newTestModel(t, w, h)
			feed(m, meMsg{bob})
			sc = open(m, newScriptsScreen(m.e, shop))
			feed(m, busyMsg{what: "load scripts", seq: 1}, doneMsg{errMsg{"load scripts", &client.Error{Status: 401, Message: "not signed in"}}, 1})
			golden(t, m, "scripts_signed_out")
			if _, cmd := m.Update(press("q")); cmd != nil || len(m.stack) != 2 {
				t.Error("q still acted after the session ended")
			}
			if _, cmd := m.Update(press("ctrl+c")); !quits(cmd) {
				t.Error("ctrl+c did not quit after the session ended")
			}
		})
	}
}

// TestLogsReconnect checks that the live logs open their stream again
// when it ends (the daemon restarted), later after each failed try, say so,
// and are live again once it opens; and that r opens it anew, ignoring
// what the old stream still sends.
func TestLogsReconnect(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			lg := open(m, newLogsScreen(m.e, shop, nil)).(*logsScreen)
			id := to{lg.id()}
			state := func(want string) {
				t.Helper()
				if first := strings.Split(m.View(), "\n")[1]; !strings.HasPrefix(first, want) {
					t.Fatalf("the state line is %q, want it to start with %q", first, want)
				}
			}
			state("○ connecting…")
			feed(m, streamMsg{id, client.NewStream(http.NoBody, nil), 0}, logsMsg{id, nil, []client.Script{hello}, executions()[:1]})
			state("● live")

			// The daemon stops: the stream ends, and a try is planned.
			_, cmd := m.Update(streamEndMsg{to: id, err: io.EOF})
			if cmd == nil {
				t.Fatal("no reconnection planned when the stream ended")
			}
			state("○ not live · reconnecting in 1s…")
			feed(m, reconnectMsg{id, 0})
			state("○ reconnecting…")
			feed(m, streamEndMsg{id, errors.New("dial unix admin.sock: connect: connection refused"), 0, true})
			golden(t, m, "logs_reconnecting")
			state("○ not live · reconnecting in 2s…")
			feed(m, reconnectMsg{id, 0}, streamMsg{id, client.NewStream(http.NoBody, nil), 0})
			state("● live")
			// Live again, the next end starts from the shortest wait.
			feed(m, streamEndMsg{to: id, err: io.EOF})
			state("○ not live · reconnecting in 1s…")

			// r opens the stream anew at once; the planned try and the
			// old stream's messages are ignored.
			feed(m, press("r"))
			state("○ connecting…")
			feed(m, reconnectMsg{id, 0}, streamEndMsg{to: id, err: io.EOF}, executionMsg{id, executions()[1], 0})
			state("○ connecting…")
			feed(m, streamMsg{id, client.NewStream(http.NoBody, nil), 1})
			state("● live")
			if len(lg.all) != 1 {
				t.Errorf("%d executions, want the 1 loaded: the old stream's was taken", len(lg.all))
			}

			// Refused for the user's role or session: no more tries.
			if _, cmd := m.Update(streamEndMsg{id, &client.Error{Status: 403, Message: "your role does not allow this"}, 1, true}); cmd == nil {
				t.Fatal("the refusal was not reported")
			}
			state("○ not live ·")
			if lg.retryIn != 0 {
				t.Errorf("a try planned in %s after a 403", lg.retryIn)
			}
		})
	}
}

// TestReconnectDelay checks the waits between tries to reopen the live
// logs: doubling from 1s, at most 15s.
func TestReconnectDelay(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second}
	for try, d := range want {
		if got := reconnectDelay(try); got != d {
			t.Errorf("try %d: wait %s, want %s", try, got, d)
		}
	}
}

// TestDeletingTheSessionKeyWarns asks to delete, over SSH, the key the
// session signed in with: the question says so, and not for another key.
func TestDeletingTheSessionKeyWarns(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			m.e.sessionKey = "SHA256:D6nfUzUb9QS8bNTAodXewRkpviRc7eA83AudoOLUhLg"
			ks := open(m, newKeysScreen(m.e, nil))
			feed(m, keysMsg{to{ks.id()}, []client.SSHKey{
				{Type: "ssh-ed25519", Fingerprint: "SHA256:1YvDfZ5kCkzLIXXpXbBzzj/k6OD8rnBBhV7VbqrzFLc", Comment: "alice@laptop"},
				{Type: "ecdsa-sha2-nistp256", Fingerprint: "SHA256:D6nfUzUb9QS8bNTAodXewRkpviRc7eA83AudoOLUhLg", Comment: "phone"}}})
			m.Update(press("d"))
			if v := m.View(); !strings.Contains(v, "delete the ssh-ed25519 key SHA256:1YvD") || strings.Contains(v, "session") {
				t.Errorf("another key's question:\n%s", v)
			}
			m.Update(press("n"))
			m.Update(press("down"))
			m.Update(press("d"))
			if v := m.View(); !strings.Contains(v, "delete this session's own key? It signs you in no more") {
				t.Errorf("no warning for the session's own key:\n%s", v)
			}
			golden(t, m, "keys_delete_session_key")
		})
	}
}

// recentRollups are requests of two scripts in the quarter hour before
// at: the first busy and rising, the second now and then.
func recentRollups(busy, quiet string) []client.Rollup {
	var rs []client.Rollup
	for i := 0; i < sparkMinutes; i++ {
		minute := at.Truncate(time.Minute).Add(-time.Duration(sparkMinutes-1-i) * time.Minute)
		rs = append(rs, client.Rollup{ScriptID: busy, At: minute, Count: int64(10 + 6*i)})
		if i%4 == 0 {
			rs = append(rs, client.Rollup{ScriptID: quiet, At: minute, Count: 2, Errors: 1})
		}
	}
	return rs
}

// replayReport is a replay of hello.js's draft: one request the same,
// one JSON field changed, one stopped by the replay's rules.
func replayReport() client.ReplayReport {
	r := client.ReplayReport{ScriptID: "11111111-1111-1111-1111-111111111111", Version: 4, CaptureEnabled: true}
	r.Add(model.ReplayResult{ID: 1, Method: "GET", URL: "http://pi.example.net/hello/pi", Same: true})
	r.Add(model.ReplayResult{ID: 2, Method: "GET", URL: "http://pi.example.net/hello/ada?n=3",
		Headers: []model.ReplayHeaderChange{{Name: "X-Version", Captured: []string{"3"}}},
		Body:    &model.ReplayBodyChange{Kind: "json", Changes: []string{"$.total: 9 → 12"}, CapturedBytes: 14, ReplayedBytes: 15}})
	r.Add(model.ReplayResult{ID: 3, Method: "POST", URL: "http://pi.example.net/hello/pi",
		Status: &model.ReplayStatusChange{Captured: 200, Replayed: 500},
		Body:   &model.ReplayBodyChange{Kind: "text", Diff: "--- captured\n+++ replayed\n@@ -1 +0,0 @@\n-hello pi\n", CapturedBytes: 9},
		Error:  &model.ReplayFailure{Code: "replay.refused", Message: "fetch is refused during a replay: a replayed request may not reach outside the board"}})
	return r
}
