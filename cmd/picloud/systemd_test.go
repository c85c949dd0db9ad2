package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// notifySocket is a fake systemd: a unixgram socket collecting sd_notify
// datagrams.
type notifySocket struct {
	t    *testing.T
	conn *net.UnixConn
	path string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	// A short directory: sun_path holds 108 bytes.
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &notifySocket{t: t, conn: conn, path: path}
}

// next returns the next datagram, or "" when none arrives within d.
func (n *notifySocket) next(d time.Duration) string {
	buf := make([]byte, 4096)
	_ = n.conn.SetReadDeadline(time.Now().Add(d))
	k, err := n.conn.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:k])
}

// waitFor reads datagrams until one has a line equal to want; it fails on
// a line in forbidden first, or after d.
func (n *notifySocket) waitFor(want string, d time.Duration, forbidden ...string) string {
	n.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		msg := n.next(time.Until(deadline))
		for _, line := range strings.Split(msg, "\n") {
			for _, f := range forbidden {
				if line == f {
					n.t.Fatalf("got %q before %q", msg, want)
				}
			}
			if line == want {
				return msg
			}
		}
	}
	n.t.Fatalf("no %q within %s", want, d)
	return ""
}

// TestSystemdNotify runs the real binary under a fake NOTIFY_SOCKET and
// watchdog: READY=1 comes once /healthz answers, WATCHDOG=1 keeps coming
// while the database answers and stops while PostgreSQL is frozen, and
// SIGTERM brings STOPPING=1 and a clean exit.
func TestSystemdNotify(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	sock := newNotifySocket(t)
	const watchdog = 3 * time.Second
	d := newDaemon(t, bin, "NOTIFY_SOCKET="+sock.path,
		"WATCHDOG_USEC="+strconv.FormatInt(watchdog.Microseconds(), 10))
	d.launch(exec.Command(d.bin, "serve"))

	// READY first (a first start runs initdb), and /healthz answers then.
	ready := sock.waitFor("READY=1", 2*time.Minute, "WATCHDOG=1", "STOPPING=1")
	if !strings.Contains(ready, "STATUS=Serving on "+d.url) {
		t.Errorf("READY message %q lacks the status line with %s", ready, d.url)
	}
	res, err := http.Get(d.url + "/healthz")
	if err != nil {
		t.Fatalf("/healthz after READY: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/healthz after READY: %d", res.StatusCode)
	}

	// picloud status tells how to reach it and how to make the first user.
	if out, err := d.picloud("", "status"); err != nil || !strings.Contains(out, "running and healthy") ||
		!strings.Contains(out, "user add") || !strings.Contains(out, d.url) {
		t.Errorf("picloud status: %v\n%s", err, out)
	}

	// Keep-alives while healthy, at least every half interval or so.
	for range 3 {
		sock.waitFor("WATCHDOG=1", watchdog, "STOPPING=1")
	}

	// Freeze PostgreSQL, the postmaster and its backends (each its own
	// session): the health check hangs, so the keep-alives stop and systemd
	// would restart the daemon.
	pg := postmasterPid(t, d.dataDir)
	frozen := append(childPids(t, pg), pg)
	for _, pid := range frozen {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			for _, pid := range frozen {
				_ = syscall.Kill(pid, syscall.SIGCONT)
			}
		}
	}
	defer thaw()
	// Drain what was sent before, and what a check in flight may still send.
	for deadline := time.Now().Add(watchdog / 2); time.Now().Before(deadline); {
		sock.next(time.Until(deadline))
	}
	for deadline := time.Now().Add(watchdog + watchdog/2); time.Now().Before(deadline); {
		msg := sock.next(time.Until(deadline))
		if strings.Contains(msg, "WATCHDOG=1") {
			t.Fatalf("watchdog fed while PostgreSQL was frozen: %q", msg)
		}
	}
	if !strings.Contains(d.output.String(), "health check failed") {
		t.Errorf("no 'health check failed' log line while PostgreSQL was frozen")
	}

	// Thawed, it recovers by itself.
	thaw()
	sock.waitFor("WATCHDOG=1", 2*watchdog, "STOPPING=1")

	// SIGTERM: STOPPING=1, then a clean exit.
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sock.waitFor("STOPPING=1", 30*time.Second)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	d.waitExit(done)
}

// postmasterPid reads the first line of the private cluster's postmaster.pid.
func postmasterPid(t *testing.T, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "postgres", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 0 {
		t.Fatalf("bad postmaster.pid: %q", b)
	}
	return pid
}

// childPids lists the direct children of pid, from /proc.
func childPids(t *testing.T, pid int) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		i := bytes.LastIndexByte(b, ')')
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			if n, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
				out = append(out, n)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("postmaster %d has no children", pid)
	}
	return out
}
