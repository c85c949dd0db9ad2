package engine

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// stuckData never answers: each call waits for its context, and records
// the app it was made for and why it ended.
type stuckData struct {
	mu    sync.Mutex
	apps  []string
	ended chan error
}

func (s *stuckData) Call(ctx context.Context, app string, _ DataCall) (DataResult, error) {
	s.mu.Lock()
	s.apps = append(s.apps, app)
	s.mu.Unlock()
	<-ctx.Done()
	s.ended <- ctx.Err()
	return DataResult{}, ctx.Err()
}

// A data call counts against the execution's time and is canceled when the
// execution ends; it is made for the invocation's app.
func TestDataCallsEndWithTheExecution(t *testing.T) {
	ds := &stuckData{ended: make(chan error, 1)}
	x := NewInProcess(Options{Data: ds})
	res := runWith(t, x, JavaScript, `import { kv } from "picloud"
export default async () => { await kv.collection("c").get("k"); return "answered" }`, func(inv *Invocation) {
		inv.AppID = "the-app"
		inv.Limits.WallTime = 50 * time.Millisecond
	})
	if res.Error == nil || res.Error.Code != CodeTimeLimit {
		t.Fatalf("got %+v, want %s", res.Error, CodeTimeLimit)
	}
	select {
	case err := <-ds.ended:
		if err == nil {
			t.Error("the call ended without its context")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the data call outlived its execution")
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if strings.Join(ds.apps, ",") != "the-app" {
		t.Errorf("calls made for %v", ds.apps)
	}
}

// Past the execution's data call limit, the execution ends with
// limit.data_calls.
func TestDataCallLimit(t *testing.T) {
	x := NewInProcess(Options{})
	res := runWith(t, x, JavaScript, `import { kv } from "picloud"
export default async () => { for (let i = 0; i < 10; i++) { try { await kv.collection("c").get("k") } catch {} } return "done" }`,
		func(inv *Invocation) { inv.Limits.MaxDataCalls = 3 })
	if res.Error == nil || res.Error.Code != CodeDataCallsLimit {
		t.Fatalf("got %+v, want %s", res.Error, CodeDataCallsLimit)
	}
}
