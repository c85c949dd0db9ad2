package workers

import (
	"context"
	"io"
	"log/slog"
	"runtime/debug"

	"github.com/picloud/picloud/engine"
	"github.com/picloud/picloud/engine/wire"
)

// MaxWorkerStack is the Go stack ceiling of a worker's goroutines.
const MaxWorkerStack = 64 << 20

// ServeWorker is the worker process's side (`picloud executor`): it runs
// the invocations read from in on an in-process engine and writes their
// results to out, until in ends. It has no database and no listener; its
// logs go to logger (the worker's standard error, which the pool forwards).
func ServeWorker(ctx context.Context, in io.Reader, out io.Writer, logger *slog.Logger) error {
	// Recursion through native calls (deep JSON, deep source) grows the Go
	// stack; past this the worker dies with "stack overflow" and the pool
	// answers limit.stack, long before a gigabyte of stack.
	debug.SetMaxStack(MaxWorkerStack)
	exec := engine.NewInProcess(engine.Options{Logger: logger})
	return wire.Serve(ctx, in, out, exec)
}
