package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/picloud/picloud/engine/egress"
)

// Engine defaults, used for zero fields of Limits and Options.
const (
	DefaultWallTime         = 5 * time.Second
	DefaultMaxResponseBytes = 8 << 20
	DefaultMaxConsoleBytes  = 64 << 10
	DefaultMaxCallDepth     = 512
	DefaultMaxTimers        = 1000
	DefaultMaxSubrequests   = 50
	DefaultMaxDataCalls     = 1000
	DefaultCacheSize        = 256
)

// ErrCodeNeeded is returned by Execute for an invocation that names a
// script version without its Code when that version is not compiled in
// this executor: the caller sends the invocation again with the code. It
// lets a remote caller send each version's code once.
var ErrCodeNeeded = errors.New("engine: the script version is not cached; send its code")

// Options configure an in-process executor. Zero fields mean defaults.
type Options struct {
	Logger    *slog.Logger
	Limits    Limits         // defaults for zero fields of Invocation.Limits
	CacheSize int            // compiled programs kept (LRU)
	Fetch     *egress.Policy // what fetch may reach; nil: egress.Default()
	// Data answers the SDK's data calls (kv); nil: every data call fails
	// with data.unavailable.
	Data DataService
}

// InProcess runs invocations in the calling goroutine, each in a fresh goja
// runtime, with compiled programs cached per script version. It is safe for
// concurrent use.
type InProcess struct {
	log    *slog.Logger
	limits Limits
	cache  *programCache
	fetch  atomic.Pointer[egress.Client]
	data   DataService
}

var _ Executor = (*InProcess)(nil)

// NewInProcess returns an executor running scripts in this process.
func NewInProcess(opts Options) *InProcess {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	size := opts.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	policy := opts.Fetch
	if policy == nil {
		policy = egress.Default()
	}
	x := &InProcess{
		log:    log.With("component", "engine"),
		limits: opts.Limits.orDefaults(DefaultLimits()),
		cache:  newProgramCache(size),
		data:   opts.Data,
	}
	x.fetch.Store(egress.New(policy))
	return x
}

// SetFetchPolicy replaces what fetch may reach, for executions that start
// from now on.
func (x *InProcess) SetFetchPolicy(p *egress.Policy) {
	if p == nil {
		p = egress.Default()
	}
	x.fetch.Store(egress.New(p))
}

// DefaultLimits are the engine's limits, sized for a Raspberry Pi.
func DefaultLimits() Limits {
	return Limits{WallTime: DefaultWallTime, MaxResponseBytes: DefaultMaxResponseBytes, MaxConsoleBytes: DefaultMaxConsoleBytes,
		MaxCallDepth: DefaultMaxCallDepth, MaxTimers: DefaultMaxTimers, MaxSubrequests: DefaultMaxSubrequests,
		MaxDataCalls: DefaultMaxDataCalls}
}

// orDefaults fills zero fields of l from def.
func (l Limits) orDefaults(def Limits) Limits {
	if l.WallTime <= 0 {
		l.WallTime = def.WallTime
	}
	if l.MaxResponseBytes <= 0 {
		l.MaxResponseBytes = def.MaxResponseBytes
	}
	if l.MaxConsoleBytes <= 0 {
		l.MaxConsoleBytes = def.MaxConsoleBytes
	}
	if l.MaxCallDepth <= 0 {
		l.MaxCallDepth = def.MaxCallDepth
	}
	if l.MaxTimers <= 0 {
		l.MaxTimers = def.MaxTimers
	}
	if l.MaxSubrequests <= 0 {
		l.MaxSubrequests = def.MaxSubrequests
	}
	if l.MaxDataCalls <= 0 {
		l.MaxDataCalls = def.MaxDataCalls
	}
	return l
}

// Execute runs one invocation. Failures of the script, including limits,
// come back in Result.Error; the error return is only for an unusable
// invocation. Code is compiled once per (ScriptID, Version), so the code of
// a version must never change; code without a ScriptID is cached by its
// text. An invocation with a ScriptID and no Code runs the cached version,
// or fails with ErrCodeNeeded.
func (x *InProcess) Execute(ctx context.Context, inv *Invocation) (*Result, error) {
	if inv == nil {
		return nil, errors.New("engine: nil invocation")
	}
	start := time.Now()
	res := &Result{}
	prog, err := x.cache.get(inv.ScriptID, inv.Version, inv.Code)
	if errors.Is(err, ErrCodeNeeded) {
		return nil, err
	}
	if err != nil {
		xe := &ExecError{Code: CodeInternal, Message: "compile script: " + err.Error()}
		var ce *CompileError
		if errors.As(err, &ce) {
			xe.Line, xe.Column = ce.Line, ce.Column
		}
		x.log.Warn("compile script", "script", inv.ScriptID, "version", inv.Version, "err", err)
		res.Error = xe
		res.Duration = time.Since(start)
		return res, nil
	}
	lim := inv.Limits.orDefaults(x.limits)
	e := newExecution(x, inv, lim)
	e.run(ctx, prog, res)
	res.NoRetry = e.noRetry
	res.QueueAcks = e.queueAcks
	res.Rejected, res.RejectReason = e.emailRejected, e.emailReason
	res.Logs = e.logs
	if res.Logs == nil {
		res.Logs = []LogLine{}
	}
	res.Duration = time.Since(start)
	return res, nil
}
