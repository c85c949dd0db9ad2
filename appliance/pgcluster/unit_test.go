package pgcluster

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// fakeInstall creates <root>/<major>/bin with fake initdb and postgres (or
// only psql, for a client-only install).
func fakeInstall(t *testing.T, root, major string, server bool) {
	t.Helper()
	bin := filepath.Join(root, major, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho 'postgres (PostgreSQL) " + major + ".3 (Debian)'\n"
	names := []string{"psql"}
	if server {
		names = []string{"initdb", "postgres"}
	}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindBinaries(t *testing.T) {
	t.Setenv("PATH", "") // no pg_config: only the fake tree counts
	log := slog.New(slog.DiscardHandler)
	setRoot := func(root string) {
		old := debianLibDir
		debianLibDir = root
		t.Cleanup(func() { debianLibDir = old })
	}

	root := t.TempDir()
	setRoot(root)
	fakeInstall(t, root, "12", true)
	fakeInstall(t, root, "14", true)
	fakeInstall(t, root, "16", true)
	fakeInstall(t, root, "17", false) // client only

	for _, tc := range []struct {
		dataMajor, want int
	}{{0, 16}, {14, 14}, {16, 16}, {15, 16}, {12, 16}} {
		b, err := findBinaries("", tc.dataMajor, log)
		if err != nil || b.major != tc.want {
			t.Errorf("data %d: got %d (%s), %v; want %d", tc.dataMajor, b.major, b.dir, err, tc.want)
		}
	}

	if _, err := findBinaries(filepath.Join(root, "12", "bin"), 0, log); err == nil || !strings.Contains(err.Error(), "needs 13") {
		t.Errorf("BinDir with PostgreSQL 12: %v", err)
	}
	if b, err := findBinaries(filepath.Join(root, "14", "bin"), 0, log); err != nil || b.major != 14 {
		t.Errorf("BinDir 14: %v, %v", b, err)
	}
	if _, err := findBinaries(filepath.Join(root, "17", "bin"), 0, log); err == nil {
		t.Error("BinDir without a server accepted")
	}

	for name, tc := range map[string]struct {
		installs map[string]bool
		want     string
	}{
		"nothing":     {nil, "apt-get install postgresql"},
		"too old":     {map[string]bool{"12": true}, "needs 13 or newer"},
		"client only": {map[string]bool{"15": false}, "client tools"},
	} {
		root := t.TempDir()
		setRoot(root)
		for major, server := range tc.installs {
			fakeInstall(t, root, major, server)
		}
		_, err := findBinaries("", 0, log)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func TestChooseSocketDir(t *testing.T) {
	dir, inside, err := chooseSocketDir("/var/lib/picloud/postgres")
	if err != nil || !inside || dir != "/var/lib/picloud/postgres/socket" {
		t.Errorf("short path: %s %v %v", dir, inside, err)
	}
	long := "/var/lib/" + strings.Repeat("x", 90)
	dir, inside, err = chooseSocketDir(long)
	if err != nil || inside || len(dir)+1+len(socketFile) > maxSocketPath {
		t.Errorf("long path: %s %v %v", dir, inside, err)
	}
	again, _, _ := chooseSocketDir(long)
	other, _, _ := chooseSocketDir(long + "y")
	if again != dir || other == dir {
		t.Errorf("fallback must be stable per data directory and differ between them: %s %s %s", dir, again, other)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		line  string
		prev  slog.Level
		level slog.Level
		msg   string
	}{
		{"LOG:  database system is ready to accept connections", slog.LevelDebug, slog.LevelInfo, "database system is ready to accept connections"},
		{"WARNING:  there is no transaction in progress", slog.LevelInfo, slog.LevelWarn, "there is no transaction in progress"},
		{`ERROR:  relation "x" does not exist`, slog.LevelInfo, slog.LevelWarn, `ERROR: relation "x" does not exist`},
		{"FATAL:  could not open file", slog.LevelInfo, slog.LevelError, "FATAL: could not open file"},
		{"PANIC:  could not write to file", slog.LevelInfo, slog.LevelError, "PANIC: could not write to file"},
		{"FATAL:  the database system is starting up", slog.LevelInfo, slog.LevelDebug, "the database system is starting up"},
		{"STATEMENT:  SELECT * FROM x", slog.LevelError, slog.LevelError, "STATEMENT:  SELECT * FROM x"},
		{"HINT:  No function matches", slog.LevelWarn, slog.LevelWarn, "HINT:  No function matches"},
		{"\tFROM x", slog.LevelError, slog.LevelError, "\tFROM x"},
	} {
		level, msg := classify(tc.line, tc.prev)
		if level != tc.level || msg != tc.msg {
			t.Errorf("classify(%q) = %v %q, want %v %q", tc.line, level, msg, tc.level, tc.msg)
		}
	}
}

func TestServerArgs(t *testing.T) {
	c := &Cluster{cfg: Config{DataDir: "/d", Settings: map[string]string{"max_connections": "50"}}}
	args := strings.Join(c.serverArgs("/d/so,ck"), " ")
	for _, want := range []string{"-D /d", "-c listen_addresses= ", `-c unix_socket_directories="/d/so,ck"`, "-c fsync=on", "-c max_connections=50"} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q: %s", want, args)
		}
	}
	if strings.LastIndex(args, "max_connections=20") > strings.LastIndex(args, "max_connections=50") {
		t.Error("Settings must come after the defaults")
	}
}

func TestConnStringQuoting(t *testing.T) {
	c := &Cluster{cfg: Config{DatabaseName: "it's"}, socketDir: `/tmp/a b\c`}
	got := c.ConnString()
	want := `host='/tmp/a b\\c' port=5432 user='picloud' dbname='it\'s' sslmode=disable`
	if got != want {
		t.Errorf("ConnString = %s, want %s", got, want)
	}
	cfg, err := pgx.ParseConfig(got)
	if err != nil || cfg.Host != `/tmp/a b\c` || cfg.Database != "it's" || cfg.User != SuperUser {
		t.Errorf("ParseConfig(%s) = %+v, %v", got, cfg, err)
	}
}

func TestCheckReachable(t *testing.T) {
	u, err := resolveUser("")
	if err != nil {
		t.Fatal(err)
	}
	if u.cred == nil {
		t.Skip("only root switches user")
	}
	dir := t.TempDir() // 0700, owned by root
	err = u.checkReachable(filepath.Join(dir, "pg"))
	if err == nil || !strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), "chmod o+x "+filepath.Dir(dir)) {
		t.Fatalf("checkReachable under a 0700 root directory: %v", err)
	}
	t.Log(err)
}

func TestMkdirParents(t *testing.T) {
	old := syscall.Umask(0o077) // as under systemd's UMask=0077
	defer syscall.Umask(old)
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b")
	if err := mkdirParents(dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v, %v; want 0755", d, fi.Mode().Perm(), err)
		}
	}
	if fi, _ := os.Stat(base); fi.Mode().Perm() != 0o700 {
		t.Errorf("existing %s changed to %v", base, fi.Mode().Perm())
	}
}
