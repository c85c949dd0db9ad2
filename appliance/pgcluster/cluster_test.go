package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

func TestLifecycle(t *testing.T) {
	// None of this may reach postgres.
	t.Setenv("NOTIFY_SOCKET", "/run/systemd/notify")
	t.Setenv("LISTEN_FDS", "3")
	t.Setenv("PGDATA", "/nonexistent")
	t.Setenv("PGPORT", "1")
	dataDir := testDataDir(t)
	c := startCluster(t, dataDir)
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", c.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range strings.Split(string(environ), "\x00") {
		if name, _, _ := strings.Cut(v, "="); name != "PATH" && name != "LANG" && name != "TZ" && name != "" {
			t.Errorf("postgres inherited %s", v)
		}
	}

	conn := connect(t, c.ConnString())
	if got := show(t, conn, "listen_addresses"); got != "" {
		t.Errorf("listen_addresses = %q, want empty (no TCP)", got)
	}
	if got := show(t, conn, "data_checksums"); got != "on" {
		t.Errorf("data_checksums = %q, want on", got)
	}
	for setting, want := range map[string]string{
		"fsync": "on", "full_page_writes": "on", "shared_buffers": "16MB",
		"max_connections": "20", "server_encoding": "UTF8", "lc_collate": "C",
	} {
		if got := show(t, conn, setting); got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
	}
	var db, user string
	if err := conn.QueryRow(context.Background(), "SELECT current_database(), current_user").Scan(&db, &user); err != nil {
		t.Fatal(err)
	}
	if db != "picloud" || user != SuperUser {
		t.Errorf("connected to %s as %s, want picloud as %s", db, user, SuperUser)
	}
	if _, err := conn.Exec(context.Background(), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('hello')"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(context.Background())

	sockDir := filepath.Join(dataDir, socketDirName)
	if fi, err := os.Stat(sockDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory %s: %v, mode %v; want 0700", sockDir, err, fi.Mode().Perm())
	}
	// A second cluster on the same directory is refused while the first runs.
	other, err := New(Config{DataDir: dataDir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if other.ConnString() != c.ConnString() {
		t.Errorf("ConnString before Start = %s, want %s", other.ConnString(), c.ConnString())
	}
	if err := other.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Start on a running data directory: %v, want 'already running'", err)
	}

	pid := c.Pid()
	stop(t, c)
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after Shutdown")
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err after Shutdown = %v, want nil", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postmaster %d still there after Shutdown: kill 0 = %v", pid, err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d not empty after Shutdown: kill 0 = %v", pid, err)
	}
	if fileExists(filepath.Join(dataDir, "postmaster.pid")) {
		t.Error("postmaster.pid left after a clean shutdown")
	}
	stop(t, c) // idempotent

	// Restart on the same directory: the data is still there.
	c2 := startCluster(t, dataDir)
	var v string
	if err := connect(t, c2.ConnString()).QueryRow(context.Background(), "SELECT v FROM kept").Scan(&v); err != nil || v != "hello" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
}

// TestCrashAndStalePid simulates a power cut (every postgres process killed,
// postmaster.pid and the socket lock left behind), then a stale pid file whose
// pid now belongs to an unrelated running process.
func TestCrashAndStalePid(t *testing.T) {
	dataDir := testDataDir(t)
	c := startCluster(t, dataDir)
	pidFile := filepath.Join(dataDir, "postmaster.pid")
	saved, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}

	pid := c.Pid()
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed after postgres was killed")
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "unexpectedly") {
		t.Errorf("Err after a crash = %v, want 'exited unexpectedly'", err)
	}
	waitGroupGone(t, pid)
	if !fileExists(pidFile) {
		t.Fatal("expected postmaster.pid to survive SIGKILL")
	}

	c2 := startCluster(t, dataDir)
	connect(t, c2.ConnString())
	stop(t, c2)

	// The pid in the stale file now belongs to an unrelated process of the
	// same user: PostgreSQL alone would refuse to start.
	sleeper := startSleeper(t)
	_, rest, _ := strings.Cut(string(saved), "\n")
	stale := []byte(strconv.Itoa(sleeper) + "\n" + rest)
	if err := os.WriteFile(pidFile, stale, 0o600); err != nil {
		t.Fatal(err)
	}
	c3 := startCluster(t, dataDir)
	connect(t, c3.ConnString())

	// An empty pid file (power cut while PostgreSQL wrote it).
	stop(t, c3)
	if err := os.WriteFile(pidFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c4 := startCluster(t, dataDir)
	connect(t, c4.ConnString())
}

// TestLongDataDir: the socket cannot live inside a data directory whose path
// is too long for sun_path, so it goes to a private directory under /tmp.
func TestLongDataDir(t *testing.T) {
	dataDir := filepath.Join(testDataDir(t), strings.Repeat("d", 100))
	if err := os.MkdirAll(filepath.Dir(dataDir), 0o755); err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, dataDir)
	conn := connect(t, c.ConnString())
	dir := strings.Trim(show(t, conn, "unix_socket_directories"), `"`)
	if strings.HasPrefix(dir, dataDir) || len(dir)+1+len(socketFile) > maxSocketPath {
		t.Errorf("unix_socket_directories = %q", dir)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory %s: %v, want mode 0700", dir, err)
	}
	_ = conn.Close(context.Background())
	stop(t, c)
	if fileExists(dir) {
		t.Errorf("fallback socket directory %s left behind", dir)
	}
}

func TestVersionMismatch(t *testing.T) {
	dataDir := testDataDir(t)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "PG_VERSION"), []byte("14\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{DataDir: dataDir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "created by PostgreSQL 14") || !strings.Contains(err.Error(), "apt-get install postgresql-14") {
		t.Fatalf("Start on a PostgreSQL 14 data directory: %v", err)
	}
	t.Log(err)
}

// waitGroupGone waits until no process of the group pgid is left.
func waitGroupGone(t *testing.T, pgid int) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, "the cluster's processes end", func() error {
		if syscall.Kill(-pgid, 0) == nil {
			return fmt.Errorf("process group %d is still there", pgid)
		}
		return nil
	})
}

// TestInterruptedInitdb: a power cut during the first initdb leaves a partial
// directory and the marker; the next start initialises again.
func TestInterruptedInitdb(t *testing.T) {
	dataDir := testDataDir(t)
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"PG_VERSION": "15\n", "half-written": "x"} {
		if err := os.WriteFile(filepath.Join(dataDir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(dataDir+".initdb-incomplete", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, dataDir)
	connect(t, c.ConnString())
	if fileExists(dataDir+".initdb-incomplete") || fileExists(filepath.Join(dataDir, "half-written")) {
		t.Error("interrupted initdb not cleaned up")
	}
}
