package workers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
	"github.com/picloud/picloud/engine"
)

// procEnv reads the names of a process's environment variables.
func procEnv(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, kv := range bytes.Split(b, []byte{0}) {
		if k, _, ok := strings.Cut(string(kv), "="); ok {
			names = append(names, k)
		}
	}
	return names
}

// checkConfined checks a worker process from outside: no capabilities,
// no_new_privs, and a seccomp filter where the kernel has seccomp.
func checkConfined(t *testing.T, pid int) {
	t.Helper()
	st := testkit.ProcStatus(t, pid)
	for _, f := range []string{"CapInh", "CapPrm", "CapEff", "CapAmb"} {
		if v, err := strconv.ParseUint(st[f], 16, 64); err != nil || v != 0 {
			t.Errorf("worker %d: %s %q, want no capabilities", pid, f, st[f])
		}
	}
	if st["NoNewPrivs"] != "1" {
		t.Errorf("worker %d: NoNewPrivs %q, want 1", pid, st["NoNewPrivs"])
	}
	if _, has := testkit.ProcStatus(t, os.Getpid())["Seccomp"]; has && st["Seccomp"] != "2" {
		t.Errorf("worker %d: Seccomp %q, want 2 (a filter)", pid, st["Seccomp"])
	}
}

// hello runs a script on the pool and checks its answer; then every
// worker has answered one (Ping), so each is past its start-up.
func hello(t *testing.T, p *Pool) {
	t.Helper()
	if err := p.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := p.Execute(context.Background(), &engine.Invocation{ScriptID: "hello", Version: 1,
		Code: script(t, `export default () => new Response("hello")`), Request: engine.Request{Method: "GET", URL: "http://pi/"},
		Limits: engine.Limits{WallTime: 5 * time.Second}})
	if err != nil || res.Error != nil || string(res.Response.Body) != "hello" {
		t.Fatalf("hello: %v %+v", err, res)
	}
}

// Whoever starts them, real workers drop every capability, set
// no_new_privs and install the system-call filter before running scripts;
// and they see none of the daemon's environment.
func TestRealWorkersAreConfined(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://picloud:secret@localhost/picloud")
	p := startPool(t, "real", Config{Workers: 2, PerWorker: 2})
	hello(t, p)
	for _, pid := range p.PIDs() {
		checkConfined(t, pid)
		for _, k := range procEnv(t, pid) {
			if k != "PICLOUD_TEST_WORKER" && k != envEngine && k != "GOMAXPROCS" && !slices.Contains(inherited, k) {
				t.Errorf("worker %d has %s in its environment", pid, k)
			}
		}
	}
}

// copyBinary copies this test binary into a new directory of the given
// mode (its parents made traversable), as an executable of the given mode.
func copyBinary(t *testing.T, dirMode, fileMode os.FileMode) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bin := filepath.Join(dir, "workers.test")
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fileMode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}

func nobody(t *testing.T) *Identity {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("switching users needs root")
	}
	id, err := WorkerIdentity("nobody", 0)
	if err != nil {
		t.Skip(err)
	}
	return id
}

// A daemon running as root starts its workers as the unprivileged user:
// every user and group id theirs, no supplementary group, no capability.
func TestWorkersRunAsTheUnprivilegedUser(t *testing.T) {
	id := nobody(t)
	bin := copyBinary(t, 0o755, 0o755)
	p := New(Config{Command: []string{bin}, Env: []string{"PICLOUD_TEST_WORKER=real"}, Workers: 1, PerWorker: 2, User: id},
		slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	hello(t, p)
	pid := p.PIDs()[0]
	st := testkit.ProcStatus(t, pid)
	uid, gid := strconv.Itoa(int(id.UID)), strconv.Itoa(int(id.GID))
	if st["Uid"] != strings.Join([]string{uid, uid, uid, uid}, "\t") || st["Gid"] != strings.Join([]string{gid, gid, gid, gid}, "\t") {
		t.Errorf("Uid %q, Gid %q, want %s and %s throughout", st["Uid"], st["Gid"], uid, gid)
	}
	if st["Groups"] != "" {
		t.Errorf("supplementary groups %q, want none", st["Groups"])
	}
	checkConfined(t, pid)
}

// A user who cannot execute the binary makes Start fail with an error
// that says who and why, not a bare "permission denied".
func TestWorkerUserWhoCannotRunTheBinary(t *testing.T) {
	id := nobody(t)
	bin := copyBinary(t, 0o755, 0o700)
	p := New(Config{Command: []string{bin}, Env: []string{"PICLOUD_TEST_WORKER=real"}, Workers: 1, User: id}, nil)
	err := p.Start(context.Background())
	if err == nil {
		_ = p.Shutdown(context.Background())
		t.Fatal("a worker started from a binary its user cannot execute")
	}
	for _, want := range []string{"as user nobody", "permission denied", "must be able to execute the binary"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestWorkerIdentity(t *testing.T) {
	if _, err := WorkerIdentity("root", 0); err == nil || !strings.Contains(err.Error(), "must not run as root") {
		t.Errorf("root: %v", err)
	}
	if _, err := WorkerIdentity("no-such-user-here", 0); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing user: %v", err)
	}
	if id, err := WorkerIdentity("", 0); err == nil {
		want := "nobody"
		if _, err := user.Lookup("picloud"); err == nil {
			want = "picloud"
		}
		if id.Name != want || id.UID == 0 {
			t.Errorf("the default: %v, want %s", id, want)
		}
	}
	// A daemon that is not root cannot switch: its workers run as it does.
	if id, err := WorkerIdentity("", 1000); id != nil || err != nil {
		t.Errorf("not root: %v %v", id, err)
	}
	if _, err := WorkerIdentity("nobody", 12345); err == nil || !strings.Contains(err.Error(), "needs the daemon to run as root") {
		t.Errorf("not root, another user: %v", err)
	}
}

// A confined worker reads /etc/resolv.conf as it was when it started: when
// a network manager replaces the file, the pool replaces its workers (a
// file rewritten in place keeps its identity: TestFileIDs).
func TestWorkersFollowReplacedResolverFiles(t *testing.T) {
	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 192.0.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPool(t, "fake", Config{Workers: 2, WatchFiles: []string{resolv}, WatchInterval: 10 * time.Millisecond})
	before := p.PIDs()
	// Rewritten in place: the same file.
	if err := os.WriteFile(resolv, []byte("nameserver 192.0.2.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Replaced, as network managers do: a new file renamed over it.
	next := filepath.Join(dir, "resolv.conf.new")
	if err := os.WriteFile(next, []byte("nameserver 192.0.2.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, resolv); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "both workers replaced after the file was replaced", func() error {
		if now := p.PIDs(); len(now) != 2 || contains(now, before[0]) || contains(now, before[1]) {
			return fmt.Errorf("workers %v still include some of %v", now, before)
		}
		return nil
	})
	if res := run(t, p, "pid", 5*time.Second); code(res) != "ok" {
		t.Fatalf("after the replacement: %s", code(res))
	}
}

func TestFileIDs(t *testing.T) {
	f := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(f, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := fileIDs([]string{f})
	if err := os.WriteFile(f, []byte("127.0.0.1 localhost pi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b := fileIDs([]string{f}); b != a {
		t.Errorf("a file rewritten in place changed identity: %q, %q", a, b)
	}
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	if c := fileIDs([]string{f}); c == a {
		t.Errorf("a removed file kept its identity %q", c)
	}
}
