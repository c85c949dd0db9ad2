package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// hostile is what an anonymous caller or a script puts into data that the
// operator's terminal shows: an OSC that sets the window title (ended by
// BEL), an SGR that turns the text red, a C1 CSI and a right-to-left
// override.
const hostile = "\x1b]0;PWNED\x07\x1b[31m\u009b31m\u202e"

// hostileShown is hostile as a terminal must show it: every control
// character escaped, none interpreted.
const hostileShown = `\x1b]0;PWNED\a\x1b[31m\u009b31m\u202e`

// hostileInURL is hostile percent-encoded in a URL path.
const hostileInURL = "%1b%5d0%3bPWNED%07%1b%5b31m%c2%9b31m%e2%80%ae"

// raw is every byte the program wrote to the terminal, escape sequences
// and all.
func (term *terminal) raw() []byte {
	term.mu.Lock()
	defer term.mu.Unlock()
	return bytes.Clone(term.out.Bytes())
}

// injected says what of hostile reached out as bytes a terminal acts on:
// the OSC, its BEL, any C1 control or bidirectional override. The program's
// own escape sequences (cursor movement, SGR) are none of these.
func injected(out []byte) string {
	switch {
	case bytes.Contains(out, []byte("\x1b]0;PWNED")):
		return "ESC ] 0 ; PWNED (the window title OSC)"
	case bytes.Contains(out, []byte("PWNED\x07")):
		return "PWNED BEL"
	}
	for i := 0; i < len(out); {
		r, n := utf8.DecodeRune(out[i:])
		if (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return fmt.Sprintf("the character %U", r)
		}
		i += n
	}
	return ""
}

// clean fails the test when hostile bytes reached the terminal by the time
// it showed the screen named where.
func (term *terminal) clean(where string) {
	term.t.Helper()
	if what := injected(term.raw()); what != "" {
		term.t.Fatalf("on %s, %s reached the terminal raw", where, what)
	}
}

// TestTerminalShowsDataEscaped drives picloud tui in a pseudo-terminal
// against the real daemon after an anonymous caller and a script put
// escape sequences, C1 controls and bidirectional overrides into the
// execution log (the path, console output, error), a response (body and
// header), an app's description and a script's source: every screen shows
// them escaped and none reaches the terminal as bytes it acts on. The
// editor shows the source's control characters as symbols and saves them
// unchanged. The commands that print data escape it too.
func TestTerminalShowsDataEscaped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()

	d.expect(d.call("POST", "/api/v1/admin/apps", mustJSON(map[string]string{"name": "evil", "description": "desc " + hostile})), 201)

	// The source holds the raw characters in a comment, a tab-indented
	// body and one line ended by CR LF; its strings make them at run time.
	// A header value may not hold ASCII controls (clients refuse the
	// response) nor, being a ByteString, characters past U+00FF (Headers
	// refuses them), but C1 controls pass.
	src := "// " + hostile + " raw in a comment\r\n" +
		`const evil = "\x1b]0;PWNED\x07\x1b[31m\u009b31m\u202e"` + "\n" +
		"export default {\n" +
		"\tasync fetch(request, env, ctx) {\n" +
		"\t\tconsole.log(\"console \" + evil)\n" +
		"\t\tif (ctx.params.rest.startsWith(\"boom\")) throw new Error(\"thrown \" + evil)\n" +
		"\t\treturn new Response(\"body \" + evil, { headers: { \"X-Evil\": \"header \u009b31m\" } })\n" +
		"\t}\n" +
		"}\n"
	created := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "hostile.js", "source": src}))
	d.expect(created, 201)
	id := created.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+id+"/routes", `{"method":"GET","path":"/evil/*rest"}`), 201)

	// Anonymous callers: one ordinary execution, one that throws.
	saved := d.token
	d.token = ""
	d.expect(d.call("GET", "/evil/x"+hostileInURL, ""), 200, "body "+hostile)
	d.expect(d.call("GET", "/evil/boom"+hostileInURL, ""), 500)
	d.token = saved
	d.await("both executions logged", "GET", "/api/v1/admin/logs?script_id="+id, "", func(r reply) error {
		if n := strings.Count(r.body, `"request_id"`); n < 2 {
			return fmt.Errorf("%d records: %.500s", n, r.body)
		}
		return nil
	})

	term := startTerminal(t, d.env, bin, "tui")
	term.waitFor("admin (owner)")
	term.waitFor("evil")
	term.clean("the apps screen")
	term.waitFor("desc " + hostileShown)

	// The logs of all apps, then the execution that threw: its path,
	// console line and error.
	term.send("L")
	term.waitFor("2 shown")
	term.clean("the logs of all apps")
	term.send(enter)
	term.waitFor("request id")
	term.clean("the execution that threw")
	term.waitFor("GET /evil/boom" + hostileShown)
	term.waitFor("console " + hostileShown)
	term.waitFor("thrown " + hostileShown)
	term.send(esc, "\x1b[A", enter)
	term.waitFor("request id")
	term.clean("the execution")
	term.waitFor("GET /evil/x" + hostileShown)

	// Try it: the response's body and header.
	term.send(esc, esc)
	term.waitFor("logs of all apps") // the apps' help bar
	term.send(enter)
	term.waitFor("hostile.js")
	term.send("x")
	term.waitFor("/evil/rest")
	term.send(ctrlS)
	term.waitFor("200 OK")
	term.clean("the try-it response")
	term.waitFor("body " + hostileShown)
	term.waitFor(`X-Evil: header \u009b31m`)

	// The editor shows the source's control characters as symbols; an
	// edit saved through it keeps every one of them.
	term.send(esc)
	term.waitFor("hostile.js")
	term.send(enter)
	term.waitFor("hostile.js · js · version 1 active")
	term.waitFor("// ␛]0;PWNED␇␛[31m")
	term.clean("the editor")
	term.send("// edited", enter, ctrlS)
	term.waitFor("changes against the active version 1")
	term.clean("the diff before saving")
	term.send("y")
	term.waitFor("saved hostile.js version 2")
	term.send(ctrlC)
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
		t.Fatal("picloud tui did not quit on ctrl+c")
	}
	term.clean("the way out")
	got := d.call("GET", "/api/v1/admin/scripts/"+id, "")
	d.expect(got, 200)
	if want := "// edited\n" + src; got.field(t, "source") != want {
		t.Fatalf("the source saved through the editor:\n%q\nwant\n%q", got.field(t, "source"), want)
	}

	// The commands print the names and errors they are given escaped.
	for _, args := range [][]string{
		{"user", "add", "x" + hostile, "--password-stdin"},
		{"user", "add-key", "x" + hostile},
	} {
		out, err := d.picloud("a long password\n", args...)
		if err == nil {
			t.Fatalf("picloud %s succeeded:\n%s", args[1], out)
		}
		if what := injected([]byte(out)); what != "" {
			t.Errorf("picloud %s printed %s raw:\n%q", args[1], what, out)
		}
		if !strings.Contains(out, "x"+hostileShown) {
			t.Errorf("picloud %s did not show the name escaped:\n%q", args[1], out)
		}
	}
}

// TestStatusPrintsWhatItReadsEscaped points picloud status at a listener
// that answers its health check with escape sequences: the command prints
// them escaped.
func TestStatusPrintsWhatItReadsEscaped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("sick " + hostile))
		case "/version":
			_, _ = w.Write([]byte(mustJSON(map[string]string{"picloud": "v " + hostile})))
		default:
			http.NotFound(w, r)
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	d := newDaemon(t, bin, "PICLOUD_LISTEN="+ln.Addr().String())
	out, err := d.picloud("", "status")
	if err == nil {
		t.Fatalf("picloud status of an unhealthy daemon succeeded:\n%s", out)
	}
	if what := injected([]byte(out)); what != "" {
		t.Errorf("picloud status printed %s raw:\n%q", what, out)
	}
	for _, want := range []string{"sick " + hostileShown, "v " + hostileShown} {
		if !strings.Contains(out, want) {
			t.Errorf("picloud status does not show %s:\n%q", want, out)
		}
	}
}
