package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// SIGHUP applies a changed configuration file to the running daemon: the
// limits at once, the fetch policy through fresh workers; a file with an
// error is refused and the running configuration stays. Each reload is
// awaited by its end, READY=1 after RELOADING=1 on the notify socket, which
// the daemon sends once the reload is applied or refused: nothing of it can
// come after the checks.
func TestReloadOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "upstream") }))
	defer upstream.Close()
	port := upstream.Listener.Addr().(*net.TCPAddr).Port

	bin := buildBinary(t)
	sock := newNotifySocket(t)
	d := newDaemon(t, bin, "NOTIFY_SOCKET="+sock.path)
	var conf string
	for _, kv := range d.env {
		if v, ok := strings.CutPrefix(kv, "PICLOUD_CONFIG="); ok {
			conf = v
		}
	}
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(conf, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d.startAsOwner()
	sock.waitFor("READY=1", time.Minute, "RELOADING=1")
	// reloaded waits for the end of a reload asked for from now on.
	reloaded := func() {
		t.Helper()
		sock.waitFor("RELOADING=1", time.Minute)
		sock.waitFor("READY=1", 5*time.Minute)
	}
	d.deploy("", "fetcher", fmt.Sprintf(`export default async () => {
  try { const r = await fetch("http://127.0.0.1:%d/"); return "reached " + await r.text() } catch (e) { return e.message }
}`, port), "GET", "/fetch")
	d.deploy("", "deep", `function f(n) { return n === 0 ? 0 : f(n - 1) + 1 }
export default () => String(f(800))`, "GET", "/deep")

	if r := d.call("GET", "/fetch", ""); !strings.Contains(r.body, "refused by the fetch policy") {
		t.Fatalf("before the reload, fetch answered %d %s", r.status, r.body)
	}
	d.expect(d.call("GET", "/deep", ""), 500, `"code":"limit.stack"`)

	write(fmt.Sprintf("PICLOUD_FETCH_ALLOW=127.0.0.1:%d\nPICLOUD_SANDBOX_CALL_DEPTH=1000\nPICLOUD_MAX_CONCURRENT_EXECUTIONS=3\n", port))
	// What the unit's ExecReload runs.
	if out, err := d.picloud("", "reload", strconv.Itoa(d.cmd.Process.Pid)); err != nil {
		t.Fatalf("picloud reload: %v\n%s", err, out)
	}
	if out, err := d.picloud("", "reload", "nonsense"); err == nil {
		t.Errorf("picloud reload nonsense succeeded: %s", out)
	}
	reloaded()
	d.expect(d.call("GET", "/fetch", ""), 200, "reached upstream")
	d.expect(d.call("GET", "/deep", ""), 200, "800")

	// A broken file: refused, the daemon keeps its configuration. Applied,
	// it would bring back the default call depth, where /deep fails.
	write("PICLOUD_SANDBOX_CALL_DEPTH=lots\n")
	mark := d.output.Len()
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	reloaded()
	// The log line may reach the output just after READY=1 reaches the
	// notify socket.
	testkit.Eventually(t, 10*time.Second, "the reload of a broken file is refused", func() error {
		return d.output.Contains(mark, "the configuration has errors; keeping the running one")
	})
	if err := d.output.Contains(mark, "configuration reloaded"); err == nil {
		t.Fatal("the broken file was applied")
	}
	d.expect(d.call("GET", "/deep", ""), 200, "800")
	d.expect(d.call("GET", "/fetch", ""), 200, "reached upstream")

	d.stop()
	out := d.output.String()
	for _, want := range []string{"configuration reloaded", "take effect after a restart", "PICLOUD_MAX_CONCURRENT_EXECUTIONS",
		"the configuration has errors; keeping the running one", "is not a whole number"} {
		if !strings.Contains(out, want) {
			t.Errorf("the daemon's log lacks %q", want)
		}
	}
}
