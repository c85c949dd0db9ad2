// Package workers runs scripts in executor worker processes that the daemon
// starts, watches and kills from outside: the Pool implements
// engine.Executor over a set of `picloud executor` processes speaking the
// engine/wire protocol on their standard input and output.
//
// The pool enforces what goja cannot: each execution's deadline (wall time
// plus a grace margin, after which the worker running it is killed with
// SIGKILL) and each worker's memory ceiling (resident set size, polled from
// /proc). A worker that dies for any reason is replaced; only the executions
// it was running fail, each with a code saying why, but for those it took
// with it for another execution's fault before anything of them left the
// worker: they are run again once (see Execute).
package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/picloud/picloud/appliance/cgroups"
	"github.com/picloud/picloud/appliance/sandbox"
	"github.com/picloud/picloud/engine"
	"github.com/picloud/picloud/engine/wire"
)

// selfExe is the running binary, even after a package upgrade replaced the
// file: workers always speak the daemon's version of the protocol.
const selfExe = "/proc/self/exe"

// Config shapes the pool. Zero fields mean defaults.
type Config struct {
	// Command is the worker's program and arguments; default: this
	// executable (the running binary, through /proc/self/exe) with the
	// argument "executor".
	Command []string
	// Env is added to the worker's environment, which otherwise holds
	// only the few variables of the daemon's that Go reads for time zones,
	// TLS roots and diagnostics (see inherited).
	Env []string
	// User, when not nil, is who the workers run as: a daemon running as
	// root starts them as this user, with its primary group and no other
	// (see WorkerIdentity). Nil: as the daemon's user.
	User *Identity
	// Workers is the number of worker processes (default 2).
	Workers int
	// PerWorker is how many executions one worker runs at once (default 16).
	PerWorker int
	// Procs is each worker's GOMAXPROCS (default: the cores but one,
	// shared by the workers, at least 1). A worker's executions share its
	// threads; fewer threads than cores per worker keep the Go scheduler
	// from handing the pipe between threads on every frame, and leave a
	// core to the daemon and PostgreSQL. GOMAXPROCS in Env wins.
	Procs int
	// MaxMemoryBytes is each worker's resident memory ceiling; past it the
	// worker is killed and its executions end with limit.memory. 0: none.
	MaxMemoryBytes int64
	// Grace is how long past an execution's wall time the pool waits for
	// the worker's own answer before killing it (default 1s).
	Grace time.Duration
	// PollInterval is how often each worker's memory is read (default 100ms).
	PollInterval time.Duration
	// DefaultWallTime is the wall time of invocations that set none.
	DefaultWallTime time.Duration
	// Engine configures the workers' engines.
	Engine EngineConfig
	// Data answers the data calls (kv) of the scripts the workers run, in
	// the daemon: the workers hold no database connection. Nil: they fail.
	Data engine.DataService
	// WatchFiles are files the workers read that may be replaced by a new
	// file while they run (default: ResolverFiles). A confined worker can
	// read only the file it started with, so when one is replaced the pool
	// replaces its workers. WatchInterval is how often they are checked
	// (default 5s, as often as Go's resolver checks them).
	WatchFiles    []string
	WatchInterval time.Duration
	// Cgroups, when not nil, gives each worker a cgroup of its own below
	// it (workers/<index>), where the kernel enforces MaxMemoryBytes and
	// cgroups.WorkerPids. The /proc polling stays, as a second line just
	// above the kernel's ceiling.
	Cgroups *cgroups.Layout
}

func (c Config) withDefaults() (Config, error) {
	if len(c.Command) == 0 {
		c.Command = []string{selfExe, "executor"}
		if _, err := os.Stat(selfExe); err != nil {
			exe, err := os.Executable()
			if err != nil {
				return c, fmt.Errorf("find the picloud executable for the workers: %w", err)
			}
			c.Command[0] = exe
		}
	}
	if c.Workers < 1 {
		c.Workers = 2
	}
	if c.PerWorker < 1 {
		c.PerWorker = 16
	}
	if c.Procs < 1 {
		c.Procs = DefaultProcs(runtime.NumCPU(), c.Workers)
	}
	if c.Grace <= 0 {
		c.Grace = time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.DefaultWallTime <= 0 {
		c.DefaultWallTime = engine.DefaultWallTime
	}
	if c.WatchFiles == nil {
		c.WatchFiles = ResolverFiles
	}
	if c.WatchInterval <= 0 {
		c.WatchInterval = 5 * time.Second
	}
	return c, nil
}

// ResolverFiles are the files Go's resolver reads on every look-up (a
// script's fetch by name). Network managers replace them with new files
// rather than rewrite them.
var ResolverFiles = []string{"/etc/resolv.conf", "/etc/hosts"}

// DefaultProcs is each of n workers' GOMAXPROCS on a machine with cpus
// cores: the cores but one, shared among the workers, at least 1.
func DefaultProcs(cpus, n int) int { return max((cpus-1)/max(n, 1), 1) }

// Pool is a supervised set of executor workers. It is safe for concurrent
// use once started.
type Pool struct {
	cfg   Config
	log   *slog.Logger
	slots chan struct{} // Workers × PerWorker

	mu      sync.Mutex
	workers []*worker     // by index; nil while a replacement starts
	changed chan struct{} // closed and replaced when a worker becomes ready
	closing bool
	started bool
	ctx     context.Context
	wg      sync.WaitGroup // supervising goroutines

	unwatch    chan struct{}    // closed by Shutdown: stops watch
	slotInfo   []slotInfo       // by worker index; guarded by mu
	restartsBy map[string]int   // replacements by why the worker ended; guarded by mu
	retries    atomic.Int64     // bystanders run again (see Execute)
	groups     []*cgroups.Group // by worker index, when Config.Cgroups is set
	noCgroupFD atomic.Bool      // starting a process into its cgroup failed once: add it afterwards
}

var _ engine.Executor = (*Pool)(nil)

// slotInfo is what the pool remembers of one worker slot across its
// replacements.
type slotInfo struct {
	restarts int       // replacements started after a worker ended
	lastCode string    // why the last worker in the slot ended
	lastMsg  string    //
	lastAt   time.Time // when it ended
}

// WorkerStatus describes one worker slot, for the system status.
type WorkerStatus struct {
	Index     int       // the slot
	PID       int       // 0 while a replacement starts
	RSSBytes  int64     // resident memory, from /proc
	StartedAt time.Time // when the current process started
	// Restarts counts the workers that ended in this slot (killed,
	// crashed, or replaced by a reload) since the daemon started.
	Restarts int
	// LastCode and LastReason say why the last one ended; LastAt when.
	LastCode, LastReason string
	LastAt               time.Time
}

// RestartsByReason counts the workers replaced since start, by the code
// of why they ended (limit.time, executor.crashed, executor.restarted, …).
func (p *Pool) RestartsByReason() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.restartsBy)
}

// BystanderRetries counts the executions run again since start because
// their worker was ended for another execution's fault.
func (p *Pool) BystanderRetries() int64 { return p.retries.Load() }

// Status lists the worker slots with their current process and restarts.
func (p *Pool) Status() []WorkerStatus {
	p.mu.Lock()
	out := make([]WorkerStatus, len(p.workers))
	for i, w := range p.workers {
		s := WorkerStatus{Index: i}
		if i < len(p.slotInfo) {
			si := p.slotInfo[i]
			s.Restarts, s.LastCode, s.LastReason, s.LastAt = si.restarts, si.lastCode, si.lastMsg, si.lastAt
		}
		if w != nil {
			s.PID, s.StartedAt = w.pid, w.started
		}
		out[i] = s
	}
	p.mu.Unlock()
	page := int64(os.Getpagesize())
	for i := range out {
		if out[i].PID != 0 {
			out[i].RSSBytes = readRSS("/proc/"+strconv.Itoa(out[i].PID)+"/statm", page)
		}
	}
	return out
}

// New returns a pool; Start launches the workers.
func New(cfg Config, logger *slog.Logger) *Pool {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Pool{cfg: cfg, log: logger.With("component", "workers"), changed: make(chan struct{}), unwatch: make(chan struct{})}
}

// Start launches the workers and returns once each has started (not
// necessarily answered). ctx bounds the workers' supervision, not their
// life: Shutdown stops them.
func (p *Pool) Start(ctx context.Context) error {
	cfg, err := p.cfg.withDefaults()
	if err != nil {
		return err
	}
	p.cfg = cfg
	watched := fileIDs(cfg.WatchFiles) // as the workers will see them
	p.slots = make(chan struct{}, cfg.Workers*cfg.PerWorker)
	if err := p.makeGroups(); err != nil {
		return err
	}
	p.mu.Lock()
	p.ctx = context.WithoutCancel(ctx)
	p.workers = make([]*worker, cfg.Workers)
	p.slotInfo = make([]slotInfo, cfg.Workers)
	p.started = true
	p.mu.Unlock()
	for i := range cfg.Workers {
		w, err := p.spawn(i)
		if err != nil {
			_ = p.Shutdown(ctx)
			return err
		}
		p.ready(i, w)
	}
	attrs := []any{"workers", cfg.Workers, "per_worker", cfg.PerWorker, "gomaxprocs", cfg.Procs,
		"max_memory_mb", cfg.MaxMemoryBytes >> 20, "command", strings.Join(cfg.Command, " "), "user", p.userName()}
	if cfg.Cgroups != nil {
		attrs = append(attrs, "cgroup", cfg.Cgroups.Workers, "kernel_limits", strings.Join(cfg.Cgroups.Enabled, " "))
	} else {
		attrs = append(attrs, "cgroup", "none: memory watched from /proc")
	}
	p.log.Info("executor workers started", attrs...)
	p.wg.Add(1)
	go p.watch(watched)
	if sb := sandbox.Probe(); sb.Complete() {
		p.log.Info("executor workers are confined", "sandbox", sb.String())
	} else {
		p.log.Warn("the kernel confines the executor workers only in part", "sandbox", sb.String())
	}
	return nil
}

// userName says who the workers run as, for the log.
func (p *Pool) userName() string {
	if p.cfg.User != nil {
		return p.cfg.User.String()
	}
	return "the daemon's (uid " + strconv.Itoa(os.Geteuid()) + ")"
}

// makeGroups makes each worker's cgroup when the pool has a cgroup tree.
func (p *Pool) makeGroups() error {
	if p.cfg.Cgroups == nil {
		return nil
	}
	lim := cgroups.WorkerLimits{MemoryMax: p.cfg.MaxMemoryBytes, PidsMax: cgroups.WorkerPids}
	p.groups = make([]*cgroups.Group, p.cfg.Workers)
	for i := range p.groups {
		g, err := p.cfg.Cgroups.Worker(strconv.Itoa(i), lim)
		if err != nil {
			for _, g := range p.groups[:i] {
				_ = g.Close()
			}
			return fmt.Errorf("make the executor workers' cgroups: %w", err)
		}
		p.groups[i] = g
	}
	return nil
}

// ready installs w as worker i and wakes waiting executions.
func (p *Pool) ready(i int, w *worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		w.stop()
		return
	}
	p.workers[i] = w
	close(p.changed)
	p.changed = make(chan struct{})
}

// exited is called by a worker's supervisor once it is gone: the slot is
// emptied and a replacement started, after a back-off if the worker died
// young (a crash loop must not spin).
func (p *Pool) exited(i int, w *worker, d *death, lived time.Duration, delay time.Duration) {
	p.mu.Lock()
	if p.workers[i] == w {
		p.workers[i] = nil
	}
	closing := p.closing
	if !closing && i < len(p.slotInfo) {
		si := &p.slotInfo[i]
		si.restarts++
		if p.restartsBy == nil {
			p.restartsBy = map[string]int{}
		}
		p.restartsBy[d.code]++
		si.lastCode, si.lastMsg, si.lastAt = d.code, d.msg, time.Now()
		if d.msg == stopMsg {
			si.lastMsg = "replaced by a reload"
		}
	}
	p.mu.Unlock()
	if closing {
		return
	}
	if lived > 5*time.Second {
		delay = 0
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			if delay > 0 {
				time.Sleep(delay)
			}
			p.mu.Lock()
			closing := p.closing
			p.mu.Unlock()
			if closing {
				return
			}
			nw, err := p.spawn(i)
			if err == nil {
				nw.backoff = delay
				p.ready(i, nw)
				return
			}
			p.log.Error("start a replacement worker", "worker", i, "err", err)
			delay = min(max(2*delay, 100*time.Millisecond), 5*time.Second)
		}
	}()
}

// Shutdown stops the workers: their input is closed so that they finish
// what they run and exit; those still alive when ctx ends are killed.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if !p.closing {
		close(p.unwatch)
	}
	p.closing = true
	ws := append([]*worker(nil), p.workers...)
	p.mu.Unlock()
	for _, w := range ws {
		if w != nil {
			w.stop()
		}
	}
	var err error
	for _, w := range ws {
		if w == nil {
			continue
		}
		select {
		case <-w.gone:
		case <-ctx.Done():
			w.kill(engine.CodeExecutorRestarted, "the daemon is shutting down")
			<-w.gone
			err = errors.New("executor workers did not finish in time and were killed")
		}
	}
	p.wg.Wait()
	for _, g := range p.groups {
		_ = g.Close()
	}
	return err
}

// PIDs lists the running workers' process ids, for tests and diagnostics.
func (p *Pool) PIDs() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for _, w := range p.workers {
		if w != nil {
			out = append(out, w.pid)
		}
	}
	return out
}

// Execute runs inv on the least busy worker. It waits for a free slot (or a
// live worker) no longer than the execution's wall time, then answers
// executor.unavailable.
//
// An execution that dies only because its worker was ended for another
// execution's fault, before anything of it left the worker (no data call,
// no outbound call), is run again once on a live worker: its caller sees
// one execution. The execution blamed for the end is never run again.
func (p *Pool) Execute(ctx context.Context, inv *engine.Invocation) (*engine.Result, error) {
	if inv == nil {
		return nil, errors.New("workers: nil invocation")
	}
	start := time.Now()
	res, again := p.attempt(ctx, inv, start)
	if !again || ctx.Err() != nil || !p.isStarted() {
		return res, nil
	}
	first := res.Error.Code
	p.retries.Add(1)
	p.log.Info("running an execution again: its worker was ended for another execution's fault",
		"script", scriptNamed(inv), "code", first)
	res, _ = p.attempt(ctx, inv, start)
	res.Logs = append([]engine.LogLine{{Time: start, Level: "info", Message: retriedNote + first}}, res.Logs...)
	return res, nil
}

// retriedNote begins the line a retried execution's log starts with.
const retriedNote = "picloud: run again on another worker: the first one was ended for another execution's fault: "

// flight is one execution on a worker.
type flight struct{ start time.Time }

// attempt runs inv once on a worker. again is true when it died only
// because its worker was ended for another execution's fault, with
// nothing of it out of the worker: it may be run again.
func (p *Pool) attempt(ctx context.Context, inv *engine.Invocation, start time.Time) (res *engine.Result, again bool) {
	wall := inv.Limits.WallTime
	if wall <= 0 {
		wall = p.cfg.DefaultWallTime
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wall {
		wall = max(time.Until(dl), 0)
	}
	inCaller := engine.InCallerSlot(ctx)
	var w *worker
	var xe *engine.ExecError
	if inCaller {
		w, xe = p.acquireInCaller()
	} else {
		w, xe = p.tryAcquire()
		if w == nil && xe == nil { // every slot busy or no worker up: wait, within the wall time
			giveUp := time.NewTimer(wall)
			w, xe = p.acquire(ctx, giveUp.C)
			giveUp.Stop()
		}
	}
	if xe != nil {
		return &engine.Result{Error: xe, Logs: []engine.LogLine{}, Duration: time.Since(start)}, false
	}
	f := p.board(w)
	if inCaller {
		defer p.releaseInCaller(w, f)
	} else {
		defer p.release(w, f)
	}
	attemptStart := time.Now()

	var overran bool
	var omu sync.Mutex
	kill := time.AfterFunc(time.Until(attemptStart.Add(wall+p.cfg.Grace)), func() {
		omu.Lock()
		overran = true
		omu.Unlock()
		w.kill(engine.CodeTimeLimit, fmt.Sprintf("an execution of %s ran %v past its wall time of %v", scriptNamed(inv), p.cfg.Grace, wall))
	})
	res, err := w.client.ExecuteTracked(ctx, inv)
	kill.Stop()
	if err == nil {
		return res, false
	}
	omu.Lock()
	mine := overran
	omu.Unlock()
	res = &engine.Result{Logs: []engine.LogLine{}, Duration: time.Since(start)}
	var d *death
	switch {
	case mine:
		res.Error = &engine.ExecError{Code: engine.CodeTimeLimit, Message: fmt.Sprintf(
			"the script did not stop within its wall time of %v; its worker was killed", wall)}
	case errors.As(err, &d) && d.code == engine.CodeTimeLimit:
		res.Error = &engine.ExecError{Code: engine.CodeExecutorRestarted, Message: "the worker running this execution was killed because another execution on it overran its time limit"}
	case errors.As(err, &d):
		res.Error = &engine.ExecError{Code: d.code, Message: d.msg}
	default:
		res.Error = &engine.ExecError{Code: engine.CodeExecutorCrashed, Message: err.Error()}
	}
	var ce *wire.ClosedError
	clean := errors.As(err, &ce) && !ce.Effects
	return res, !mine && clean && d != nil && p.bystander(w, f, d)
}

// board records f as running on w, taken by tryAcquire or acquire.
func (p *Pool) board(w *worker) *flight {
	f := &flight{start: time.Now()}
	p.mu.Lock()
	if w.running == nil {
		w.running = map[*flight]struct{}{}
	}
	w.running[f] = struct{}{}
	p.mu.Unlock()
	return f
}

// bystander reports whether the execution f died with w for another
// execution's fault: w was ended for a limit or a crash (not stopped or
// killed by the daemon's shutdown) and f is not the one blamed for it.
func (p *Pool) bystander(w *worker, f *flight, d *death) bool {
	switch d.code {
	case engine.CodeTimeLimit, engine.CodeMemoryLimit, engine.CodeStackLimit, engine.CodeExecutorCrashed:
	default:
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return w.culprit != nil && w.culprit != f || d.code == engine.CodeTimeLimit
}

// blame takes the ended worker w out of the pool, so that no execution
// run again lands on it, and picks, now that it has ended with d, the
// execution held to have caused it. A time limit names its own (the execution whose wall time ran out
// knows it), so none is picked. For the others (memory, stack, a crash)
// the worker cannot say which execution it was running did it: the one
// that had run longest is blamed, for a bomb runs until it is stopped
// while a bystander that a request started comes and goes.
func (p *Pool) blame(w *worker, d *death) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.idx < len(p.workers) && p.workers[w.idx] == w {
		p.workers[w.idx] = nil
	}
	if d.code == engine.CodeTimeLimit {
		return
	}
	for f := range w.running {
		if w.culprit == nil || f.start.Before(w.culprit.start) {
			w.culprit = f
		}
	}
}

// tryAcquire takes a slot and the least busy live worker when both are
// free at once (no timer needed); else it returns nil and no error.
func (p *Pool) tryAcquire() (*worker, *engine.ExecError) {
	if !p.isStarted() {
		return nil, &engine.ExecError{Code: engine.CodeUnavailable, Message: "the executor workers are not running"}
	}
	select {
	case p.slots <- struct{}{}:
	default:
		return nil, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if best := p.leastBusy(); best != nil {
		best.inflight++
		return best, nil
	}
	<-p.slots
	return nil, nil
}

// leastBusy is the live worker with the fewest executions; p.mu is held.
func (p *Pool) leastBusy() *worker {
	var best *worker
	for _, w := range p.workers {
		if w != nil && !w.dying() && (best == nil || w.inflight < best.inflight) {
			best = w
		}
	}
	return best
}

// acquire takes a pool slot and the least busy live worker.
func (p *Pool) acquire(ctx context.Context, giveUp <-chan time.Time) (*worker, *engine.ExecError) {
	if !p.isStarted() {
		return nil, &engine.ExecError{Code: engine.CodeUnavailable, Message: "the executor workers are not running"}
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, &engine.ExecError{Code: engine.CodeCanceled, Message: "canceled while waiting for an executor"}
	case <-giveUp:
		return nil, &engine.ExecError{Code: engine.CodeUnavailable, Message: "every executor worker is busy"}
	}
	for {
		p.mu.Lock()
		if best := p.leastBusy(); best != nil {
			best.inflight++
			p.mu.Unlock()
			return best, nil
		}
		changed, closing := p.changed, p.closing
		p.mu.Unlock()
		if closing {
			<-p.slots
			return nil, &engine.ExecError{Code: engine.CodeUnavailable, Message: "the daemon is shutting down"}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			<-p.slots
			return nil, &engine.ExecError{Code: engine.CodeCanceled, Message: "canceled while waiting for an executor"}
		case <-giveUp:
			<-p.slots
			return nil, &engine.ExecError{Code: engine.CodeUnavailable, Message: "no executor worker came up in time"}
		}
	}
}

// acquireInCaller takes the least busy live worker for an execution that
// runs in the slot of its caller (an invoke call): it takes no pool slot,
// for its caller holds one and waits for it.
func (p *Pool) acquireInCaller() (*worker, *engine.ExecError) {
	if !p.isStarted() {
		return nil, &engine.ExecError{Code: engine.CodeUnavailable, Message: "the executor workers are not running"}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	best := p.leastBusy()
	if best == nil {
		return nil, &engine.ExecError{Code: engine.CodeUnavailable, Message: "no executor worker is running"}
	}
	best.inflight++
	return best, nil
}

// releaseInCaller ends an execution taken with acquireInCaller.
func (p *Pool) releaseInCaller(w *worker, f *flight) {
	p.mu.Lock()
	w.inflight--
	delete(w.running, f)
	p.mu.Unlock()
}

func (p *Pool) release(w *worker, f *flight) {
	p.mu.Lock()
	w.inflight--
	delete(w.running, f)
	p.mu.Unlock()
	<-p.slots
}

func (p *Pool) isStarted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started && !p.closing
}

// probeCode is a script that answers "ok", for Ping.
var probeCode = sync.OnceValues(func() (string, error) {
	return engine.Transpile(`export default () => "ok"`, engine.JavaScript)
})

// Ping checks that every worker answers a trivial execution within ctx: the
// pool is ready, or healthy, only when it can run scripts. A worker being
// replaced counts as failing until its replacement answers.
func (p *Pool) Ping(ctx context.Context) error {
	code, err := probeCode()
	if err != nil {
		return fmt.Errorf("compile the probe script: %w", err)
	}
	p.mu.Lock()
	ws := append([]*worker(nil), p.workers...)
	p.mu.Unlock()
	if len(ws) == 0 {
		return errors.New("the executor workers are not running")
	}
	for i, w := range ws {
		if w == nil || w.dying() {
			return fmt.Errorf("executor worker %d is restarting", i)
		}
		res, err := w.client.Execute(ctx, &engine.Invocation{ScriptID: "picloud-probe", Version: 1, Code: code,
			Request: engine.Request{Method: "GET", URL: "http://localhost/"}, Limits: engine.Limits{WallTime: 5 * time.Second}})
		switch {
		case err != nil:
			return fmt.Errorf("executor worker %d (pid %d): %w", i, w.pid, err)
		case res.Error != nil:
			return fmt.Errorf("executor worker %d (pid %d): %s", i, w.pid, res.Error.Error())
		case res.Response == nil || string(res.Response.Body) != "ok":
			return fmt.Errorf("executor worker %d (pid %d) answered the probe wrongly", i, w.pid)
		}
	}
	return nil
}

// Reload gives the workers new engine settings: they are replaced one at a
// time, each finishing what it runs while the others serve, so that the
// pool never has fewer than all but one worker. It returns when every
// worker runs with the new settings, or when ctx ends.
func (p *Pool) Reload(ctx context.Context, ec EngineConfig) error {
	p.mu.Lock()
	p.cfg.Engine = ec
	p.mu.Unlock()
	return p.replaceAll(ctx)
}

// replaceAll replaces the workers one at a time, as Reload does.
func (p *Pool) replaceAll(ctx context.Context) error {
	p.mu.Lock()
	n := len(p.workers)
	p.mu.Unlock()
	for i := range n {
		p.mu.Lock()
		old := p.workers[i]
		p.mu.Unlock()
		if old == nil {
			continue // being replaced: the replacement reads the new settings
		}
		old.stop()
		for {
			p.mu.Lock()
			cur, changed, closing := p.workers[i], p.changed, p.closing
			p.mu.Unlock()
			if closing {
				return errors.New("the pool is shutting down")
			}
			if cur != nil && cur != old {
				break
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return fmt.Errorf("replace executor worker %d: %w", i, ctx.Err())
			}
		}
	}
	return nil
}

// watch replaces the workers when one of Config.WatchFiles is replaced by
// a new file, until Shutdown; last identifies the files the workers
// started with.
func (p *Pool) watch(last string) {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-p.unwatch:
			return
		case <-t.C:
		}
		cur := fileIDs(p.cfg.WatchFiles)
		if cur == last {
			continue
		}
		last = cur
		p.log.Info("a file the executor workers read was replaced; replacing the workers", "files", strings.Join(p.cfg.WatchFiles, " "))
		if err := p.replaceAll(p.ctx); err != nil && p.isStarted() {
			p.log.Warn("replace the executor workers", "err", err)
		}
	}
}

// fileIDs identifies the files behind paths (after symbolic links) by
// device and inode: a file rewritten in place keeps its identity, one
// replaced by another does not.
func fileIDs(paths []string) string {
	var b strings.Builder
	for _, path := range paths {
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err == nil {
			fmt.Fprintf(&b, "%d:%d ", st.Dev, st.Ino)
		} else {
			b.WriteString("- ")
		}
	}
	return b.String()
}

// scriptNamed names an invocation's script for a person: by its name, with
// its id to look it up by (script "hello.js", id 3f2a…), or by its id alone
// when it has no name.
func scriptNamed(inv *engine.Invocation) string {
	if inv.ScriptName == "" {
		return "script " + inv.ScriptID
	}
	return fmt.Sprintf("script %q (id %s)", inv.ScriptName, inv.ScriptID)
}
