package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"

	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/workers"
	"github.com/picloud/picloud/engine"
)

// WorkerCommand, when set, replaces `<this executable> executor` as the
// executor workers' command line: tests running Serve in a test binary
// point it at a binary (or themselves) that serves the worker protocol.
var WorkerCommand []string

// PoolShape is the executor pool's shape after automatic choices.
type PoolShape struct {
	Workers        int
	PerWorker      int
	MaxMemoryBytes int64
}

// poolShape fills the automatic (zero) settings from the machine: one
// worker per 256 MB of memory (rounded), at least one and at most one per
// core; each worker's ceiling 96 MB under 1 GB of memory, else a quarter of
// the memory shared by the workers, at most 512 MB; enough concurrency per
// worker to hold every admitted execution.
func poolShape(cfg config.Config, memTotal int64, cpus int) PoolShape {
	s := PoolShape{Workers: cfg.Executors.Workers, PerWorker: cfg.Executors.Concurrency,
		MaxMemoryBytes: int64(cfg.Sandbox.MaxMemoryMB) << 20}
	if s.Workers == 0 {
		s.Workers = min(max(int((memTotal+128<<20)/(256<<20)), 1), max(cpus, 1))
	}
	if s.MaxMemoryBytes == 0 {
		switch {
		case memTotal <= 0:
			s.MaxMemoryBytes = 256 << 20
		case memTotal < 1<<30:
			s.MaxMemoryBytes = 96 << 20
		default:
			s.MaxMemoryBytes = min(memTotal/4/int64(s.Workers), 512<<20)
		}
	}
	if s.PerWorker == 0 {
		s.PerWorker = (cfg.MaxConcurrentExecutions + s.Workers - 1) / s.Workers
	}
	return s
}

// executor is what runs scripts: the in-process engine, or a started pool
// of worker processes.
type executor interface {
	engine.Executor
	Shutdown(ctx context.Context) error
}

type inProcess struct{ *engine.InProcess }

func (inProcess) Shutdown(context.Context) error { return nil }

// startExecutor builds the executor the configuration asks for.
func startExecutor(ctx context.Context, cfg config.Config, logger *slog.Logger) (executor, error) {
	if cfg.Executors.Mode == "inprocess" {
		logger.Warn("scripts run inside the daemon (PICLOUD_EXECUTOR_MODE=inprocess): a hostile script can stop it", "component", "appliance")
		return inProcess{engine.NewInProcess(engine.Options{Logger: logger})}, nil
	}
	shape := poolShape(cfg, memTotal(), runtime.NumCPU())
	env := []string{
		"GOGC=" + strconv.Itoa(cfg.GCPercent),
		// The collector works harder near three quarters of the ceiling
		// rather than letting the heap reach it and the worker be killed.
		"GOMEMLIMIT=" + strconv.FormatInt(shape.MaxMemoryBytes*3/4, 10),
	}
	pool := workers.New(workers.Config{
		Command: WorkerCommand, Env: env, Workers: shape.Workers, PerWorker: shape.PerWorker,
		MaxMemoryBytes: shape.MaxMemoryBytes, Grace: cfg.Executors.KillGrace, DefaultWallTime: cfg.Sandbox.WallTime,
	}, logger)
	if err := pool.Start(ctx); err != nil {
		return nil, fmt.Errorf("start the executor workers: %w", err)
	}
	return pool, nil
}
