package orchestrator_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/engine"
)

// scheduledGate holds scheduled (background) invocations until released,
// keeping the most that ran at once; HTTP invocations answer at once.
type scheduledGate struct {
	mu       sync.Mutex
	running  int
	most     int
	started  chan struct{}
	release  chan struct{}
	finished int
}

func (g *scheduledGate) Execute(ctx context.Context, inv *engine.Invocation) (*engine.Result, error) {
	if inv.Scheduled == nil {
		return &engine.Result{Response: &engine.Response{Status: 200}}, nil
	}
	g.mu.Lock()
	g.running++
	g.most = max(g.most, g.running)
	g.mu.Unlock()
	g.started <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	g.mu.Lock()
	g.running--
	g.finished++
	g.mu.Unlock()
	return &engine.Result{}, nil
}

// TestBackgroundLeavesHTTPItsSlots floods the orchestrator with background
// runs: at most MaxBackground run at once, the others wait (none is
// refused), and HTTP requests are served meanwhile. Each run is recorded
// with its trigger.
func TestBackgroundLeavesHTTPItsSlots(t *testing.T) {
	const capacity, share, flood = 3, 2, 10
	gate := &scheduledGate{started: make(chan struct{}), release: make(chan struct{})}
	rec := &fakeRecorder{}
	o := newOrchestrator(newFakeSource(shop("/hello")), gate, rec, orchestrator.Config{MaxConcurrent: capacity, MaxBackground: share})
	if n := o.BackgroundSlots(); n != share {
		t.Fatalf("BackgroundSlots %d, want %d", n, share)
	}
	errs := make(chan error, flood)
	for range flood {
		go func() {
			_, ok, err := o.RunBackground(ctx, "s1", orchestrator.Call{RequestID: "cron", Trigger: orchestrator.TriggerCron,
				Scheduled: &engine.Scheduled{Cron: "* * * * *", Time: time.Now()}})
			if err == nil && !ok {
				err = errors.New("the script was not found")
			}
			errs <- err
		}()
	}
	for range share {
		await(t, gate.started, "a background run to start")
	}
	tg, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/hello")
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	for range 20 {
		if _, err := o.Run(ctx, tg, orchestrator.Call{RequestID: "http"}); err != nil {
			t.Fatalf("an HTTP request while background work fills its share: %v", err)
		}
	}
	for i := range flood {
		if i >= share {
			await(t, gate.started, "a waiting background run to start")
		}
		gate.release <- struct{}{}
	}
	for range flood {
		if err := await(t, errs, "a background run to end"); err != nil {
			t.Error(err)
		}
	}
	if gate.most > share {
		t.Errorf("%d background runs at once, want at most %d", gate.most, share)
	}
	var cron, http int
	for _, r := range rec.records() {
		switch r.Trigger {
		case orchestrator.TriggerCron:
			cron++
		case orchestrator.TriggerHTTP:
			http++
		default:
			t.Errorf("record with trigger %q", r.Trigger)
		}
	}
	if cron != flood || http != 20 {
		t.Errorf("recorded %d cron and %d http runs, want %d and 20", cron, http, flood)
	}
}

// A background run that finds no slot before its context ends gives up
// with that error, and unknown scripts are reported as such.
func TestBackgroundWaitEndsWithItsContext(t *testing.T) {
	gate := &scheduledGate{started: make(chan struct{}), release: make(chan struct{})}
	o := newOrchestrator(newFakeSource(shop("/hello")), gate, nil, orchestrator.Config{MaxConcurrent: 2, MaxBackground: 1})
	call := orchestrator.Call{Trigger: orchestrator.TriggerCron, Scheduled: &engine.Scheduled{Cron: "@daily"}}
	done := make(chan error, 1)
	go func() { _, _, err := o.RunBackground(ctx, "s1", call); done <- err }()
	await(t, gate.started, "the first background run")
	wctx, cancel := context.WithCancel(ctx)
	waiting := make(chan error, 1)
	go func() { _, _, err := o.RunBackground(wctx, "s1", call); waiting <- err }()
	cancel()
	if err := await(t, waiting, "the waiting run to give up"); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting run: %v, want context.Canceled", err)
	}
	gate.release <- struct{}{}
	if err := await(t, done, "the first run to end"); err != nil {
		t.Error(err)
	}
	if _, ok, err := o.RunBackground(ctx, "no-such-script", call); ok || err != nil {
		t.Errorf("unknown script: ok %v, err %v", ok, err)
	}
}

func TestBackgroundShareDefaults(t *testing.T) {
	for _, c := range []struct{ capacity, bg, want int }{{1, 0, 1}, {2, 0, 1}, {8, 0, 7}, {8, 4, 4}, {8, 9, 7}} {
		o := newOrchestrator(newFakeSource(shop("/hello")), nil, nil, orchestrator.Config{MaxConcurrent: c.capacity, MaxBackground: c.bg})
		if got := o.BackgroundSlots(); got != c.want {
			t.Errorf("cap %d, background %d: %d slots, want %d", c.capacity, c.bg, got, c.want)
		}
	}
}
