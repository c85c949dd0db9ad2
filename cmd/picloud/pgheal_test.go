package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// postmaster is the pid of the PostgreSQL running on the daemon's data
// directory, failing the test when there is none.
func (d *daemon) postmaster() int {
	d.t.Helper()
	var pid int
	testkit.Eventually(d.t, 60*time.Second, "a PostgreSQL runs on the data directory", func() error {
		if pg := clusterProcesses(d.dataDir); len(pg) > 0 {
			pid = pg[0]
			return nil
		}
		return errors.New("none")
	})
	return pid
}

// parentOf is the parent pid of a running process.
func parentOf(t *testing.T, pid int) int {
	t.Helper()
	_, ppid, live := procStat(fmt.Sprintf("/proc/%d/stat", pid))
	if !live {
		t.Fatalf("process %d is not running", pid)
	}
	return ppid
}

// TestPostgresKilledIsRestarted: kill -9 of the private PostgreSQL no
// longer stops the daemon. Routes that need no database keep answering,
// the cluster is started again under the daemon, and the data and the
// admin API work again without a restart of the daemon.
func TestPostgresKilledIsRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real daemon")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	d.deploy("", "hello", `export default { fetch() { return new Response("hello") } }`, "GET", "/hello")
	d.deploy("", "count", `import { kv } from "picloud"
export default { async fetch() { return new Response(String((await kv.collection("c").incr("n", 1)).value)) } }`, "POST", "/count")
	d.expect(d.call("POST", "/count", ""), 200, "1")

	old := d.postmaster()
	if ppid := parentOf(t, old); ppid != d.cmd.Process.Pid {
		t.Fatalf("PostgreSQL's parent is %d, not the daemon %d", ppid, d.cmd.Process.Pid)
	}
	from := d.output.Len()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.logged(from, "PostgreSQL exited unexpectedly")
	// While PostgreSQL is away or coming back, a route without data answers.
	d.expect(d.call("GET", "/hello", ""), 200, "hello")

	d.logged(from, "PostgreSQL is back")
	d.await("the data works again", "POST", "/count", "", has("2"))
	d.expect(d.call("GET", "/api/v1/admin/scripts", ""), 200, "hello", "count")
	if d.cmd.ProcessState != nil {
		t.Fatal("the daemon exited")
	}
	now := d.postmaster()
	if now == old {
		t.Fatalf("PostgreSQL still has pid %d", old)
	}
	if ppid := parentOf(t, now); ppid != d.cmd.Process.Pid {
		t.Fatalf("the restarted PostgreSQL's parent is %d, not the daemon %d", ppid, d.cmd.Process.Pid)
	}
	// The executions of the outage reach the log.
	d.await("the executions are logged", "GET", "/api/v1/admin/logs?limit=50", "", has(`"status":200`))

	d.stop()
	if err := anyLive([]int{now}); err != nil {
		t.Fatalf("PostgreSQL outlived a clean stop: %v", err)
	}
}

// TestDaemonKilledLeavesNoCluster: kill -9 of the daemon takes its
// PostgreSQL down too (it shuts down fast, cleanly), and the next daemon
// runs exactly one cluster, its own.
func TestDaemonKilledLeavesNoCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real daemon")
	}
	d := newDaemon(t, buildBinary(t))
	d.start()
	pg := clusterProcesses(d.dataDir)
	if len(pg) == 0 {
		t.Fatal("no PostgreSQL")
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = d.cmd.Wait()
	testkit.Eventually(t, 60*time.Second, "PostgreSQL stops with its daemon", func() error { return anyLive(pg) })

	d.start()
	pm := d.postmaster()
	if ppid := parentOf(t, pm); ppid != d.cmd.Process.Pid {
		t.Fatalf("PostgreSQL's parent is %d, not the daemon %d", ppid, d.cmd.Process.Pid)
	}
	d.stop()
	if pg := clusterProcesses(d.dataDir); pg != nil {
		t.Fatalf("PostgreSQL %v outlived a clean stop", pg)
	}
}

// TestDaemonTakesOverARunningCluster: a PostgreSQL already running on the
// data directory without a daemon (left by an older version, or started by
// hand) is stopped and started again under the daemon, which supervises it
// and stops it at the end, instead of being used unsupervised.
func TestDaemonTakesOverARunningCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real daemon")
	}
	d := newDaemon(t, buildBinary(t))
	d.start()
	pm := d.postmaster()
	args, uid, gid := commandOf(t, pm)
	d.stop()

	// The same postgres, started as the daemon did, but by someone else.
	orphan := exec.Command(args[0], args[1:]...)
	orphan.Dir = filepath.Join(d.dataDir, "postgres")
	orphan.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = orphan.Wait() }()
	t.Cleanup(func() { _ = syscall.Kill(-orphan.Process.Pid, syscall.SIGKILL) })
	testkit.Eventually(t, 60*time.Second, "the hand-started PostgreSQL runs", func() error {
		if pg := clusterProcesses(d.dataDir); len(pg) == 0 || pg[0] != orphan.Process.Pid {
			return fmt.Errorf("running: %v", pg)
		}
		return nil
	})

	d.start() // a new output
	d.logged(0, "stopped the PostgreSQL left running")
	pm = d.postmaster()
	if pm == orphan.Process.Pid {
		t.Fatal("the daemon uses the PostgreSQL it did not start")
	}
	if ppid := parentOf(t, pm); ppid != d.cmd.Process.Pid {
		t.Fatalf("PostgreSQL's parent is %d, not the daemon %d", ppid, d.cmd.Process.Pid)
	}
	d.stop()
	if pg := clusterProcesses(d.dataDir); pg != nil {
		t.Fatalf("PostgreSQL %v outlived a clean stop", pg)
	}
}

// TestOneDaemonPerDataDirectory: a second daemon on the same data refuses
// to start, naming the first, and leaves the first one's PostgreSQL alone.
func TestOneDaemonPerDataDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real daemon")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.start()
	pm := d.postmaster()

	var env []string
	for _, kv := range d.env {
		if !strings.HasPrefix(kv, "PICLOUD_LISTEN=") {
			env = append(env, kv)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	second := exec.CommandContext(ctx, bin, "serve")
	second.Env = append(env, "PICLOUD_LISTEN="+freePort(t))
	out, err := second.CombinedOutput()
	if err == nil {
		t.Fatalf("a second daemon started:\n%s", out)
	}
	want := fmt.Sprintf("another picloud daemon (pid %d) already runs on the data directory", d.cmd.Process.Pid)
	if !strings.Contains(string(out), want) {
		t.Fatalf("the second daemon said:\n%s\nwant %q", out, want)
	}
	if now := d.postmaster(); now != pm {
		t.Fatalf("PostgreSQL changed from %d to %d", pm, now)
	}
	d.expect(d.call("GET", "/healthz", ""), 200)
	d.stop()
}

// commandOf is a running process's command line and user.
func commandOf(t *testing.T, pid int) (args []string, uid, gid uint32) {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatal(err)
	}
	args = strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "Uid:" || f[0] == "Gid:") {
			n, _ := strconv.Atoi(f[1])
			if f[0] == "Uid:" {
				uid = uint32(n)
			} else {
				gid = uint32(n)
			}
		}
	}
	return args, uid, gid
}
