package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Layout is the arranged subtree: the daemon in its own leaf, and a parent
// group for the workers with the controllers enabled below it.
type Layout struct {
	// Dir is the service's group.
	Dir string
	// Enabled lists the controllers enabled for the workers' groups.
	Enabled []string
	// Workers is the workers' parent group.
	Workers string
}

// Setup arranges the tree: it moves every process of the service's group
// (the daemon, and anything it started before) into the leaf daemon/,
// enables the available controllers for the groups below the service's and
// below workers/, and sets the workers' CPU limit (cpu.max, when the cpu
// controller is there). It must run before the daemon starts any process
// it does not want in daemon/. A controller that cannot be enabled is left
// out of Enabled, not an error.
func (t *Tree) Setup(cpuMax CPUMax) (*Layout, error) {
	daemon := filepath.Join(t.Dir, "daemon")
	if err := mkdir(daemon); err != nil {
		return nil, fmt.Errorf("make the daemon's cgroup: %w", err)
	}
	if err := moveAll(t.Dir, daemon); err != nil {
		return nil, fmt.Errorf("move the daemon into %s: %w", daemon, err)
	}
	enabled := enable(t.Dir, t.Available)
	l := &Layout{Dir: t.Dir, Workers: filepath.Join(t.Dir, "workers")}
	if err := mkdir(l.Workers); err != nil {
		return nil, fmt.Errorf("make the workers' cgroup: %w", err)
	}
	l.Enabled = enable(l.Workers, enabled)
	if l.Has("cpu") && cpuMax.Quota > 0 {
		if err := write(l.Workers, "cpu.max", cpuMax.String()); err != nil {
			return nil, fmt.Errorf("limit the workers' CPU: %w", err)
		}
	}
	return l, nil
}

// Has reports whether controller c is enabled for the workers' groups.
func (l *Layout) Has(c string) bool {
	for _, e := range l.Enabled {
		if e == c {
			return true
		}
	}
	return false
}

// moveAll moves every process of group from into group to, until from has
// none left (a process may fork while others are moved).
func moveAll(from, to string) error {
	for range 10 {
		b, err := os.ReadFile(filepath.Join(from, "cgroup.procs"))
		if err != nil {
			return err
		}
		pids := strings.Fields(string(b))
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			if err := write(to, "cgroup.procs", pid); err != nil && !errors.Is(err, syscall.ESRCH) {
				return err
			}
		}
	}
	return fmt.Errorf("%s still has processes after moving them ten times", from)
}

// enable turns on each controller for dir's children, one at a time, and
// returns those that took.
func enable(dir string, controllers []string) []string {
	var on []string
	for _, c := range controllers {
		if write(dir, "cgroup.subtree_control", "+"+c) == nil {
			on = append(on, c)
		}
	}
	return on
}

func mkdir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return nil
}

// Group is one worker's cgroup.
type Group struct {
	// Dir is the group's directory.
	Dir string
	// Memory reports whether the kernel enforces the group's memory.max.
	Memory bool
	fd     *os.File
}

// Worker makes (or reuses) the group workers/<name> and sets its limits on
// the controllers that are enabled. The group stays open for FD.
func (l *Layout) Worker(name string, lim WorkerLimits) (*Group, error) {
	dir := filepath.Join(l.Workers, name)
	if err := mkdir(dir); err != nil {
		return nil, fmt.Errorf("make worker %s's cgroup: %w", name, err)
	}
	g := &Group{Dir: dir}
	if l.Has("memory") && lim.MemoryMax > 0 {
		if err := write(dir, "memory.max", strconv.FormatInt(lim.MemoryMax, 10)); err != nil {
			return nil, fmt.Errorf("set worker %s's memory ceiling: %w", name, err)
		}
		// Absent when the kernel does not account swap: nothing to turn off.
		if err := write(dir, "memory.swap.max", "0"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("turn off swap for worker %s: %w", name, err)
		}
		if err := write(dir, "memory.oom.group", "1"); err != nil {
			return nil, fmt.Errorf("set worker %s's OOM group: %w", name, err)
		}
		g.Memory = true
	}
	if l.Has("pids") && lim.PidsMax > 0 {
		if err := write(dir, "pids.max", strconv.Itoa(lim.PidsMax)); err != nil {
			return nil, fmt.Errorf("set worker %s's task limit: %w", name, err)
		}
	}
	fd, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open worker %s's cgroup: %w", name, err)
	}
	g.fd = fd
	return g, nil
}

// FD is the group's directory, open, for starting a process directly in it
// (clone3 with CLONE_INTO_CGROUP: syscall.SysProcAttr's CgroupFD).
func (g *Group) FD() int { return int(g.fd.Fd()) }

// Add moves process pid into the group.
func (g *Group) Add(pid int) error {
	return write(g.Dir, "cgroup.procs", strconv.Itoa(pid))
}

// Contains reports whether process pid is in the group.
func (g *Group) Contains(pid int) bool {
	b, err := os.ReadFile(filepath.Join(g.Dir, "cgroup.procs"))
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(string(b)) {
		if f == strconv.Itoa(pid) {
			return true
		}
	}
	return false
}

// OOMKills is how many processes the kernel's OOM killer has ended in the
// group (memory.events oom_kill); 0 without the memory controller.
func (g *Group) OOMKills() int64 {
	if !g.Memory {
		return 0
	}
	n, _ := readFlatKeyed(filepath.Join(g.Dir, "memory.events"), "oom_kill")
	return n
}

// Close closes the group's directory; the group itself stays.
func (g *Group) Close() error { return g.fd.Close() }
