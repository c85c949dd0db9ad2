package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"syscall"

	"github.com/picloud/picloud/appliance/memrelease"
	"github.com/picloud/picloud/appliance/sandbox"
	"github.com/picloud/picloud/engine"
	"github.com/picloud/picloud/engine/egress"
	"github.com/picloud/picloud/engine/wire"
)

// MaxWorkerStack is the Go stack ceiling of a worker's goroutines.
const MaxWorkerStack = 64 << 20

// envEngine carries a worker's engine settings (EngineConfig as JSON) from
// the pool to the worker process.
const envEngine = "PICLOUD_WORKER_ENGINE"

// EngineConfig is what a worker's engine needs from the daemon's
// configuration.
type EngineConfig struct {
	Limits engine.Limits  `json:"limits"` // defaults for invocations that set none
	Fetch  *egress.Policy `json:"fetch"`  // what scripts' fetch may reach
}

// ServeWorker is the worker process's side (`picloud executor`): it runs
// the invocations read from in on an in-process engine and writes their
// results to out, until in ends. It has no database and no listener; its
// logs go to logger (the worker's standard error, which the pool forwards).
// Its engine settings come from the environment the pool gave it. Before it
// reads any invocation it confines its process for good (sandbox.Confine):
// call it only in a process that is a worker and nothing else.
func ServeWorker(ctx context.Context, in io.Reader, out io.Writer, logger *slog.Logger) error {
	// Recursion through native calls (deep JSON, deep source) grows the Go
	// stack; past this the worker dies with "stack overflow" and the pool
	// answers limit.stack, long before a gigabyte of stack.
	debug.SetMaxStack(MaxWorkerStack)
	// The kernel's OOM killer should pick a worker before the daemon or
	// PostgreSQL; raising one's own score needs no privilege.
	if err := os.WriteFile("/proc/self/oom_score_adj", []byte("1000"), 0); err != nil {
		logger.Debug("raise the OOM score", "err", err)
	}
	var ec EngineConfig
	if v := os.Getenv(envEngine); v != "" {
		if err := json.Unmarshal([]byte(v), &ec); err != nil {
			return fmt.Errorf("read %s: %w", envEngine, err)
		}
	}
	// fetch's policy reads the routing tables at every connection, and
	// the sandbox lets no single file of /proc be opened: open them now.
	if err := egress.OpenRouteTables(); err != nil {
		logger.Warn("fetch will refuse the addresses of a family whose routing table cannot be read", "err", err)
	}
	// From here on the worker handles scripts: it gives up what it may
	// still hold and shuts itself in (see package sandbox).
	report, err := sandbox.Confine()
	if err != nil {
		return fmt.Errorf("confine the worker: %w", err)
	}
	logger.Debug("worker confined", "sandbox", report.String())
	// A worker grows its heap under load (GOGC is high) and keeps it
	// when idle; it gives it back after a quiet spell, as the daemon does.
	go memrelease.Watch(ctx, memrelease.Tick, nil)
	exec := engine.NewInProcess(engine.Options{Logger: logger, Limits: ec.Limits, Fetch: ec.Fetch, Data: wire.RemoteData})
	return wire.Serve(ctx, pollable(in, logger), pollable(out, logger), exec)
}

// pollable gives a pipe inherited as a blocking file descriptor (the
// worker's standard input and output) to Go's network poller: a goroutine
// waiting on it then parks instead of holding an OS thread in a blocking
// read(2) or write(2), which under load cost a thread hand-off (and
// runtime.sysmon's wake-ups) per frame. The file returned owns a
// duplicate of the descriptor, so that closing either file (or the
// finalizer of either) never closes the other's: two *os.File on one
// descriptor number close it twice, the second time under whatever file
// reused the number. The pipe itself becomes non-blocking for both:
// only the file returned may be read or written after. Other readers and
// writers are returned as they are.
func pollable[T any](rw T, logger *slog.Logger) T {
	f, ok := any(rw).(*os.File)
	if !ok {
		return rw
	}
	rc, err := f.SyscallConn() // not f.Fd(): that would make it blocking for good
	if err != nil {
		return rw
	}
	var nf *os.File
	_ = rc.Control(func(fd uintptr) {
		dup, err := dupCloexec(int(fd))
		if err != nil {
			logger.Debug("duplicate the pipe", "fd", fd, "err", err)
			return
		}
		if err := syscall.SetNonblock(dup, true); err != nil {
			logger.Debug("make the pipe non-blocking", "fd", fd, "err", err)
			_ = syscall.Close(dup)
			return
		}
		nf = os.NewFile(uintptr(dup), f.Name()) // sees O_NONBLOCK: registered with the poller
	})
	if nf == nil {
		return rw
	}
	if v, ok := any(nf).(T); ok {
		return v
	}
	return rw
}

// dupCloexec duplicates fd, close-on-exec.
func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}
