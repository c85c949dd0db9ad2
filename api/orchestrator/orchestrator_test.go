package orchestrator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/engine"
)

var ctx = context.Background()

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// shop is a dataset of one app, "shop", claiming shop.example.com, with a
// script bound to GET /hello and a variable.
func shop(route string) dataset {
	return dataset{
		scripts: []model.Script{{ID: "s1", AppID: "shop", Name: "hello.js", ActiveVersion: 1, Code: "code-1"}},
		routes:  []model.Route{{ID: "r1", AppID: "shop", ScriptID: "s1", Method: "GET", Path: route}},
		domains: []model.Domain{{ID: "d1", AppID: "shop", Pattern: "shop.example.com"}},
		vars:    []model.Variable{{AppID: "shop", Name: "GREETING", Value: "hello"}},
	}
}

func newOrchestrator(src orchestrator.Source, exec engine.Executor, rec orchestrator.Recorder, cfg orchestrator.Config) *orchestrator.Orchestrator {
	if exec == nil {
		exec = &fakeExecutor{}
	}
	if rec == nil {
		rec = &fakeRecorder{}
	}
	return orchestrator.New(cfg, src, exec, rec, discard)
}

// TestSnapshotRebuiltOnlyWhenInvalidated runs sequences of requests (R)
// and invalidations (I) and counts the snapshot builds: one at the first
// request, then one at the first request after any number of
// invalidations, none without a request.
func TestSnapshotRebuiltOnlyWhenInvalidated(t *testing.T) {
	cases := []struct {
		steps  string
		builds int
	}{
		{"", 0},
		{"R", 1},
		{"RRRR", 1},
		{"II", 0},
		{"RIR", 2},
		{"RIIIR", 2},
		{"RIRRIRR", 3},
		{"RII", 1},
	}
	for _, c := range cases {
		t.Run(c.steps, func(t *testing.T) {
			src := newFakeSource(shop("/hello"))
			o := newOrchestrator(src, nil, nil, orchestrator.Config{})
			for _, step := range c.steps {
				switch step {
				case 'R':
					if _, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/hello"); !ok || err != nil {
						t.Fatalf("resolve: %v %v", ok, err)
					}
				case 'I':
					o.Invalidate()
				}
			}
			if got := src.buildCount(); got != c.builds {
				t.Errorf("%d builds, want %d", got, c.builds)
			}
		})
	}
}

// TestSnapshotShowsChangesAfterInvalidate checks that each way of reading
// the snapshot (Resolve, App, Script) sees a change once Invalidate was
// called, and not before: the snapshot is a cache.
func TestSnapshotShowsChangesAfterInvalidate(t *testing.T) {
	before, after := shop("/hello"), shop("/hi")
	after.scripts[0].ActiveVersion, after.scripts[0].Code = 2, "code-2"
	after.domains[0].Pattern = "store.example.com"
	reads := []struct {
		name string
		// read returns what a request sees of the change: "before",
		// "after" or something else.
		read func(o *orchestrator.Orchestrator) string
	}{
		{"Resolve", func(o *orchestrator.Orchestrator) string {
			_, old, _ := o.Resolve(ctx, "shop.example.com", "GET", "/hello")
			_, nu, _ := o.Resolve(ctx, "store.example.com", "GET", "/hi")
			return map[[2]bool]string{{true, false}: "before", {false, true}: "after"}[[2]bool{old, nu}]
		}},
		{"App", func(o *orchestrator.Orchestrator) string {
			_, _, old, _ := o.App(ctx, "shop.example.com")
			_, _, nu, _ := o.App(ctx, "store.example.com")
			return map[[2]bool]string{{true, false}: "before", {false, true}: "after"}[[2]bool{old, nu}]
		}},
		{"Script", func(o *orchestrator.Orchestrator) string {
			sc, ok, err := o.Script(ctx, "s1")
			if !ok || err != nil {
				return fmt.Sprint(ok, err)
			}
			return map[string]string{"code-1": "before", "code-2": "after"}[sc.Code]
		}},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			src := newFakeSource(before)
			o := newOrchestrator(src, nil, nil, orchestrator.Config{})
			if got := r.read(o); got != "before" {
				t.Fatalf("first read: %s", got)
			}
			src.set(after)
			if got := r.read(o); got != "before" {
				t.Fatalf("after a change without Invalidate: %s, want the cached snapshot", got)
			}
			o.Invalidate()
			if got := r.read(o); got != "after" {
				t.Fatalf("after Invalidate: %s", got)
			}
		})
	}
}

// TestInvalidateDuringBuildIsNotLost holds a snapshot build after it read
// the data, changes the data and invalidates, then lets the build finish:
// the request that started it may see the old data, but the next one must
// rebuild and see the change.
func TestInvalidateDuringBuildIsNotLost(t *testing.T) {
	src := newFakeSource(shop("/old"))
	o := newOrchestrator(src, nil, nil, orchestrator.Config{})
	wait, release := src.holdNextBuild()
	first := make(chan error, 1)
	go func() {
		_, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/old")
		if err == nil && !ok {
			err = errors.New("/old not found by the build that read it")
		}
		first <- err
	}()
	wait(t)
	src.set(shop("/new"))
	o.Invalidate()
	release(t)
	if err := await(t, first, "the first request"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/new"); !ok || err != nil {
		t.Fatalf("/new after Invalidate during the build: found %v, %v", ok, err)
	}
	if n := src.buildCount(); n != 2 {
		t.Errorf("%d builds, want 2", n)
	}
}

// TestConcurrentRequestsShareOneRebuild holds the rebuild that a request
// after Invalidate started, lets more requests queue behind it, and checks
// that they use the snapshot it made instead of building their own.
func TestConcurrentRequestsShareOneRebuild(t *testing.T) {
	const waiting = 4
	src := newFakeSource(shop("/hello"))
	o := newOrchestrator(src, nil, nil, orchestrator.Config{})
	if _, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/hello"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	o.Invalidate()
	wait, release := src.holdNextBuild()
	done := make(chan error, waiting+1)
	resolve := func() {
		_, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/hello")
		if err == nil && !ok {
			err = errors.New("not found")
		}
		done <- err
	}
	go resolve()
	wait(t)
	for range waiting {
		go resolve()
	}
	awaitGoroutines(t, waiting, "(*Orchestrator).current", "sync.(*Mutex).Lock")
	release(t)
	for range waiting + 1 {
		if err := await(t, done, "a request"); err != nil {
			t.Error(err)
		}
	}
	if n := src.buildCount(); n != 2 {
		t.Errorf("%d builds, want 2: the first and one after Invalidate", n)
	}
}

// awaitGoroutines waits until n goroutines have stacks with every one of
// frames in them, failing the test after a deadline.
func awaitGoroutines(t *testing.T, n int, frames ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1<<20)
	for {
		count := 0
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if !slices.ContainsFunc(frames, func(f string) bool { return !strings.Contains(g, f) }) {
				count++
			}
		}
		if count >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines in %v, want %d", count, frames, n)
		}
		runtime.Gosched()
	}
}

// TestFailedBuildIsNotCached checks that a snapshot the source could not
// be read for is an error for the request, and that the next request
// tries again.
func TestFailedBuildIsNotCached(t *testing.T) {
	src := newFakeSource(shop("/hello"))
	src.fail = errors.New("connection refused")
	o := newOrchestrator(src, nil, nil, orchestrator.Config{})
	if _, _, err := o.Resolve(ctx, "shop.example.com", "GET", "/hello"); err == nil || !strings.Contains(err.Error(), "load routes: connection refused") {
		t.Fatalf("resolve while the source fails: %v", err)
	}
	src.mu.Lock()
	src.fail = nil
	src.mu.Unlock()
	if _, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/hello"); !ok || err != nil {
		t.Fatalf("resolve once the source answers: %v %v", ok, err)
	}
}

// generation is dataset number v: the app "app-v" claims
// {tenant}.example.com and binds GET /ping/:id to its script "s-v",
// version v, with VERSION=v. Requests on one snapshot only ever see one
// generation; a mix of two finds nothing.
func generation(v int) dataset {
	app, script := fmt.Sprintf("app-%d", v), fmt.Sprintf("s-%d", v)
	return dataset{
		scripts: []model.Script{{ID: script, AppID: app, Name: "ping.js", ActiveVersion: v}},
		routes:  []model.Route{{ID: fmt.Sprintf("r-%d", v), AppID: app, ScriptID: script, Method: "GET", Path: "/ping/:id"}},
		domains: []model.Domain{{ID: fmt.Sprintf("d-%d", v), AppID: app, Pattern: "{tenant}.example.com"}},
		vars:    []model.Variable{{AppID: app, Name: "VERSION", Value: strconv.Itoa(v)}},
	}
}

// TestConcurrentResolveSeesConsistentSnapshots resolves from several
// goroutines while the data changes and Invalidate is called over and
// over: every request must find its route on one whole snapshot (host,
// route and script of the same generation), no reader may go back to an
// older generation, and once the changes stop the last one is served.
func TestConcurrentResolveSeesConsistentSnapshots(t *testing.T) {
	const generations, readers = 200, 4
	src := newFakeSource(generation(1))
	o := newOrchestrator(src, nil, nil, orchestrator.Config{})
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := 0
			for !stop.Load() {
				v, err := resolvedGeneration(o)
				if err == nil && v < seen {
					err = fmt.Errorf("went back from generation %d to %d", seen, v)
				}
				if err != nil {
					errs <- err
					return
				}
				seen = v
			}
		}()
	}
	for v := 2; v <= generations; v++ {
		src.set(generation(v))
		o.Invalidate()
		if _, err := resolvedGeneration(o); err != nil {
			t.Errorf("writer's own request: %v", err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if v, err := resolvedGeneration(o); err != nil || v != generations {
		t.Errorf("after the last change: generation %d, %v; want %d", v, err, generations)
	}
}

// resolvedGeneration resolves a request and returns the generation of the
// snapshot it was resolved on, or why it is not one whole generation.
func resolvedGeneration(o *orchestrator.Orchestrator) (int, error) {
	tg, ok, err := o.Resolve(ctx, "acme.example.com", "GET", "/ping/7")
	if err != nil || !ok {
		return 0, fmt.Errorf("resolve: found %v, %v", ok, err)
	}
	v := tg.Script.ActiveVersion
	want := map[string]string{"tenant": "acme", "id": "7"}
	if tg.AppID != fmt.Sprintf("app-%d", v) || tg.Script.AppID != tg.AppID || tg.RouteID != fmt.Sprintf("r-%d", v) || !maps.Equal(tg.Params, want) {
		return 0, fmt.Errorf("mixed snapshot: app %s, route %s, script %s of %s version %d, params %v",
			tg.AppID, tg.RouteID, tg.Script.ID, tg.Script.AppID, v, tg.Params)
	}
	return v, nil
}

// TestMostSpecificDomainWins checks which app serves a host: an exact
// claim beats a pattern, more literal labels beat fewer, case, port and a
// trailing dot do not matter, and an unclaimed host goes to the default
// app only with the fallback on.
func TestMostSpecificDomainWins(t *testing.T) {
	claims := []model.Domain{
		{ID: "1", AppID: "exact", Pattern: "shop.example.com"},
		{ID: "2", AppID: "tenant", Pattern: "{tenant}.example.com"},
		{ID: "3", AppID: "api", Pattern: "api.{tenant}.example.com"},
		{ID: "4", AppID: "service", Pattern: "{svc}.{tenant}.example.com"},
		{ID: "5", AppID: "broken", Pattern: "not a pattern"}, // left out, logged
	}
	cases := []struct {
		host     string
		fallback bool
		app      string // "" for none
		params   map[string]string
	}{
		{"shop.example.com", false, "exact", nil},
		{"SHOP.Example.COM.", false, "exact", nil},
		{"shop.example.com:8080", false, "exact", nil},
		{"acme.example.com", false, "tenant", map[string]string{"tenant": "acme"}},
		{"api.acme.example.com", false, "api", map[string]string{"tenant": "acme"}},
		{"web.acme.example.com", false, "service", map[string]string{"svc": "web", "tenant": "acme"}},
		{"example.com", false, "", nil},
		{"example.org", false, "", nil},
		{"example.org", true, model.DefaultAppID, nil},
		{"acme.example.com", true, "tenant", map[string]string{"tenant": "acme"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s fallback %v", c.host, c.fallback), func(t *testing.T) {
			d := dataset{domains: claims, settings: model.Settings{DefaultAppFallback: c.fallback}}
			o := newOrchestrator(newFakeSource(d), nil, nil, orchestrator.Config{})
			app, params, ok, err := o.App(ctx, c.host)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (c.app != "") || app != c.app || !maps.Equal(params, c.params) {
				t.Errorf("app %q %v (found %v), want %q %v", app, params, ok, c.app, c.params)
			}
		})
	}
}

// TestResolveRoutes checks route resolution within the app of the host:
// another app's routes are not reached, route parameters win over domain
// parameters of the same name, and a route whose script has no active
// version is not found.
func TestResolveRoutes(t *testing.T) {
	d := dataset{
		scripts: []model.Script{
			{ID: "s-tenant", AppID: "tenant", ActiveVersion: 1},
			{ID: "s-other", AppID: "other", ActiveVersion: 1},
		},
		routes: []model.Route{
			{ID: "r-items", AppID: "tenant", ScriptID: "s-tenant", Method: "GET", Path: "/items/:tenant"},
			{ID: "r-home", AppID: "tenant", ScriptID: "s-tenant", Method: "*", Path: "/"},
			{ID: "r-other", AppID: "other", ScriptID: "s-other", Method: "GET", Path: "/other"},
			{ID: "r-gone", AppID: "tenant", ScriptID: "s-deleted", Method: "GET", Path: "/gone"},
		},
		domains: []model.Domain{
			{ID: "1", AppID: "tenant", Pattern: "{tenant}.example.com"},
			{ID: "2", AppID: "other", Pattern: "other.example.org"},
		},
	}
	cases := []struct {
		method, path string
		route        string // "" for not found
		params       map[string]string
	}{
		{"GET", "/items/42", "r-items", map[string]string{"tenant": "42"}},
		{"POST", "/", "r-home", map[string]string{"tenant": "acme"}},
		{"GET", "/other", "", nil},
		{"GET", "/gone", "", nil},
		{"DELETE", "/items/42", "", nil},
	}
	o := newOrchestrator(newFakeSource(d), nil, nil, orchestrator.Config{})
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			tg, ok, err := o.Resolve(ctx, "acme.example.com", c.method, c.path)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (c.route != "") || tg.RouteID != c.route || !maps.Equal(tg.Params, c.params) {
				t.Errorf("route %q %v (found %v), want %q %v", tg.RouteID, tg.Params, ok, c.route, c.params)
			}
			if ok && (tg.AppID != "tenant" || tg.Script.ID != "s-tenant") {
				t.Errorf("target %+v", tg)
			}
		})
	}
}

// TestOverloaded fills every concurrency slot with an execution that
// waits, and checks that one more is refused at once with ErrOverloaded,
// reaches no executor and is not recorded, and that slots free up when
// executions end.
func TestOverloaded(t *testing.T) {
	for _, c := range []struct{ configured, slots int }{{0, 1}, {1, 1}, {3, 3}} {
		t.Run(fmt.Sprint("MaxConcurrent ", c.configured), func(t *testing.T) {
			exec := &fakeExecutor{started: make(chan *engine.Invocation), gate: make(chan struct{})}
			rec := &fakeRecorder{}
			src := newFakeSource(shop("/hello"))
			o := newOrchestrator(src, exec, rec, orchestrator.Config{MaxConcurrent: c.configured})
			tg, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/hello")
			if !ok || err != nil {
				t.Fatal(ok, err)
			}
			done := make(chan error, c.slots)
			for range c.slots {
				go func() {
					_, err := o.Run(ctx, tg, orchestrator.Call{RequestID: "busy"})
					done <- err
				}()
				await(t, exec.started, "an execution to start")
			}
			if n := o.InFlight(); n != c.slots {
				t.Errorf("InFlight %d, want %d", n, c.slots)
			}
			refused := make(chan error, 1)
			go func() {
				_, err := o.Run(ctx, tg, orchestrator.Call{RequestID: "one too many"})
				refused <- err
			}()
			select {
			case err := <-refused:
				if !errors.Is(err, orchestrator.ErrOverloaded) {
					t.Fatalf("run past the cap: %v, want ErrOverloaded", err)
				}
			case <-exec.started:
				t.Fatal("the run past the cap reached the executor")
			case <-time.After(10 * time.Second):
				t.Fatal("the run past the cap waited for a slot")
			}
			if n := len(exec.invocations()); n != c.slots {
				t.Errorf("%d executions reached the executor, want %d", n, c.slots)
			}
			close(exec.gate)
			for range c.slots {
				if err := await(t, done, "an execution to end"); err != nil {
					t.Error(err)
				}
			}
			if n := o.InFlight(); n != 0 {
				t.Errorf("InFlight %d after every execution ended", n)
			}
			exec.gate = nil
			if _, err := o.Run(ctx, tg, orchestrator.Call{RequestID: "later"}); err != nil {
				t.Fatalf("run once the slots are free: %v", err)
			}
			for _, r := range rec.records() {
				if r.RequestID == "one too many" {
					t.Error("the refused execution was recorded")
				}
			}
			if n := len(rec.records()); n != c.slots+1 {
				t.Errorf("%d records, want %d", n, c.slots+1)
			}
		})
	}
}

// TestLimits checks the limits an execution gets: the script's own over
// the defaults, never above the ceilings, in the engine's units; and that
// SetLimits applies to the executions that start after it.
func TestLimits(t *testing.T) {
	defaults := model.ScriptLimits{WallTimeMS: 1000, ResponseBytes: 1000, ConsoleBytes: 100, CallDepth: 10, Timers: 5, Subrequests: 2}
	ceilings := model.ScriptLimits{WallTimeMS: 3000, ResponseBytes: 5000, ConsoleBytes: 500, CallDepth: 50, Timers: 20, Subrequests: 8}
	cases := []struct {
		name     string
		own      model.ScriptLimits
		defaults model.ScriptLimits
		ceilings model.ScriptLimits
		want     engine.Limits
	}{
		{"defaults", model.ScriptLimits{}, defaults, ceilings,
			engine.Limits{WallTime: time.Second, MaxResponseBytes: 1000, MaxConsoleBytes: 100, MaxCallDepth: 10, MaxTimers: 5, MaxSubrequests: 2}},
		{"own limits", model.ScriptLimits{WallTimeMS: 2500, Subrequests: 7}, defaults, ceilings,
			engine.Limits{WallTime: 2500 * time.Millisecond, MaxResponseBytes: 1000, MaxConsoleBytes: 100, MaxCallDepth: 10, MaxTimers: 5, MaxSubrequests: 7}},
		{"own limits above a lowered ceiling", model.ScriptLimits{WallTimeMS: 9000, Timers: 100}, defaults, ceilings,
			engine.Limits{WallTime: 3 * time.Second, MaxResponseBytes: 1000, MaxConsoleBytes: 100, MaxCallDepth: 10, MaxTimers: 20, MaxSubrequests: 2}},
		{"defaults above the ceilings", model.ScriptLimits{}, ceilings, defaults,
			engine.Limits{WallTime: time.Second, MaxResponseBytes: 1000, MaxConsoleBytes: 100, MaxCallDepth: 10, MaxTimers: 5, MaxSubrequests: 2}},
		{"no ceilings", model.ScriptLimits{CallDepth: 100000}, defaults, model.ScriptLimits{},
			engine.Limits{WallTime: time.Second, MaxResponseBytes: 1000, MaxConsoleBytes: 100, MaxCallDepth: 100000, MaxTimers: 5, MaxSubrequests: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := shop("/hello")
			d.scripts[0].Limits = c.own
			exec := &fakeExecutor{}
			o := newOrchestrator(newFakeSource(d), exec, nil, orchestrator.Config{LimitDefaults: c.defaults, LimitCeilings: c.ceilings})
			if got := runOnce(t, o, exec).Limits; got != c.want {
				t.Errorf("limits\n got %+v\nwant %+v", got, c.want)
			}
		})
	}

	t.Run("SetLimits", func(t *testing.T) {
		exec := &fakeExecutor{}
		o := newOrchestrator(newFakeSource(shop("/hello")), exec, nil, orchestrator.Config{LimitDefaults: defaults, LimitCeilings: ceilings})
		lower := ceilings
		lower.WallTimeMS = 500
		o.SetLimits(defaults, lower)
		if got := runOnce(t, o, exec).Limits.WallTime; got != 500*time.Millisecond {
			t.Errorf("wall time after SetLimits: %v, want 500ms", got)
		}
	})
}

// runOnce runs the script of GET shop.example.com/hello and returns its
// invocation.
func runOnce(t *testing.T, o *orchestrator.Orchestrator, exec *fakeExecutor) *engine.Invocation {
	t.Helper()
	tg, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/hello")
	if !ok || err != nil {
		t.Fatalf("resolve: %v %v", ok, err)
	}
	if _, err := o.Run(ctx, tg, orchestrator.Call{RequestID: "req-1"}); err != nil {
		t.Fatal(err)
	}
	invs := exec.invocations()
	if len(invs) == 0 {
		t.Fatal("no execution")
	}
	return invs[len(invs)-1]
}

// TestEnv checks the env an execution gets: its own app's variables, and
// its secrets opened, unless they do not open or there is no key.
func TestEnv(t *testing.T) {
	vars := []model.Variable{
		{AppID: "shop", Name: "GREETING", Value: "hello"},
		{AppID: "shop", Name: "API_KEY", Secret: true, Sealed: []byte("sealed:hunter22")},
		{AppID: "shop", Name: "OLD_KEY", Secret: true, Sealed: []byte("sealed with another key")},
		{AppID: "blog", Name: "BLOG_ONLY", Value: "x"},
	}
	cases := []struct {
		name   string
		opener orchestrator.Opener
		want   map[string]string
	}{
		{"with the secrets key", fakeOpener{}, map[string]string{"GREETING": "hello", "API_KEY": "hunter22"}},
		{"without a secrets key", nil, map[string]string{"GREETING": "hello"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := shop("/hello")
			d.vars = vars
			exec := &fakeExecutor{}
			o := newOrchestrator(newFakeSource(d), exec, nil, orchestrator.Config{Secrets: c.opener})
			if got := runOnce(t, o, exec).Env; !maps.Equal(got, c.want) {
				t.Errorf("env %v, want %v", got, c.want)
			}
		})
	}
}

// TestRunRecordsAndRedacts checks what Run hands the executor and records:
// the invocation of the target's script with its parameters; a record per
// execution with the status and console; an executor failure as a 502
// with engine.internal; and the app's secrets (of 4 bytes or more)
// replaced by [secret] in the console and error, in the result returned
// and in the record.
func TestRunRecordsAndRedacts(t *testing.T) {
	vars := []model.Variable{
		{AppID: "shop", Name: "API_KEY", Secret: true, Sealed: []byte("sealed:hunter22")},
		{AppID: "shop", Name: "API_KEY_LONG", Secret: true, Sealed: []byte("sealed:hunter22-long")},
		{AppID: "shop", Name: "PIN", Secret: true, Sealed: []byte("sealed:123")},
		{AppID: "shop", Name: "PLAIN", Value: "visible-value"},
	}
	cases := []struct {
		name       string
		result     *engine.Result
		execErr    error
		status     int
		errorCode  string
		wantLog    string
		wantErrMsg string
	}{
		{"response", &engine.Result{Response: &engine.Response{Status: 201}, Logs: []engine.LogLine{{Level: "info", Message: "made it"}}},
			nil, 201, "", "made it", ""},
		{"no response", &engine.Result{}, nil, 204, "", "", ""},
		{"secrets in the console", &engine.Result{Response: &engine.Response{Status: 200},
			Logs: []engine.LogLine{{Level: "info", Message: "key hunter22-long and hunter22, pin 123, plain visible-value"}}},
			nil, 200, "", "key [secret] and [secret], pin 123, plain visible-value", ""},
		{"secret in an exception", &engine.Result{Error: &engine.ExecError{Code: engine.CodeException, Message: "bad key hunter22", Stack: "at hunter22"}},
			nil, 500, engine.CodeException, "", "bad key [secret]"},
		{"time limit", &engine.Result{Error: &engine.ExecError{Code: engine.CodeTimeLimit, Message: "too slow"}},
			nil, 504, engine.CodeTimeLimit, "", "too slow"},
		{"executor failure", nil, errors.New("worker pipe closed: hunter22"), 502, engine.CodeInternal, "", "worker pipe closed: [secret]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := shop("/hello/:name")
			d.vars = vars
			exec := &fakeExecutor{err: c.execErr, result: func(*engine.Invocation) *engine.Result { return c.result }}
			rec := &fakeRecorder{}
			o := newOrchestrator(newFakeSource(d), exec, rec, orchestrator.Config{Secrets: fakeOpener{}})
			tg, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/hello/pi")
			if !ok || err != nil {
				t.Fatal(ok, err)
			}
			req := engine.Request{Method: "GET", URL: "http://shop.example.com/hello/pi"}
			res, err := o.Run(ctx, tg, orchestrator.Call{RequestID: "req-9", Path: "/hello/pi", Request: req})
			if err != nil {
				t.Fatal(err)
			}
			inv := exec.invocations()[0]
			if inv.ScriptID != "s1" || inv.Version != 1 || inv.Code != "code-1" || inv.Params["name"] != "pi" || !reflect.DeepEqual(inv.Request, req) {
				t.Errorf("invocation %+v", inv)
			}
			recs := rec.records()
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			r := recs[0]
			if r.AppID != "shop" || r.ScriptID != "s1" || r.ScriptVersion != 1 || r.RequestID != "req-9" || r.Method != "GET" ||
				r.Path != "/hello/pi" || r.Status != c.status || r.ErrorCode != c.errorCode || r.Error != c.wantErrMsg {
				t.Errorf("record %+v", r)
			}
			if got := orchestrator.StatusOf(res); got != c.status {
				t.Errorf("status %d, want %d", got, c.status)
			}
			var console []engine.LogLine
			if len(r.Console) > 0 {
				if err := json.Unmarshal(r.Console, &console); err != nil {
					t.Fatal(err)
				}
			}
			for _, where := range []struct {
				name string
				logs []engine.LogLine
				err  *engine.ExecError
			}{{"result", res.Logs, res.Error}, {"record", console, nil}} {
				got := ""
				if len(where.logs) > 0 {
					got = where.logs[0].Message
				}
				if got != c.wantLog {
					t.Errorf("console in the %s: %q, want %q", where.name, got, c.wantLog)
				}
				if e := where.err; e != nil && (e.Message != c.wantErrMsg || strings.Contains(e.Stack, "hunter22")) {
					t.Errorf("error in the %s: %+v", where.name, e)
				}
			}
		})
	}
}

// TestStatusOf checks the HTTP status of each kind of result.
func TestStatusOf(t *testing.T) {
	cases := []struct {
		res  engine.Result
		want int
	}{
		{engine.Result{Response: &engine.Response{Status: 418}}, 418},
		{engine.Result{}, 204},
		{engine.Result{Error: &engine.ExecError{Code: engine.CodeTimeLimit}}, 504},
		{engine.Result{Error: &engine.ExecError{Code: engine.CodeCanceled}}, 499},
		{engine.Result{Error: &engine.ExecError{Code: engine.CodeInternal}}, 502},
		{engine.Result{Error: &engine.ExecError{Code: engine.CodeExecutorCrashed}}, 502},
		{engine.Result{Error: &engine.ExecError{Code: engine.CodeExecutorRestarted}}, 502},
		{engine.Result{Error: &engine.ExecError{Code: engine.CodeUnavailable}}, 503},
		{engine.Result{Error: &engine.ExecError{Code: engine.CodeMemoryLimit}}, 500},
		{engine.Result{Error: &engine.ExecError{Code: engine.CodeException}}, 500},
	}
	for _, c := range cases {
		name := "response"
		if c.res.Error != nil {
			name = c.res.Error.Code
		} else if c.res.Response == nil {
			name = "nothing"
		}
		t.Run(name, func(t *testing.T) {
			if got := orchestrator.StatusOf(&c.res); got != c.want {
				t.Errorf("%d, want %d", got, c.want)
			}
		})
	}
}
