package orchestrator_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// dataset is what the source holds at one moment.
type dataset struct {
	scripts  []model.Script
	routes   []model.Route
	domains  []model.Domain
	settings model.Settings
	vars     []model.Variable
}

// sourceMethods is how many methods Source has: a build calls each once.
const sourceMethods = 5

// fakeSource is an in-memory Source. Each snapshot build reads one
// dataset, as if in one repeatable-read transaction: the first call of a
// build pins the dataset of that moment, and the build's other calls read
// the same one, whatever set does meanwhile.
type fakeSource struct {
	mu     sync.Mutex
	data   dataset
	pinned *dataset
	called map[string]bool
	builds int
	fail   error // returned by AllRoutes while set

	// When hold is not nil, the next build, once it has pinned its
	// dataset, signals entered and waits for hold to close.
	hold, entered chan struct{}
}

func newFakeSource(d dataset) *fakeSource { return &fakeSource{data: d, called: map[string]bool{}} }

// set replaces the data; builds from the next one on read it.
func (s *fakeSource) set(d dataset) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data = d
}

// holdNextBuild makes the next build wait, once it has pinned its dataset,
// until the returned release is called; wait returns when it got there.
func (s *fakeSource) holdNextBuild() (wait, release func(t *testing.T)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hold, entered := make(chan struct{}), make(chan struct{})
	s.hold, s.entered = hold, entered
	return func(t *testing.T) { t.Helper(); await(t, entered, "a build to start") },
		func(*testing.T) { close(hold) }
}

func (s *fakeSource) buildCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.builds
}

// view returns the dataset of the build that method is part of.
func (s *fakeSource) view(method string) (dataset, error) {
	s.mu.Lock()
	if s.pinned == nil {
		d := s.data
		s.pinned = &d
		s.builds++
	}
	d := *s.pinned
	s.called[method] = true
	if len(s.called) == sourceMethods {
		s.pinned = nil
		clear(s.called)
	}
	hold, entered, fail := s.hold, s.entered, s.fail
	s.hold, s.entered = nil, nil
	s.mu.Unlock()
	if hold != nil {
		close(entered)
		<-hold
	}
	if fail != nil && method == "AllRoutes" {
		s.mu.Lock()
		s.pinned = nil
		clear(s.called)
		s.mu.Unlock()
		return dataset{}, fail
	}
	return d, nil
}

func (s *fakeSource) AllRoutes(context.Context) ([]model.Route, error) {
	d, err := s.view("AllRoutes")
	return d.routes, err
}

func (s *fakeSource) AllActiveScripts(context.Context) ([]model.Script, error) {
	d, err := s.view("AllActiveScripts")
	return d.scripts, err
}

func (s *fakeSource) ListDomains(_ context.Context, appID string) ([]model.Domain, error) {
	d, err := s.view("ListDomains")
	if appID != "" {
		return nil, errors.New("the orchestrator reads every app's domains")
	}
	return d.domains, err
}

func (s *fakeSource) Settings(context.Context) (model.Settings, error) {
	d, err := s.view("Settings")
	return d.settings, err
}

func (s *fakeSource) ListVariables(_ context.Context, appID string) ([]model.Variable, error) {
	d, err := s.view("ListVariables")
	if appID != "" {
		return nil, errors.New("the orchestrator reads every app's variables")
	}
	return d.vars, err
}

// fakeOpener opens values sealed as "sealed:" + value, and nothing else.
type fakeOpener struct{}

func (fakeOpener) Open(_, _ string, sealed []byte) (string, error) {
	v, ok := strings.CutPrefix(string(sealed), "sealed:")
	if !ok {
		return "", errors.New("message authentication failed")
	}
	return v, nil
}

// fakeRecorder keeps the execution records.
type fakeRecorder struct {
	mu   sync.Mutex
	recs []model.ExecutionRecord
}

func (r *fakeRecorder) Record(rec model.ExecutionRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
}

func (r *fakeRecorder) records() []model.ExecutionRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]model.ExecutionRecord(nil), r.recs...)
}

// fakeExecutor answers every invocation with result (or err), keeping the
// invocations. With gate set, each execution first reports itself on
// started and then waits for gate to close.
type fakeExecutor struct {
	mu      sync.Mutex
	invs    []*engine.Invocation
	result  func(inv *engine.Invocation) *engine.Result
	err     error
	started chan *engine.Invocation
	gate    chan struct{}
}

func (e *fakeExecutor) Execute(ctx context.Context, inv *engine.Invocation) (*engine.Result, error) {
	e.mu.Lock()
	e.invs = append(e.invs, inv)
	e.mu.Unlock()
	if e.gate != nil {
		e.started <- inv
		select {
		case <-e.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	if e.result != nil {
		return e.result(inv), nil
	}
	return &engine.Result{Response: &engine.Response{Status: 200}, Duration: time.Millisecond}, nil
}

func (e *fakeExecutor) invocations() []*engine.Invocation {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*engine.Invocation(nil), e.invs...)
}

// await waits for ch to close or deliver, failing the test after a deadline.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
