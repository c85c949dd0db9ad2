package pgcluster

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// killGrace is how long Shutdown waits after SIGQUIT, and again after SIGKILL,
// once the caller's context has ended.
const killGrace = 5 * time.Second

// Shutdown stops postgres: SIGINT (fast shutdown: roll back open
// transactions, checkpoint, exit) and a wait until ctx ends; then SIGQUIT
// (immediate shutdown, crash recovery at next start); then SIGKILL to the
// whole process group as a last resort. It returns nil once postgres stopped
// cleanly, and may be called any number of times.
func (c *Cluster) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	if c.pid == 0 {
		c.mu.Unlock()
		return nil // never started
	}
	c.stopping = true
	c.mu.Unlock()

	select {
	case <-c.done:
		return nil
	default:
	}
	c.log.Info("stopping PostgreSQL", "pid", c.Pid())
	c.signal(syscall.SIGINT, false)
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
	}
	c.log.Warn("PostgreSQL did not stop in time; sending SIGQUIT (immediate shutdown)")
	if c.kill() {
		return fmt.Errorf("pgcluster: fast shutdown did not finish (%w); stopped postgres with SIGQUIT", ctx.Err())
	}
	return fmt.Errorf("pgcluster: postgres ignored SIGINT and SIGQUIT (%w); killed its process group", ctx.Err())
}

// abort stops a postgres whose start failed.
func (c *Cluster) abort() {
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	c.kill()
}

// kill sends SIGQUIT, then SIGKILL to the process group, and waits for the
// exit. It reports whether SIGQUIT was enough.
func (c *Cluster) kill() bool {
	c.signal(syscall.SIGQUIT, false)
	select {
	case <-c.done:
		return true
	case <-time.After(killGrace):
	}
	c.log.Error("PostgreSQL ignored SIGQUIT; killing its process group")
	c.signal(syscall.SIGKILL, true)
	select {
	case <-c.done:
	case <-time.After(killGrace):
		c.log.Error("PostgreSQL still running after SIGKILL", "pid", c.Pid())
	}
	return false
}
