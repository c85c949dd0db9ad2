package pgcluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// maxSocketPath is the longest Unix socket path Linux accepts (sun_path is 108
// bytes including the terminating NUL).
const maxSocketPath = 107

// socketFile is the name PostgreSQL gives its socket in the socket directory.
var socketFile = ".s.PGSQL." + strconv.Itoa(port)

// socketDirName is the private socket directory inside the data directory.
const socketDirName = "socket"

// chooseSocketDir returns the socket directory: <dataDir>/socket when the
// socket path fits in sun_path, else a short per-cluster directory under the
// runtime or temp directory (inside reports which).
func chooseSocketDir(dataDir string) (dir string, inside bool, err error) {
	dir = filepath.Join(dataDir, socketDirName)
	if fits(dir) {
		return dir, true, nil
	}
	sum := sha256.Sum256([]byte(dataDir))
	name := "picloud-pg-" + hex.EncodeToString(sum[:6])
	for _, base := range []string{os.Getenv("XDG_RUNTIME_DIR"), os.TempDir(), "/tmp"} {
		if base == "" || !filepath.IsAbs(base) {
			continue
		}
		if d := filepath.Join(base, name); fits(d) {
			return d, false, nil
		}
	}
	return "", false, fmt.Errorf("no socket directory short enough for a Unix socket (at most %d bytes); use a shorter data directory or TMPDIR", maxSocketPath)
}

func fits(dir string) bool { return len(dir)+1+len(socketFile) <= maxSocketPath }

// prepareSocketDir creates dir with mode 0700, owned by the user PostgreSQL runs
// as. A directory outside the data directory (a shared place like /tmp) must
// already be ours: one planted by someone else is refused, not reused.
func (r runAs) prepareSocketDir(dir string, inside bool) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return fmt.Errorf("create socket directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check socket directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("socket directory %s is not a directory (a symlink?); remove it", dir)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != r.uid {
		if r.cred == nil || (!inside && st.Uid != 0) {
			return fmt.Errorf("socket directory %s belongs to uid %d, not to %s (uid %d); remove it", dir, st.Uid, r.name, r.uid)
		}
		if err := os.Lchown(dir, r.uid, r.gid); err != nil {
			return fmt.Errorf("chown socket directory: %w", err)
		}
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("chmod socket directory: %w", err)
		}
	}
	return nil
}

// clearSocketDir removes a socket and lock file left behind by a postgres that
// is no longer running (power cut), so that a reused pid in the lock file
// cannot block start-up.
func clearSocketDir(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, socketFile+"*"))
	for _, m := range matches {
		if strings.HasPrefix(filepath.Base(m), socketFile) {
			_ = os.Remove(m)
		}
	}
}
