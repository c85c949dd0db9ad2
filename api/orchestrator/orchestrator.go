// Package orchestrator is PiCloud's ingress service: it resolves a request
// to an app's route and script version, and dispatches it to an executor
// under the global concurrency cap. It keeps the compiled routes in memory
// and rebuilds them on the next request after a change.
package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/routing"
	"github.com/picloud/picloud/engine"
)

// ErrOverloaded means the concurrency cap is reached; the caller answers 503.
var ErrOverloaded = errors.New("too many executions in progress")

// Source is where routes, domains, active scripts and app variables are
// read from.
type Source interface {
	AllRoutes(ctx context.Context) ([]model.Route, error)
	AllActiveScripts(ctx context.Context) ([]model.Script, error)
	ListDomains(ctx context.Context, appID string) ([]model.Domain, error)
	Settings(ctx context.Context) (model.Settings, error)
	ListVariables(ctx context.Context, appID string) ([]model.Variable, error)
}

// Opener opens sealed secret values (secrets.Box).
type Opener interface {
	Open(appID, name string, sealed []byte) (string, error)
}

// Recorder receives one record per execution.
type Recorder interface {
	Record(model.ExecutionRecord)
}

// Capturer keeps the public HTTP requests that scripts' active versions
// answered, for the scripts that capture them (package capture). Capture
// must not block.
type Capturer interface {
	Capture(scriptID string, version int, req engine.Request, resp *engine.Response)
}

// Config sets the orchestrator's limits.
type Config struct {
	MaxConcurrent int // executions at once; past it ErrOverloaded
	// MaxBackground is how many of those background work (cron runs) may
	// take at once, so that HTTP requests always find the rest free; 0 or
	// more than MaxConcurrent-1 means MaxConcurrent-1, at least 1.
	MaxBackground int
	// LimitDefaults and LimitCeilings bound executions: a script's own
	// limits replace the defaults, never above the ceilings.
	LimitDefaults, LimitCeilings model.ScriptLimits
	// Secrets opens secret variables; without it, scripts do not get them.
	Secrets Opener
	// ResponsePreviewBytes is how much of each response's body the
	// execution log keeps, with its headers; 0 keeps no response.
	ResponsePreviewBytes int
	// Capture, if set, is handed each request of a Call with Capture
	// that the script answered without failing.
	Capture Capturer
}

// Orchestrator resolves and dispatches requests. It is safe for concurrent use.
type Orchestrator struct {
	cfg    Config
	limits atomic.Pointer[[2]model.ScriptLimits] // defaults, ceilings
	src    Source
	exec   engine.Executor
	rec    Recorder
	log    *slog.Logger
	slots  chan struct{}
	bg     chan struct{} // background slots, taken before a slot of slots

	refused atomic.Uint64 // requests refused past the cap

	gen  atomic.Uint64 // bumped by Invalidate
	snap atomic.Pointer[snapshot]
	mu   sync.Mutex // serialises rebuilds
}

// snapshot is an immutable view of the domains, routes and active scripts.
type snapshot struct {
	gen      uint64
	hosts    *hosts.Table
	fallback bool                         // unclaimed hosts go to the default app
	tables   map[string]*routing.Table    // by app id
	scripts  map[string]*model.Script     // by script id, with active code
	env      map[string]map[string]string // by app id: variables and secrets, as scripts see them
	secrets  map[string][]string          // by app id: secret values, to redact from logs
	// interceptors by app id, in the order they run.
	interceptors map[string][]compiledInterceptor
}

// New returns an Orchestrator.
func New(cfg Config, src Source, exec engine.Executor, rec Recorder, logger *slog.Logger) *Orchestrator {
	if cfg.MaxConcurrent < 1 {
		cfg.MaxConcurrent = 1
	}
	o := &Orchestrator{cfg: cfg, src: src, exec: exec, rec: rec,
		log: logger.With("component", "orchestrator"), slots: make(chan struct{}, cfg.MaxConcurrent),
		bg: make(chan struct{}, backgroundSlots(cfg))}
	o.gen.Store(1)
	o.SetLimits(cfg.LimitDefaults, cfg.LimitCeilings)
	return o
}

// Invalidate drops the cached routes and scripts; the next request reloads them.
func (o *Orchestrator) Invalidate() { o.gen.Add(1) }

// current returns an up-to-date snapshot, rebuilding it if it is stale.
func (o *Orchestrator) current(ctx context.Context) (*snapshot, error) {
	if s := o.snap.Load(); s != nil && s.gen == o.gen.Load() {
		return s, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	gen := o.gen.Load()
	if s := o.snap.Load(); s != nil && s.gen == gen {
		return s, nil
	}
	s, err := o.build(ctx, gen)
	if err != nil {
		return nil, err
	}
	o.snap.Store(s)
	return s, nil
}

func (o *Orchestrator) build(ctx context.Context, gen uint64) (*snapshot, error) {
	scripts, err := o.src.AllActiveScripts(ctx)
	if err != nil {
		return nil, fmt.Errorf("load scripts: %w", err)
	}
	routes, err := o.src.AllRoutes(ctx)
	if err != nil {
		return nil, fmt.Errorf("load routes: %w", err)
	}
	domains, err := o.src.ListDomains(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("load domains: %w", err)
	}
	settings, err := o.src.Settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("load settings: %w", err)
	}
	s := &snapshot{gen: gen, fallback: settings.DefaultAppFallback,
		tables: map[string]*routing.Table{}, scripts: make(map[string]*model.Script, len(scripts))}
	if err := o.loadEnv(ctx, s); err != nil {
		return nil, err
	}
	if err := o.loadInterceptors(ctx, s); err != nil {
		return nil, err
	}
	claims := make([]hosts.Claim, 0, len(domains))
	for _, d := range domains {
		p, err := hosts.ParsePattern(d.Pattern)
		if err != nil {
			o.log.Error("skipping stored domain that no longer parses", "domain", d.ID, "pattern", d.Pattern, "err", err)
			continue
		}
		claims = append(claims, hosts.Claim{ID: d.ID, AppID: d.AppID, Pattern: p})
	}
	if s.hosts, err = hosts.NewTable(claims); err != nil {
		return nil, fmt.Errorf("compile domain claims: %w", err)
	}
	for i := range scripts {
		s.scripts[scripts[i].ID] = &scripts[i]
	}
	byApp := map[string][]routing.Route{}
	for _, r := range routes {
		p, err := routing.ParsePattern(r.Path)
		if err != nil {
			o.log.Error("skipping stored route that no longer parses", "route", r.ID, "path", r.Path, "err", err)
			continue
		}
		byApp[r.AppID] = append(byApp[r.AppID], routing.Route{ID: r.ID, Method: r.Method, Pattern: p, Target: r.ScriptID})
	}
	for app, rs := range byApp {
		t, err := routing.NewTable(rs)
		if err != nil {
			return nil, fmt.Errorf("compile routes of app %s: %w", app, err)
		}
		s.tables[app] = t
	}
	return s, nil
}

// loadEnv fills the snapshot's per-app environments. A secret that does not
// open (the key file was replaced) is left out and logged by name.
func (o *Orchestrator) loadEnv(ctx context.Context, s *snapshot) error {
	vars, err := o.src.ListVariables(ctx, "")
	if err != nil {
		return fmt.Errorf("load variables: %w", err)
	}
	s.env, s.secrets = map[string]map[string]string{}, map[string][]string{}
	for _, v := range vars {
		value := v.Value
		if v.Secret {
			if o.cfg.Secrets == nil {
				o.log.Error("secret left out of env: the daemon has no secrets key", "app", v.AppID, "name", v.Name)
				continue
			}
			if value, err = o.cfg.Secrets.Open(v.AppID, v.Name, v.Sealed); err != nil {
				o.log.Error("secret left out of env: it does not open with the secrets key", "app", v.AppID, "name", v.Name, "err", err)
				continue
			}
			s.secrets[v.AppID] = append(s.secrets[v.AppID], value)
		}
		if s.env[v.AppID] == nil {
			s.env[v.AppID] = map[string]string{}
		}
		s.env[v.AppID][v.Name] = value
	}
	return nil
}

// Target is a resolved request: the app, the script to run and the domain
// and route parameters.
type Target struct {
	AppID   string
	Script  *model.Script
	RouteID string
	Params  map[string]string
	// Interceptors run before Script, in order.
	Interceptors []Interceptor
}

// App returns the app that serves a Host header: the most specific claim, or
// the default app for an unclaimed host when the fallback is on.
func (o *Orchestrator) App(ctx context.Context, host string) (appID string, params map[string]string, ok bool, err error) {
	s, err := o.current(ctx)
	if err != nil {
		return "", nil, false, err
	}
	appID, params, ok = s.app(host)
	return appID, params, ok, nil
}

func (s *snapshot) app(host string) (string, map[string]string, bool) {
	if c, params, ok := s.hosts.Resolve(hosts.Canonical(host)); ok {
		return c.AppID, params, true
	}
	if s.fallback {
		return model.DefaultAppID, nil, true
	}
	return "", nil, false
}

// Resolve finds the app that serves host, then the route of that app that a
// request would reach; path is the request path as sent, still
// percent-encoded. Route parameters win over domain parameters of the same
// name.
func (o *Orchestrator) Resolve(ctx context.Context, host, method, path string) (Target, bool, error) {
	s, err := o.current(ctx)
	if err != nil {
		return Target{}, false, err
	}
	appID, domainParams, ok := s.app(host)
	if !ok {
		return Target{}, false, nil
	}
	t := s.tables[appID]
	if t == nil {
		return Target{}, false, nil
	}
	r, params, ok := t.Match(method, path)
	if !ok {
		return Target{}, false, nil
	}
	sc := s.scripts[r.Target.(string)]
	if sc == nil {
		return Target{}, false, nil
	}
	if len(domainParams) > 0 {
		merged := make(map[string]string, len(domainParams)+len(params))
		for k, v := range domainParams {
			merged[k] = v
		}
		for k, v := range params {
			merged[k] = v
		}
		params = merged
	}
	return Target{AppID: appID, Script: sc, RouteID: r.ID, Params: params,
		Interceptors: s.chain(appID, method, path)}, true, nil
}

// Script returns a script with its active code, for the execute endpoint.
func (o *Orchestrator) Script(ctx context.Context, id string) (*model.Script, bool, error) {
	s, err := o.current(ctx)
	if err != nil {
		return nil, false, err
	}
	sc, ok := s.scripts[id]
	return sc, ok, nil
}

// backgroundSlots is how many executions background work may hold.
func backgroundSlots(cfg Config) int {
	n := cfg.MaxBackground
	if n <= 0 || n > cfg.MaxConcurrent-1 {
		n = cfg.MaxConcurrent - 1
	}
	return max(n, 1)
}

// Triggers of executions, as the execution log records them.
const (
	TriggerHTTP  = "http"  // a request: Run
	TriggerCron  = "cron"  // a cron trigger's run: RunBackground
	TriggerQueue = "queue" // a queue trigger's delivery: RunBackground
	TriggerEmail = "email" // an email trigger's delivery: RunBackground
)

// Call describes one request to run.
type Call struct {
	RequestID string
	Method    string // the request method, for the log; Request.Method when empty
	Path      string // the request path, for the log
	Request   engine.Request
	// Trigger is what started the execution, for the log; "" is
	// TriggerHTTP.
	Trigger string
	// Scheduled, for a cron run, calls the script's scheduled handler.
	Scheduled *engine.Scheduled
	// Queue, for a queue delivery, calls the script's queue handler.
	Queue *engine.QueueBatch
	// Email, for a received message, calls the script's email handler.
	Email *engine.EmailMessage
	// Capture: the request is a public one that the script's active
	// version answers, which Config.Capture may keep (with the request
	// as the script got it, after the interceptors).
	Capture bool
}

// Run executes target under the concurrency cap, with its app's variables
// and secrets as env, and records the execution. Secret values are
// redacted from the console output and error it returns and records. It
// returns ErrOverloaded at once when the cap is reached.
func (o *Orchestrator) Run(ctx context.Context, target Target, call Call) (*engine.Result, error) {
	snap, err := o.current(ctx)
	if err != nil {
		return nil, err
	}
	select {
	case o.slots <- struct{}{}:
	default:
		o.refused.Add(1)
		return nil, ErrOverloaded
	}
	defer func() { <-o.slots }()
	return o.execute(ctx, snap, target, call), nil
}

// RunBackground executes the active version of a script for work that no
// HTTP request waits for (a cron run), and records it. It waits until ctx
// ends for one of the background slots, then for a slot under the global
// cap: background work never holds more than its share of the cap, so
// HTTP requests always find the rest free. It returns ctx's error if no
// slot came, and false when the script no longer exists.
func (o *Orchestrator) RunBackground(ctx context.Context, scriptID string, call Call) (*engine.Result, bool, error) {
	snap, err := o.current(ctx)
	if err != nil {
		return nil, false, err
	}
	sc, ok := snap.scripts[scriptID]
	if !ok {
		return nil, false, nil
	}
	select {
	case o.bg <- struct{}{}:
	case <-ctx.Done():
		return nil, true, fmt.Errorf("wait for a background slot: %w", context.Cause(ctx))
	}
	defer func() { <-o.bg }()
	select {
	case o.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, true, fmt.Errorf("wait for an execution slot: %w", context.Cause(ctx))
	}
	defer func() { <-o.slots }()
	return o.execute(ctx, snap, Target{AppID: sc.AppID, Script: sc}, call), true, nil
}

// execute runs target (its interceptors, then its script) in the slot its
// caller holds and records each execution.
func (o *Orchestrator) execute(ctx context.Context, snap *snapshot, target Target, call Call) *engine.Result {
	if len(target.Interceptors) > 0 {
		return o.runChain(ctx, snap, target, call)
	}
	return o.executeOne(ctx, snap, target.Script, target.Params, call, step{})
}

// executeOne runs one script and records it.
func (o *Orchestrator) executeOne(ctx context.Context, snap *snapshot, sc *model.Script, params map[string]string, call Call, st step) *engine.Result {
	lim := o.limitsFor(sc)
	if st.wall > 0 && st.wall < lim.WallTime {
		lim.WallTime = st.wall
	}
	wall := lim.WallTime
	if wall <= 0 {
		wall = engine.DefaultWallTime
	}
	ctx = withFrame(ctx, sc, time.Now().Add(wall), call.RequestID)
	res, err := o.exec.Execute(ctx, &engine.Invocation{
		AppID: sc.AppID, ScriptID: sc.ID, ScriptName: sc.Name, Version: sc.ActiveVersion, Code: sc.Code,
		Request: call.Request, Params: params, Env: snap.env[sc.AppID],
		Limits: lim, Scheduled: call.Scheduled, Queue: call.Queue, Email: call.Email, Intercept: st.intercept, Data: st.data,
	})
	if err != nil {
		res = &engine.Result{Error: &engine.ExecError{Code: engine.CodeInternal, Message: err.Error()}}
	}
	secrets := redactor(snap.secrets[sc.AppID])
	redact(res, secrets)
	o.rec.Record(record(sc, call, res, o.cfg.ResponsePreviewBytes, secrets))
	if call.Capture && !st.intercept && res.Error == nil && o.cfg.Capture != nil {
		o.cfg.Capture.Capture(sc.ID, sc.ActiveVersion, call.Request, res.Response)
	}
	return res
}

// Replay runs sc, a version of a script that need not be live, for a
// captured request as a replay (engine.Invocation.Replay): nothing of it
// leaves the board and its data calls are rolled back. It runs alone,
// without interceptors, with the app's variables and secrets, in the
// background share of the slots (waiting for one until ctx ends), and is
// not written to the execution log. Secret values are redacted from its
// console output and error, as for any execution.
func (o *Orchestrator) Replay(ctx context.Context, sc *model.Script, req engine.Request) (*engine.Result, error) {
	snap, err := o.current(ctx)
	if err != nil {
		return nil, err
	}
	select {
	case o.bg <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a background slot: %w", context.Cause(ctx))
	}
	defer func() { <-o.bg }()
	select {
	case o.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for an execution slot: %w", context.Cause(ctx))
	}
	defer func() { <-o.slots }()
	lim := o.limitsFor(sc)
	wall := lim.WallTime
	if wall <= 0 {
		wall = engine.DefaultWallTime
	}
	ctx = engine.WithReplay(withFrame(ctx, sc, time.Now().Add(wall), ""))
	res, err := o.exec.Execute(ctx, &engine.Invocation{
		AppID: sc.AppID, ScriptID: sc.ID, ScriptName: sc.Name, Version: sc.ActiveVersion, Code: sc.Code,
		Request: req, Params: map[string]string{}, Env: snap.env[sc.AppID], Limits: lim, Replay: true,
	})
	if err != nil {
		res = &engine.Result{Error: &engine.ExecError{Code: engine.CodeInternal, Message: err.Error()}}
	}
	redact(res, redactor(snap.secrets[sc.AppID]))
	return res, nil
}

// limitsFor is what an execution of sc gets: its own limits over the
// defaults, under the ceilings.
func (o *Orchestrator) limitsFor(sc *model.Script) engine.Limits {
	l := o.limits.Load()
	return engineLimits(sc.Limits.Apply(l[0], l[1]))
}

// SetLimits replaces the default limits and the ceilings, for executions
// that start from now on (a configuration reload).
func (o *Orchestrator) SetLimits(defaults, ceilings model.ScriptLimits) {
	o.limits.Store(&[2]model.ScriptLimits{defaults, ceilings})
}

// engineLimits converts limits from the control plane's units.
func engineLimits(l model.ScriptLimits) engine.Limits {
	return engine.Limits{WallTime: time.Duration(l.WallTimeMS) * time.Millisecond, MaxResponseBytes: l.ResponseBytes,
		MaxConsoleBytes: l.ConsoleBytes, MaxCallDepth: l.CallDepth, MaxTimers: l.Timers, MaxSubrequests: l.Subrequests,
		MaxDataCalls: l.DataCalls}
}

// InFlight reports how many executions are running.
func (o *Orchestrator) InFlight() int { return len(o.slots) }

// MaxConcurrent is the cap on executions at once.
func (o *Orchestrator) MaxConcurrent() int { return cap(o.slots) }

// Refused counts the executions refused with ErrOverloaded since start.
func (o *Orchestrator) Refused() uint64 { return o.refused.Load() }

// BackgroundSlots is how many executions background work may run at once.
func (o *Orchestrator) BackgroundSlots() int { return cap(o.bg) }

// InFlightBackground reports how many background executions hold a slot.
func (o *Orchestrator) InFlightBackground() int { return len(o.bg) }
