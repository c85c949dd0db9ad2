package pgcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// childEnv is the whole environment of initdb and postgres: nothing of the
// daemon's (NOTIFY_SOCKET, LISTEN_FDS, PGDATA, PGPORT, LC_ALL, ...) leaks in.
func childEnv() []string {
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
	if tz, ok := os.LookupEnv("TZ"); ok {
		env = append(env, "TZ="+tz)
	}
	return env
}

// command prepares a PostgreSQL program run as the cluster's user, in the data
// directory, in its own process group.
func (c *Cluster) command(ctx context.Context, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = c.cfg.DataDir
	cmd.Env = childEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.user.cred}
	if c.cfg.DieWithParent {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	return cmd
}

// spawn starts postgres with args, forwards its output to the logger and
// closes c.done when it exits.
func (c *Cluster) spawn(args []string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("create pipe for postgres output: %w", err)
	}
	// Not tied to a context: postgres lives until Shutdown.
	cmd := c.command(context.Background(), c.bin.path("postgres"), args...)
	// Postgres never outlives its parent: when the daemon dies, even by
	// SIGKILL, the kernel asks postgres for a fast shutdown (SIGINT: roll
	// back, checkpoint, exit), or for throwaway clusters an immediate one
	// (SIGQUIT: take the backends down, remove the pid file).
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	if c.cfg.DieWithParent {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	}
	// An *os.File is handed to the child as is: Wait does not wait for the
	// backends, which inherit it too, to close it.
	cmd.Stdout, cmd.Stderr = w, w

	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the forking thread ends; keep it locked to this
		// goroutine, which lives exactly as long as postgres.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		_ = w.Close()
		if err != nil {
			_ = r.Close()
			started <- err
			return
		}
		c.mu.Lock()
		c.pid = cmd.Process.Pid
		c.mu.Unlock()
		forwarded := make(chan struct{})
		go c.forward(r, forwarded)
		started <- nil
		c.exited(cmd.Wait(), forwarded)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start %s: %w", c.bin.path("postgres"), err)
	}
	return nil
}

// exited records why postgres ended and closes c.done.
func (c *Cluster) exited(waitErr error, forwarded <-chan struct{}) {
	select { // let the last lines of output arrive
	case <-forwarded:
	case <-time.After(time.Second):
	}
	c.mu.Lock()
	stopping := c.stopping
	if !stopping {
		status := "exit status 0"
		if waitErr != nil {
			status = waitErr.Error()
		}
		c.exitErr = fmt.Errorf("postgres exited unexpectedly (%s)%s", status, c.output.suffix())
	}
	err := c.exitErr
	c.mu.Unlock()
	if stopping {
		if c.socketOutside {
			_ = os.Remove(c.socketDir) // a fallback under /tmp: tidy up if empty
		}
		c.log.Info("PostgreSQL stopped", "data_dir", c.cfg.DataDir)
	} else {
		c.log.Error("PostgreSQL exited unexpectedly", "error", err)
	}
	close(c.done)
}
