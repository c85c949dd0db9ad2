// Package cgroups puts the daemon and each executor worker in a cgroup v2
// group of its own, inside the subtree that systemd delegates to the service
// (Delegate= in picloud.service), so that the kernel itself enforces each
// worker's memory ceiling and process count, and the workers' share of the
// CPU.
//
// The layout, under the service's own group (for the packaged unit
// /sys/fs/cgroup/system.slice/picloud.service):
//
//	daemon/      the daemon and what it starts (a private PostgreSQL)
//	workers/     cpu.max: the CPU time of all the workers together
//	workers/0/   memory.max, memory.swap.max, memory.oom.group, pids.max
//	workers/1/   …
//
// cgroup v2 hands controllers down only from a group with no processes of
// its own, so the daemon first moves itself into daemon/, then enables the
// controllers for the groups below. Where there is no delegated cgroup v2
// subtree (no systemd, the legacy or hybrid hierarchy, an older systemd, a
// unit without Delegate=, a read-only cgroup file system), Find says why and
// the daemon keeps watching each worker's memory itself.
package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Mount is where the cgroup v2 file system is mounted.
const Mount = "/sys/fs/cgroup"

// cgroup2Magic is the file system type of a cgroup v2 mount (statfs f_type).
const cgroup2Magic = 0x63677270

// Controllers are the controllers PiCloud asks for, in the order the unit's
// Delegate= lists them.
var Controllers = []string{"cpu", "memory", "pids"}

// ErrNotDelegated wraps every reason Find gives for not using cgroups.
var ErrNotDelegated = errors.New("no delegated cgroup v2 subtree")

// ParseSelf returns this process's cgroup v2 path from the contents of
// /proc/self/cgroup: the path of the "0::" line, such as
// /system.slice/picloud.service. It fails when there is no such line (a
// legacy hierarchy) and when the path is not absolute, as for a process in
// another cgroup namespace's part of the tree.
func ParseSelf(procSelfCgroup []byte) (string, error) {
	for _, line := range strings.Split(string(procSelfCgroup), "\n") {
		p, ok := strings.CutPrefix(line, "0::")
		if !ok {
			continue
		}
		if !strings.HasPrefix(p, "/") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
			return "", fmt.Errorf("unexpected cgroup v2 path %q", p)
		}
		return filepath.Clean(p), nil
	}
	return "", errors.New("no cgroup v2 entry (a legacy cgroup hierarchy)")
}

// Tree is the delegated subtree the daemon runs in, before Setup arranges
// it.
type Tree struct {
	// Dir is the service's group, e.g.
	// /sys/fs/cgroup/system.slice/picloud.service.
	Dir string
	// Available lists the controllers of Controllers that the group has
	// (cgroup.controllers); the others are not enforced by the kernel.
	Available []string
}

// Find returns the cgroup v2 subtree that systemd delegated to this
// process's service, or an error wrapping ErrNotDelegated that says why
// there is none. A group counts as delegated when systemd marked it so
// (the user.delegate or trusted.delegate extended attribute, set by
// systemd 251 and later for units with Delegate=) and this process may
// create groups in it and move processes into them.
func Find() (*Tree, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("%w: read /proc/self/cgroup: %v", ErrNotDelegated, err)
	}
	p, err := ParseSelf(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotDelegated, err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(Mount, &st); err != nil {
		return nil, fmt.Errorf("%w: statfs %s: %v", ErrNotDelegated, Mount, err)
	}
	if int64(st.Type) != cgroup2Magic {
		return nil, fmt.Errorf("%w: %s is not a cgroup v2 file system (the legacy or hybrid hierarchy)", ErrNotDelegated, Mount)
	}
	dir := filepath.Join(Mount, p)
	if !delegated(dir) {
		return nil, fmt.Errorf("%w: %s is not delegated to the service (no Delegate= in its unit, or systemd older than 251)", ErrNotDelegated, dir)
	}
	for _, f := range []string{"", "cgroup.procs", "cgroup.subtree_control"} {
		if err := syscall.Access(filepath.Join(dir, f), 2 /* W_OK */); err != nil {
			return nil, fmt.Errorf("%w: %s is not writable: %v", ErrNotDelegated, filepath.Join(dir, f), err)
		}
	}
	avail, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("%w: read the group's controllers: %v", ErrNotDelegated, err)
	}
	return &Tree{Dir: dir, Available: intersect(Controllers, strings.Fields(string(avail)))}, nil
}

// delegated reports whether systemd marked the group as delegated.
func delegated(dir string) bool {
	buf := make([]byte, 8)
	for _, name := range []string{"user.delegate", "trusted.delegate"} {
		if n, err := syscall.Getxattr(dir, name, buf); err == nil && string(buf[:n]) == "1" {
			return true
		}
	}
	return false
}

// intersect returns the elements of want that are in have, in want's order.
func intersect(want, have []string) []string {
	var out []string
	for _, w := range want {
		for _, h := range have {
			if w == h {
				out = append(out, w)
				break
			}
		}
	}
	return out
}

// write writes one value to a cgroup file; the kernel takes each write as
// one command.
func write(dir, file, value string) error {
	f, err := os.OpenFile(filepath.Join(dir, file), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, filepath.Join(dir, file), err)
	}
	return nil
}

// readFlatKeyed reads one key of a flat keyed file such as memory.events
// ("oom_kill 2"); 0 when absent.
func readFlatKeyed(path, key string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(" "))
		if ok && string(k) == key {
			return strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		}
	}
	return 0, nil
}
