package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/testkit"
)

// TestStartFailureUnwinds makes start-up fail after each of its steps in
// turn, and after a whole start and stop, and checks that nothing the
// daemon started is left: no child process (the private PostgreSQL, the
// executor workers), no goroutine, no open file or socket, no listener, no
// socket file.
func TestStartFailureUnwinds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private PostgreSQL cluster and executor workers")
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // the cluster's user walks them
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.DatabaseURL = ""
	cfg.Listen = testkit.FreeAddr(t)
	cfg.SSHBind = testkit.FreeAddr(t)
	cfg.AdminSocket = filepath.Join(dir, "admin.sock")
	cfg.Executors.Workers = 1
	cfg.ShutdownTimeout = 30 * time.Second
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	// The first start makes the cluster and the keys, which stay (they
	// are the board's data); what each case checks is what goes away.
	steps := []string{""} // "" runs the whole start, then stops
	for _, s := range (&instance{}).steps() {
		steps = append(steps, s.name)
	}
	for _, step := range steps {
		name := step
		if name == "" {
			name = "whole start and stop"
		}
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			fds := openFiles(t)
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel() // before goleak's check
			opts := []Option{WithWorkerCommand(testWorkerCommand)}
			var err error
			if step == "" {
				served := make(chan struct{})
				go func() {
					select {
					case <-served:
						cancel()
					case <-ctx.Done():
					}
				}()
				err = Serve(ctx, cfg, logger, func(net.Addr) { close(served) }, opts...)
				if err != nil {
					t.Fatalf("whole start and stop: %v", err)
				}
			} else {
				err = Serve(ctx, cfg, logger, nil, append(opts, func(o *serveOptions) { o.failAfter = step })...)
				if !errors.Is(err, errStartStopped) {
					t.Fatalf("start-up failing after %s returned %v", step, err)
				}
			}
			if kids := children(t); len(kids) > 0 {
				t.Errorf("child processes left: %s", strings.Join(kids, "; "))
			}
			for _, addr := range []string{cfg.Listen, cfg.SSHBind} {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					t.Errorf("%s is still bound: %v", addr, err)
					continue
				}
				ln.Close()
			}
			for _, f := range []string{cfg.AdminSocket, filepath.Join(cfg.DataDir, "postgres", "postmaster.pid")} {
				if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s is left behind (%v)", f, err)
				}
			}
			if now := openFiles(t); now != fds {
				t.Errorf("%d open files and sockets before, %d after", fds, now)
			}
		})
	}
}

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// children lists the processes whose parent is this one, as "pid name".
func children(t *testing.T) []string {
	t.Helper()
	procs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	// The tests' shared cluster (pgtest), when another test of the
	// package started it, is this process's child too, and stays.
	shared := strconv.Itoa(pgtest.ClusterPid())
	var out []string
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", p.Name(), "status"))
		if err != nil {
			continue // ended meanwhile
		}
		var name, ppid string
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "Name:"); ok {
				name = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "PPid:"); ok {
				ppid = strings.TrimSpace(v)
			}
		}
		if ppid == self && p.Name() != shared {
			out = append(out, fmt.Sprintf("%s %s", p.Name(), name))
		}
	}
	return out
}
