package workers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
	"github.com/picloud/picloud/engine"
	"github.com/picloud/picloud/engine/egress"
)

// countingData answers every data call with null and counts them: the
// daemon's data service, as far as the workers can tell.
type countingData struct{ calls atomic.Int64 }

func (d *countingData) Call(context.Context, string, engine.DataCall) (engine.DataResult, error) {
	d.calls.Add(1)
	return engine.DataResult{Value: []byte("null")}, nil
}

// A memory bomb shares its worker with bystanders: the worker is killed,
// the bomb ends with limit.memory and is not run again; the bystanders
// that had made no data call and no fetch are run again on a fresh worker
// and answer; those that had fail with limit.memory, as before.
func TestBystandersOfAMemoryBombRunAgain(t *testing.T) {
	var pings atomic.Int64
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pings.Add(1)
		fmt.Fprint(w, "pong")
	}))
	defer gate.Close()
	ap := netip.MustParseAddrPort(strings.TrimPrefix(gate.URL, "http://"))
	policy := egress.Default()
	policy.Allow = []egress.AllowRule{{Net: netip.PrefixFrom(ap.Addr(), ap.Addr().BitLen()), Port: int(ap.Port())}}
	data := &countingData{}
	p := startPool(t, "real", Config{Workers: 1, PerWorker: 8, MaxMemoryBytes: 256 << 20, PollInterval: 20 * time.Millisecond,
		Engine: EngineConfig{Fetch: policy}, Data: data})

	// The bomb makes no data call and no fetch (it could be run again,
	// were it not to blame) and grows at a pace that leaves the
	// bystanders time to board, until its worker is killed.
	bomb := script(t, `export default { async fetch() { const a = []; for (;;) { a.push(new Array(1e5).fill(a.length)); await new Promise((r) => setTimeout(r, 20)) } } }`)
	const wait = `await new Promise((r) => setTimeout(r, 8000))`
	clean := script(t, `export default { async fetch() { `+wait+`; return new Response("fine") } }`)
	fetched := script(t, fmt.Sprintf(`export default { async fetch() { await fetch(%q); `+wait+`; return new Response("fine") } }`, gate.URL))
	wrote := script(t, `import { kv } from "picloud"
export default { async fetch() { await kv.collection("c").get("k"); `+wait+`; return new Response("fine") } }`)

	inflight := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		if w := p.workers[0]; w != nil {
			return w.inflight
		}
		return -1
	}
	type outcome struct {
		name string
		res  *engine.Result
		err  error
	}
	results := make(chan outcome, 8)
	launch := func(name, code string) {
		go func() {
			res, err := p.Execute(context.Background(), &engine.Invocation{ScriptID: name, Version: 1, Code: code,
				Request: engine.Request{Method: "GET", URL: "http://pi/"}, Limits: engine.Limits{WallTime: 30 * time.Second}})
			results <- outcome{name, res, err}
		}()
	}
	// The bomb boards first: the longest running is the one blamed.
	launch("bomb", bomb)
	testkit.Eventually(t, 10*time.Second, "the bomb runs", func() error {
		if n := inflight(); n != 1 {
			return fmt.Errorf("%d executions on the worker", n)
		}
		return nil
	})
	for i := range 3 {
		launch(fmt.Sprintf("clean-%d", i), clean)
	}
	launch("fetched", fetched)
	launch("wrote", wrote)
	// Were the bomb to win this race, the worker would be gone: the wait
	// fails rather than the test passing on other grounds.
	testkit.Eventually(t, 10*time.Second, "the bystanders run beside the bomb, two of them past their fetch and data call", func() error {
		if n, f, d := inflight(), pings.Load(), data.calls.Load(); n != 6 || f != 1 || d != 1 {
			return fmt.Errorf("%d executions on the worker, %d fetches, %d data calls", n, f, d)
		}
		return nil
	})

	got := map[string]*engine.Result{}
	for range 6 {
		o := <-results
		if o.err != nil {
			t.Fatalf("%s: %v", o.name, o.err)
		}
		got[o.name] = o.res
	}
	retried := func(res *engine.Result) bool {
		return len(res.Logs) > 0 && strings.HasPrefix(res.Logs[0].Message, retriedNote+engine.CodeMemoryLimit)
	}
	for name, res := range got {
		switch {
		case strings.HasPrefix(name, "clean"):
			if res.Error != nil || res.Response == nil || string(res.Response.Body) != "fine" || !retried(res) {
				t.Errorf("%s: %+v %+v, want fine, run again", name, res.Error, res.Logs)
			}
		default: // the bomb, and the bystanders with an effect
			if code(res) != engine.CodeMemoryLimit || retried(res) {
				t.Errorf("%s: %s %+v, want limit.memory, not run again", name, code(res), res.Logs)
			}
		}
	}
	if n := p.BystanderRetries(); n != 3 {
		t.Errorf("%d bystanders run again, want 3", n)
	}
	if st := p.Status(); st[0].Restarts != 1 || st[0].LastCode != engine.CodeMemoryLimit {
		t.Errorf("status: %+v, want one restart for limit.memory", st)
	}
}
