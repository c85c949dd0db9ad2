package pgcluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// prepareDataDir makes sure DataDir holds a cluster of the binaries' major
// version, owned by the user PostgreSQL runs as, running initdb the first time.
func (c *Cluster) prepareDataDir(ctx context.Context) error {
	dir := c.cfg.DataDir
	if err := mkdirParents(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("create parent directory: %w", err)
	}
	// The marker exists only while initdb runs: if it is still there, a power
	// cut interrupted the first start and the directory holds no user data.
	marker := dir + ".initdb-incomplete"
	if fileExists(marker) {
		c.log.Warn("an earlier initdb was interrupted; initialising again", "data_dir", dir)
		if err := removeContents(dir); err != nil {
			return fmt.Errorf("remove the interrupted initdb's files: %w", err)
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return fmt.Errorf("create data directory: %w", err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	} else if fi.Mode().Perm()&0o027 != 0 {
		// PostgreSQL insists on 0700 (or 0750).
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict data directory permissions to 0700: %w", err)
		}
	}
	if err := c.user.checkReachable(dir); err != nil {
		return err
	}
	if err := c.user.chownTree(dir); err != nil {
		return fmt.Errorf("give the data directory to user %s: %w", c.user.name, err)
	}

	switch major := dataDirMajor(dir); {
	case major == 0:
		return c.initdb(ctx, marker)
	case major < 0:
		return fmt.Errorf("cannot read %s: is this a PostgreSQL data directory?", filepath.Join(dir, "PG_VERSION"))
	case major < minMajor:
		return fmt.Errorf("the data directory %s was created by PostgreSQL %d, which PiCloud no longer supports (%d or newer): upgrade it to PostgreSQL %d with pg_upgrade",
			dir, major, minMajor, c.bin.major)
	case major != c.bin.major:
		return fmt.Errorf("the data directory %s was created by PostgreSQL %d, but the server found is PostgreSQL %d (%s): install postgresql-%d as well (apt-get install postgresql-%d) so PiCloud can keep using it, or upgrade the data with pg_upgrade",
			dir, major, c.bin.major, c.bin.dir, major, major)
	}
	return nil
}

// initdb creates the cluster: UTF8, "C" collation (stable across glibc
// upgrades, which otherwise silently corrupt text indexes), trust on the local
// socket only, data checksums on.
func (c *Cluster) initdb(ctx context.Context, marker string) error {
	dir := c.cfg.DataDir
	if entries, err := os.ReadDir(dir); err != nil {
		return err
	} else if len(entries) > 0 {
		return fmt.Errorf("the data directory %s is not empty but holds no PostgreSQL cluster (no PG_VERSION): empty it or choose another directory", dir)
	}
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		c.log.Debug("cannot write initdb marker", "error", err)
		marker = ""
	}
	syncDir(filepath.Dir(dir))

	args := []string{
		"--pgdata=" + dir,
		"--username=" + SuperUser,
		"--encoding=UTF8",
		"--locale=C.UTF-8",
		"--lc-collate=C",
		"--lc-messages=C",
		"--auth-local=trust",
		"--auth-host=reject",
		"--data-checksums",
	}
	if c.cfg.Ephemeral {
		args = append(args, "--no-sync")
	}
	c.log.Info("creating PostgreSQL cluster (initdb)", "data_dir", dir, "version", c.bin.major, "user", c.user.name)
	var out bytes.Buffer
	cmd := c.command(ctx, c.bin.path("initdb"), args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := runLocked(cmd)
	initdbLog := c.cfg.Logger.With("component", "initdb")
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line != "" {
			initdbLog.Debug(line)
		}
	}
	if err != nil {
		if marker != "" {
			_ = os.Remove(marker)
		}
		return fmt.Errorf("initdb %s: %w; output:\n%s", dir, err, lastLines(out.String(), 20))
	}
	if marker != "" {
		if err := os.Remove(marker); err != nil {
			return fmt.Errorf("remove initdb marker: %w", err)
		}
		syncDir(filepath.Dir(dir))
	}
	return nil
}

// runLocked runs cmd on a locked OS thread: with Pdeathsig the kernel signals
// the child when the thread that forked it ends, not the process.
func runLocked(cmd interface{ Run() error }) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return cmd.Run()
}

// clearStalePid removes a postmaster.pid left by a power cut or crash. PostgreSQL
// ignores such a file itself only if its pid is not running or belongs to
// another user; pids repeat from boot to boot on a Pi, and if the pid now
// belongs to another process of the same user (say a backend of Debian's own
// cluster, also run by "postgres") PostgreSQL refuses to start. A truncated
// file (power cut while it was written) blocks start-up too. clearStalePid
// refuses only if a postgres really is running on this data directory.
func (c *Cluster) clearStalePid(socketDir string) error {
	pidFile := filepath.Join(c.cfg.DataDir, "postmaster.pid")
	data, err := os.ReadFile(pidFile)
	if os.IsNotExist(err) {
		clearSocketDir(socketDir)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", pidFile, err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	if pid > 0 && pid != os.Getpid() && c.isOurPostmaster(pid) {
		return fmt.Errorf("PostgreSQL is already running on %s (pid %d): is another picloud running? Stop it first (kill -INT %d)", c.cfg.DataDir, pid, pid)
	}
	c.log.Info("removing stale postmaster.pid (PostgreSQL was not shut down cleanly)", "pid", pid)
	if err := os.Remove(pidFile); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove stale %s: %w", pidFile, err)
	}
	clearSocketDir(socketDir)
	return nil
}

// isOurPostmaster reports whether pid is a postgres process working in our data
// directory (the postmaster's working directory is its data directory).
func (c *Cluster) isOurPostmaster(pid int) bool {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres") {
		return false
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		// Unreadable: another user's process. When not root, our postgres runs
		// as us; when root, every cwd is readable. Either way: not ours.
		return false
	}
	return sameDir(cwd, c.cfg.DataDir)
}

func sameDir(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// mkdirParents creates dir and its missing parents with mode 0755 whatever the
// umask (systemd's UMask=0077 would make them unreachable for the PostgreSQL
// user). Existing directories are left as they are.
func mkdirParents(dir string) error {
	if _, err := os.Stat(dir); err == nil || !os.IsNotExist(err) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirParents(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if os.IsExist(err) {
			return nil // created meanwhile by someone else: theirs
		}
		return err
	}
	return os.Chmod(dir, 0o755)
}

// removeContents empties dir but keeps it (it may be a mount point).
func removeContents(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// syncDir flushes a directory's entries (a created or removed file) to disk.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}
