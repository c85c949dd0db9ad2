package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/cgroups"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/workers"
	"github.com/picloud/picloud/engine"
	"github.com/picloud/picloud/engine/egress"
)

// PoolShape is the executor pool's shape after automatic choices.
type PoolShape struct {
	Workers        int
	PerWorker      int
	MaxMemoryBytes int64
	Procs          int // each worker's GOMAXPROCS
	GCPercent      int // each worker's GOGC
}

// smallBoardGC bounds the workers' GOGC on a machine of less than 1 GB: a
// worker's heap under load is mostly garbage awaiting its collection, and
// PICLOUD_GC_PERCENT's 400 let each of a Zero's two workers hold about 30
// MiB after the footprint benchmark's load, 19–20 MiB at 150, with
// throughput within the rounds' spread (100 cost a third of the echo's).
const smallBoardGC = 150

// poolShape fills the automatic (zero) settings from the machine: one
// worker per 256 MB of memory (rounded), at least one and at most one per
// core but one (the daemon and PostgreSQL keep a core); each worker's ceiling 96 MB under 1 GB of memory, else a quarter of
// the memory shared by the workers, at most 512 MB; enough concurrency per
// worker to hold every admitted execution; the cores but one shared among
// the workers as their GOMAXPROCS; PICLOUD_GC_PERCENT as their GOGC, at
// most smallBoardGC under 1 GB of memory.
func poolShape(cfg config.Config, memTotal int64, cpus int) PoolShape {
	s := PoolShape{Workers: cfg.Executors.Workers, PerWorker: cfg.Executors.Concurrency,
		MaxMemoryBytes: int64(cfg.Sandbox.MaxMemoryMB) << 20}
	if s.Workers == 0 {
		s.Workers = min(max(int((memTotal+128<<20)/(256<<20)), 1), max(cpus-1, 1))
	}
	if s.MaxMemoryBytes == 0 {
		switch {
		case memTotal <= 0:
			s.MaxMemoryBytes = 256 << 20
		case memTotal < 1<<30:
			s.MaxMemoryBytes = 96 << 20
		default:
			s.MaxMemoryBytes = min(memTotal/4/int64(s.Workers), 512<<20) &^ (1<<20 - 1) // whole MiB
		}
	}
	if s.PerWorker == 0 {
		s.PerWorker = (cfg.MaxConcurrentExecutions + s.Workers - 1) / s.Workers
	}
	s.Procs = workers.DefaultProcs(cpus, s.Workers)
	s.GCPercent = cfg.GCPercent
	if memTotal > 0 && memTotal < 1<<30 {
		s.GCPercent = min(s.GCPercent, smallBoardGC)
	}
	return s
}

// Executor is what runs scripts: the in-process engine, or a started pool
// of worker processes.
type Executor interface {
	engine.Executor
	// Ping checks that scripts can run: READY waits for it, and the health
	// check (hence the systemd watchdog) includes it.
	Ping(ctx context.Context) error
	// Reload applies new engine settings (the fetch policy) to executions
	// that start from now on.
	Reload(ctx context.Context, ec workers.EngineConfig) error
	Shutdown(ctx context.Context) error
}

type inProcess struct{ *engine.InProcess }

func (inProcess) Shutdown(context.Context) error { return nil }
func (inProcess) Ping(context.Context) error     { return nil }

func (x inProcess) Reload(_ context.Context, ec workers.EngineConfig) error {
	x.SetFetchPolicy(ec.Fetch)
	return nil
}

// defaultLimits are the limits of executions whose script sets none.
func defaultLimits(s config.Sandbox) engine.Limits {
	return engine.Limits{WallTime: s.WallTime, MaxResponseBytes: s.ResponseBytes, MaxConsoleBytes: s.ConsoleBytes,
		MaxCallDepth: s.CallDepth, MaxTimers: s.Timers, MaxSubrequests: s.Subrequests,
		MaxDataCalls: s.DataCalls}
}

// scriptLimits are the defaults and the administrator's ceilings of the
// limits a script may set for itself, in the control plane's units.
func scriptLimits(s config.Sandbox) (defaults, ceilings model.ScriptLimits) {
	return model.ScriptLimits{WallTimeMS: int(s.WallTime / time.Millisecond), ResponseBytes: s.ResponseBytes,
			ConsoleBytes: s.ConsoleBytes, CallDepth: s.CallDepth, Timers: s.Timers, Subrequests: s.Subrequests, DataCalls: s.DataCalls},
		model.ScriptLimits{WallTimeMS: int(s.MaxWallTime / time.Millisecond), ResponseBytes: s.MaxResponseBytes,
			ConsoleBytes: s.MaxConsoleBytes, CallDepth: s.MaxCallDepth, Timers: s.MaxTimers, Subrequests: s.MaxSubrequests, DataCalls: s.MaxDataCalls}
}

// fetchPolicy turns the PICLOUD_FETCH_* settings into the engine's policy;
// ports, those of the daemon's listeners (ownListeners), are refused on
// this machine's addresses whatever PICLOUD_FETCH_ALLOW says.
func fetchPolicy(cfg config.Config, ports []int) (*egress.Policy, error) {
	f := cfg.Fetch
	p := &egress.Policy{Hosts: f.Hosts, Private: f.PrivateNetworks, Timeout: f.Timeout, MaxResponseBytes: f.MaxResponseBytes}
	for _, d := range f.Deny {
		n, err := netip.ParsePrefix(d)
		if err != nil {
			return nil, fmt.Errorf("PICLOUD_FETCH_DENY: %w", err)
		}
		p.Deny = append(p.Deny, n)
	}
	for _, a := range f.Allow {
		r, err := egress.ParseAllowRule(a)
		if err != nil {
			return nil, fmt.Errorf("PICLOUD_FETCH_ALLOW: %w", err)
		}
		p.Allow = append(p.Allow, r)
	}
	p.DeniedPorts = slices.Clone(ports)
	return p, nil
}

// arrangeCgroups gives the executor workers cgroups of their own when the
// daemon runs in a cgroup v2 subtree that systemd delegated to it; nil
// otherwise (not under systemd, tests, a unit without Delegate=), and the
// workers' memory is watched from /proc only. It must run before the daemon
// starts any process.
func arrangeCgroups(cfg config.Config, logger *slog.Logger) *cgroups.Layout {
	log := logger.With("component", "cgroups")
	if cfg.Executors.Mode == "inprocess" {
		return nil
	}
	tree, err := cgroups.Find()
	if err != nil {
		log.Info("the kernel does not enforce the executor workers' limits; the daemon watches their memory", "reason", err)
		return nil
	}
	l, err := tree.Setup(cgroups.WorkersCPU(runtime.NumCPU()))
	if err != nil {
		log.Warn("arrange the delegated cgroup; the daemon watches the executor workers' memory", "err", err)
		return nil
	}
	log.Info("the kernel enforces the executor workers' limits", "cgroup", l.Dir, "controllers", strings.Join(l.Enabled, " "),
		"workers_cpu_max", cgroups.WorkersCPU(runtime.NumCPU()).String())
	if !l.Has("memory") {
		log.Warn("no memory controller: the daemon watches the executor workers' memory (on Raspberry Pi OS, add cgroup_enable=memory to cmdline.txt)",
			"available", strings.Join(tree.Available, " "))
	}
	return l
}

// NewInProcessExecutor runs scripts inside this process with the
// configuration's limits and fetch policy, as PICLOUD_EXECUTOR_MODE=inprocess
// does; its Shutdown does nothing.
func NewInProcessExecutor(cfg config.Config, logger *slog.Logger) (Executor, error) {
	policy, err := fetchPolicy(cfg, nil)
	if err != nil {
		return nil, err
	}
	return newInProcess(cfg, policy, nil, logger), nil
}

func newInProcess(cfg config.Config, policy *egress.Policy, ds engine.DataService, logger *slog.Logger) Executor {
	return inProcess{engine.NewInProcess(engine.Options{Logger: logger, Limits: defaultLimits(cfg.Sandbox), Fetch: policy, Data: ds})}
}

// startExecutor builds the executor the configuration asks for; ports are
// the daemon's listeners', which scripts may not fetch; groups, when not
// nil, is where the workers' cgroups go; command, when not nil, replaces
// `<this executable> executor` as the workers' command line; ds answers the
// scripts' data calls, in this process.
func startExecutor(ctx context.Context, cfg config.Config, ports []int, groups *cgroups.Layout, command []string, ds engine.DataService, logger *slog.Logger) (Executor, error) {
	policy, err := fetchPolicy(cfg, ports)
	if err != nil {
		return nil, err
	}
	if cfg.Executors.Mode == "inprocess" {
		logger.Warn("scripts run inside the daemon (PICLOUD_EXECUTOR_MODE=inprocess): a hostile script can stop it", "component", "appliance")
		return newInProcess(cfg, policy, ds, logger), nil
	}
	user, err := workers.WorkerIdentity(cfg.Executors.User, os.Geteuid())
	if err != nil {
		return nil, fmt.Errorf("PICLOUD_EXECUTOR_USER: %w", err)
	}
	shape := poolShape(cfg, memTotal(), runtime.NumCPU())
	env := []string{
		"GOGC=" + strconv.Itoa(shape.GCPercent),
		// The collector works harder near three quarters of the ceiling
		// rather than letting the heap reach it and the worker be killed.
		"GOMEMLIMIT=" + strconv.FormatInt(shape.MaxMemoryBytes*3/4, 10),
	}
	pool := workers.New(workers.Config{
		Command: command, Env: env, Workers: shape.Workers, PerWorker: shape.PerWorker, Procs: shape.Procs,
		MaxMemoryBytes: shape.MaxMemoryBytes, Grace: cfg.Executors.KillGrace, DefaultWallTime: cfg.Sandbox.WallTime,
		Engine:  workers.EngineConfig{Limits: defaultLimits(cfg.Sandbox), Fetch: policy},
		Cgroups: groups, User: user, Data: ds,
	}, logger)
	if err := pool.Start(ctx); err != nil {
		return nil, fmt.Errorf("start the executor workers: %w", err)
	}
	return pool, nil
}
