package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"
	"github.com/picloud/picloud/appliance/testkit"
)

// terminal is a program running in a pseudo-terminal, with what it drew.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	mark int // where the text drawn since the last keys starts
	done chan struct{}
}

// startTerminal runs bin args in an 80×24 pseudo-terminal.
func startTerminal(t *testing.T, env []string, bin string, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(env, "TERM=xterm-256color", "NO_COLOR=1")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, cmd: cmd, pty: f, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		f.Close()
		if t.Failed() {
			t.Logf("the terminal showed:\n%s", term.text())
		}
	})
	return term
}

// text is what the program drew, without escape sequences.
func (term *terminal) text() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return ansi.Strip(term.out.String())
}

// waitFor waits until the program draws s after the last keys were sent.
func (term *terminal) waitFor(s string) {
	term.t.Helper()
	term.waitForSince(term.mark, s)
}

// waitForSince waits until the program draws s after byte mark of its
// output: for what keys sent earlier may have drawn already, since a
// redraw that changes nothing sends nothing.
func (term *terminal) waitForSince(mark int, s string) {
	term.t.Helper()
	testkit.Eventually(term.t, 20*time.Second, "the terminal shows "+s, func() error {
		txt := term.text()
		if strings.Contains(txt[min(mark, len(txt)):], s) {
			return nil
		}
		return fmt.Errorf("it shows since then:\n%s", txt[min(mark, len(txt)):])
	})
}

// send types keys, one write each, apart as a person types them.
func (term *terminal) send(keys ...string) {
	term.t.Helper()
	term.mark = len(term.text())
	for _, k := range keys {
		if _, err := io.WriteString(term.pty, k); err != nil {
			term.t.Fatal(err)
		}
		// Not for ordering (the program reads its input in order) but
		// typing: keys a terminal delivers in one read are one input,
		// and a lone ESC followed at once by a key reads as Alt+key.
		time.Sleep(60 * time.Millisecond)
	}
}

// Keys as a terminal sends them.
const (
	enter  = "\r"
	esc    = "\x1b"
	ctrlS  = "\x13"
	ctrlK  = "\x0b"
	ctrlA  = "\x01"
	ctrlU  = "\x15"
	ctrlC  = "\x03"
	arrowD = "\x1b[B"
)

// TestTUIEndToEnd drives picloud tui in a pseudo-terminal against the real
// daemon, over the local admin socket: write a script in the editor (a
// compile error first), bind a route, call it with "try it", and see the
// execution in the live logs.
func TestTUIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	if out, err := d.picloud("first owner's password", "user", "add", "admin", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	d.start()
	sock := filepath.Join(d.dataDir, "admin.sock")
	if st, err := os.Stat(sock); err != nil || st.Mode().Perm() != 0o660 {
		t.Fatalf("admin socket: %v %v", err, st)
	}

	if out, err := d.picloud("", "status"); err != nil || !strings.Contains(out, "picloud tui (through "+sock+")") {
		t.Errorf("picloud status does not tell about the terminal UI: %v\n%s", err, out)
	}

	term := startTerminal(t, d.env, bin, "tui")
	term.waitFor("admin (owner)") // the local owner, without a password
	term.waitFor("default")
	term.send(enter)
	term.waitFor("no scripts yet")
	term.send("n")
	term.waitFor("name of the new script")
	term.send("greet.js", enter)
	term.waitFor("greet.js · js · version 1 active")
	term.waitFor(`return { hello: "world" }`)

	// Line 3 of the new script returns a value: make it a syntax error,
	// save, and see the error at its line.
	term.send(arrowD, arrowD, ctrlK, "    return )", ctrlS)
	term.waitFor("changes against the active version 1")
	term.send("y")
	term.waitFor("✗ line 3")
	// The cursor is on the line with the error: replace it.
	term.send(ctrlA, ctrlK, `    console.log("greeted", ctx.params.name); return { hello: "pi " + ctx.params.name }`, ctrlS)
	term.waitFor(`+     console.log("greeted"`)
	term.send(enter)
	term.waitFor("saved greet.js version 2")

	// Roll back to version 1 after a look at its diff, then forward again.
	term.send("\x0f") // ctrl+o: the versions
	term.waitFor("versions of greet.js")
	term.send(arrowD, "d")
	term.waitFor("version 1 against the active version 2")
	term.waitFor(`-     console.log("greeted"`)
	term.send("y")
	term.waitFor("greet.js · js · version 1 active (latest 2)")
	term.send("\x0f")
	term.waitFor("versions of greet.js")
	term.send("\x1b[A", enter) // the list opens on the active version; v2 is above it
	term.waitFor("make version 2 active?")
	term.send("y")
	term.waitFor("greet.js · js · version 2 active")
	term.send(esc)
	term.waitFor("greet.js")

	// A route, checked for conflicts, then added.
	term.send("t")
	term.waitFor("no routes")
	term.send("a")
	term.waitFor("new route")
	term.send("GET /greet/:name", enter)
	term.waitFor("GET /greet/:name now reaches greet.js")
	term.send("m")
	term.waitFor("request ([host]")
	term.send(ctrlU, "GET /greet/pi", enter)
	term.waitFor("reaches greet.js version 2, params name=pi")
	term.send(esc)
	term.waitFor("GET /greet/:name")

	// Try it: the route is filled in.
	term.send("x")
	term.waitFor("/greet/name")
	term.send(ctrlS)
	term.waitFor("200 OK")
	term.waitFor(`{"hello":"pi name"}`)
	term.send(esc)

	// The live logs show the execution; open it for its console output.
	term.send("l")
	term.waitFor("GET /greet/name")
	term.send(enter)
	term.waitFor("greeted name")

	// A new user, with a password typed unseen.
	term.send(esc, esc, esc, "u")
	term.waitFor("owner    enabled")
	term.send("n", "bob", enter, "bob's long password", enter)
	term.waitFor("role (owner, admin or member)")
	if strings.Contains(term.text(), "bob's long password") {
		t.Fatal("the password showed on the screen")
	}
	term.send(enter)
	term.waitFor("created bob")

	// Bob, a member, becomes an editor of the default app, then loses it.
	term.send(arrowD, "a")
	term.waitFor("app roles of bob")
	term.send("e")
	term.waitFor("bob is editor of default now")
	term.waitFor("default                  editor")
	term.send("d")
	term.waitFor("take bob's role (editor) in default away?")
	term.send("y")
	term.waitFor("bob has no role in default now")
	term.send(esc)

	// The logs of all apps have the execution too, with its app.
	term.send(esc, "L")
	term.waitFor("logs of all apps")
	term.waitFor("default/greet.js")
	term.send(esc)

	// The audit log has those changes, newest first.
	term.send("h")
	term.waitFor("user.revoke_role")
	term.waitFor("user.grant_role")
	term.waitFor("role=editor")
	term.send(esc)

	// The board's health, from the system endpoint.
	term.send("i")
	term.waitFor("executors")
	term.waitFor("process, ")
	term.send(ctrlC)
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
		t.Fatal("picloud tui did not quit on ctrl+c")
	}

	// The changes are the local owner's, through the terminal.
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"admin","password":"first owner's password"}`)
	d.token = login.field(t, "token").(string)
	audit := d.call("GET", "/api/v1/admin/audit?limit=20", "")
	d.expect(audit, 200, `"action":"script.create"`, `"action":"route.create"`, `"action":"user.grant_role"`, `"action":"user.revoke_role"`,
		`"channel":"terminal"`, `"remote":"local uid `)
}

// TestTUITwoEditors has two people edit one script: one in picloud tui,
// the other through the API. The terminal's save from the older version is
// refused and shows the diff against the newer one; m re-applies the
// terminal's change on it, and o overwrites a newer version knowingly.
// Then unsaved text is asked about before a rollback or ctrl+c throws it
// away.
func TestTUITwoEditors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	src := func(comment, greeting string) string {
		b, _ := json.Marshal("// " + comment + "\nexport default {\n  fetch() {\n    return \"" + greeting + "\"\n  }\n}\n")
		return string(b)
	}
	created := d.call("POST", "/api/v1/admin/scripts", `{"name":"greet.js","source":`+src("greeting", "hello")+`}`)
	d.expect(created, 201)
	id := created.field(t, "id").(string)

	term := startTerminal(t, d.env, d.bin, "tui")
	term.waitFor("default")
	term.send(enter)
	term.waitFor("greet.js")
	term.send(enter)
	term.waitFor("greet.js · js · version 1 active")
	term.waitFor(`return "hello"`)
	term.send(arrowD, arrowD, arrowD, ctrlK, `    return "hello from the terminal"`)
	term.waitFor("modified")

	// Meanwhile, through the API, version 2 changes the first line.
	d.expect(d.call("PUT", "/api/v1/admin/scripts/"+id, `{"base_version":1,"source":`+src("greeting, by the API", "hello")+`}`), 200, `"latest_version":2`)

	term.send(ctrlS)
	term.waitFor("changes against the active version 1")
	term.send("y")
	term.waitFor("version 2 is newer.")
	term.waitFor("- // greeting, by the API")
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+id, ""), 200, `"latest_version":2`, `by the API`)

	// m: version 2 with the terminal's change on it, saved as version 3.
	term.send("m")
	term.waitFor("re-applied on version 2")
	term.send(ctrlS)
	term.waitFor("changes against the active version 2")
	term.send("y")
	term.waitFor("saved greet.js version 3")
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+id, ""), 200, `"latest_version":3`, `// greeting, by the API`, `hello from the terminal`)

	// Version 4 through the API; the terminal overwrites it knowingly.
	d.expect(d.call("PUT", "/api/v1/admin/scripts/"+id, `{"base_version":3,"source":`+src("greeting", "the API's")+`}`), 200, `"latest_version":4`)
	term.send(ctrlA, ctrlK, `    return "the terminal's"`, ctrlS)
	term.waitFor("changes against the active version 3")
	term.send("y")
	term.waitFor("version 4 is newer.")
	term.send("o")
	term.waitFor("saved greet.js version 5")
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+id, ""), 200, `"latest_version":5`, `the terminal's`)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+id+"/versions/4", ""), 200, `the API's`)

	// Unsaved text: a rollback and ctrl+c ask first, and no keeps it.
	term.send(" // unsaved")
	term.waitFor("modified")
	term.send("\x0f")
	term.waitFor("versions of greet.js")
	term.send("j", enter)
	term.waitFor("make version 4 active and throw away your unsaved changes?")
	term.send("n", esc)
	term.waitFor("modified")
	term.send(ctrlC)
	term.waitFor("quit and throw away your changes to greet.js?")
	term.send("n")
	term.waitFor("ctrl+s save") // the editor's keys again
	select {
	case <-term.done:
		t.Fatal("picloud tui quit after n")
	default:
	}
	term.send(ctrlC, "y")
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
		t.Fatal("picloud tui did not quit after ctrl+c and y")
	}
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+id, ""), 200, `"latest_version":5`, `"active_version":5`)
}

// TestTUILogsReconnect keeps the live logs open while the daemon restarts:
// they say they reconnect, are live again once it is back, and show the
// requests after it.
func TestTUILogsReconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	created := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "hello.js",
		"source": "export default { async fetch() { return new Response('hi') } }"}))
	d.expect(created, 201)
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+created.field(t, "id").(string)+"/routes",
		mustJSON(map[string]string{"method": "GET", "path": "/hello"})), 201)

	term := startTerminal(t, d.env, bin, "tui")
	term.waitFor("default")
	term.send("l")
	term.waitFor("● live")

	d.stop()
	term.waitFor("reconnecting in")
	term.mark = len(term.text())
	d.start()
	term.waitFor("● live")
	term.waitFor("live logs reconnected")

	res, err := d.get(d.url + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /hello answered %d", res.StatusCode)
	}
	term.waitFor("GET /hello")

	// r opens the stream anew.
	term.send(esc, "l")
	term.waitFor("GET /hello")
	term.send("r")
	term.waitFor("live logs reconnected")
	term.send(ctrlC)
}
