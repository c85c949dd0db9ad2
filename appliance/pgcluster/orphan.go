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
	"time"
)

// StopOrphan stops a postgres that runs on this cluster's data directory
// without being this Cluster's child: one left behind by a process that
// started it and died, or started by hand. It asks for a fast shutdown
// (SIGINT) and waits until ctx ends, then for an immediate one (SIGQUIT),
// then kills the process group. It returns the orphan's pid, or 0 if none
// was running. The caller must know that no live PiCloud process uses the
// cluster (the daemon holds its data directory's lock).
func (c *Cluster) StopOrphan(ctx context.Context) (int, error) {
	pid := c.runningPostmaster()
	if pid == 0 {
		return 0, nil
	}
	c.log.Warn("a PostgreSQL not started by this process runs on the data directory; stopping it to start it again under supervision",
		"pid", pid, "data_dir", c.cfg.DataDir)
	for _, step := range []struct {
		sig   syscall.Signal
		group bool
		wait  context.Context
	}{
		{syscall.SIGINT, false, ctx},
		{syscall.SIGQUIT, false, nil},
		{syscall.SIGKILL, true, nil},
	} {
		target := pid
		if step.group {
			target = -pid
		}
		if err := syscall.Kill(target, step.sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return pid, fmt.Errorf("pgcluster: signal the running postgres (pid %d): %w", pid, err)
		}
		wctx := step.wait
		var cancel context.CancelFunc = func() {}
		if wctx == nil {
			wctx, cancel = context.WithTimeout(context.Background(), killGrace)
		}
		gone := waitGone(wctx, pid)
		cancel()
		if gone {
			c.log.Info("stopped the PostgreSQL left running", "pid", pid, "signal", step.sig.String())
			return pid, nil
		}
	}
	return pid, fmt.Errorf("pgcluster: the postgres left running on %s (pid %d) did not stop, even after SIGKILL", c.cfg.DataDir, pid)
}

// runningPostmaster is the pid of a postgres running on the data directory
// according to its postmaster.pid, or 0.
func (c *Cluster) runningPostmaster() int {
	raw, err := os.ReadFile(filepath.Join(c.cfg.DataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	if pid <= 0 || pid == os.Getpid() || !c.isOurPostmaster(pid) {
		return 0
	}
	return pid
}

// waitGone waits until pid has exited (or is a zombie left for its parent
// to reap) or ctx ends, and reports whether it has.
func waitGone(ctx context.Context, pid int) bool {
	pause := 10 * time.Millisecond
	for {
		if !alive(pid) {
			return true
		}
		select {
		case <-ctx.Done():
			return !alive(pid)
		case <-time.After(pause):
		}
		pause = min(pause*2, 200*time.Millisecond)
	}
}

// alive reports whether pid runs: it exists and is not a zombie.
func alive(pid int) bool {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	// pid (comm) state …: comm may hold spaces and parentheses.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return true
	}
	state := s[i+2]
	return state != 'Z' && state != 'X'
}
