package appliance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// dataLockFile is the daemon's lock in its data directory: held for the
// daemon's life, it tells a daemon starting that no other one runs on the
// same data, so that a PostgreSQL found running there was left behind.
const dataLockFile = "daemon.lock"

// lockDataDir takes the data directory's lock without waiting, creating the
// directory if needed, and writes this process's pid into it. Another
// daemon holding it is a clear error naming its pid. The lock ends with the
// process, however it ends; unlock releases it earlier.
func lockDataDir(dir string) (unlock func(), err error) {
	if err := mkdirTraversable(dir); err != nil {
		return nil, fmt.Errorf("create the data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, dataLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the data directory's lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		raw, _ := os.ReadFile(path)
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "another process"
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(raw))); perr == nil && pid > 0 {
				holder = fmt.Sprintf("another picloud daemon (pid %d)", pid)
			}
			return nil, fmt.Errorf("%s already runs on the data directory %s: stop it first", holder, dir)
		}
		return nil, fmt.Errorf("lock the data directory %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { _ = f.Close() }, nil
}

// mkdirTraversable creates dir and its missing parents, each 0755 whatever
// the umask (a unit's UMask=0077 would shut out the PostgreSQL user).
// Existing directories are left as they are.
func mkdirTraversable(dir string) error {
	if _, err := os.Stat(dir); err == nil || !os.IsNotExist(err) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirTraversable(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	return os.Chmod(dir, 0o755)
}
