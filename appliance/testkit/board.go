package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BoardMemory is a Raspberry Pi Zero 2 W's memory.
const BoardMemory = 512 << 20

// BoardCgroup makes a memory cgroup of BoardMemory, under cgroup v2 when its
// memory controller can be used there, else under v1's memory controller,
// and returns its cgroup.procs file: a process that writes its PID there
// (before it starts others) runs as on a board of that memory. The test is
// skipped where no such group can be made (not root, a read-only
// hierarchy). The group is removed when the test ends; register it before
// the cleanups that stop the processes in it, which then run first.
func BoardCgroup(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("picloud-board-%d", os.Getpid())
	dir, limitFile := filepath.Join("/sys/fs/cgroup", name), "memory.max"
	if ctl, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control"); err != nil || !strings.Contains(string(ctl), "memory") {
		dir, limitFile = filepath.Join("/sys/fs/cgroup/memory", name), "memory.limit_in_bytes"
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("the board profile needs a memory cgroup it can make (root, a writable cgroup hierarchy): %v", err)
	}
	t.Cleanup(func() { _ = os.Remove(dir) })
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(strconv.Itoa(BoardMemory)), 0o644); err != nil {
		t.Fatalf("limit the board's memory: %v", err)
	}
	return filepath.Join(dir, "cgroup.procs")
}

// InCgroup is the command line that runs argv inside the cgroup whose
// cgroup.procs file is procs: a shell moves itself into the group, then
// becomes argv, so that everything it starts is in the group too.
func InCgroup(procs string, argv ...string) []string {
	return append([]string{"/bin/sh", "-c", `echo $$ > "$0" && exec "$@"`, procs}, argv...)
}
