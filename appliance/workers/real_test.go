package workers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/engine"
)

func script(t *testing.T, src string) string {
	t.Helper()
	code, err := engine.Transpile(src, engine.JavaScript)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// Hostile scripts on the real engine in real worker processes: each ends
// with its limit's code while a bystander keeps answering.
func TestHostileScriptsOnRealWorkers(t *testing.T) {
	p := startPool(t, "real", Config{Workers: 2, PerWorker: 4, Grace: 300 * time.Millisecond,
		MaxMemoryBytes: 256 << 20, PollInterval: 20 * time.Millisecond})
	hello := script(t, `export default { fetch() { return new Response("hello") } }`)

	var stop atomic.Bool
	var served, failed atomic.Int64
	var worst atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			start := time.Now()
			res, err := p.Execute(context.Background(), &engine.Invocation{ScriptID: "hello", Version: 1, Code: hello,
				Request: engine.Request{Method: "GET", URL: "http://pi/"}, Limits: engine.Limits{WallTime: time.Second}})
			if err != nil || res.Error != nil || string(res.Response.Body) != "hello" {
				failed.Add(1)
			} else {
				served.Add(1)
			}
			if d := int64(time.Since(start)); d > worst.Load() {
				worst.Store(d)
			}
			// The behaviour under test: a bystander's requests spread
			// over the attacks.
			time.Sleep(10 * time.Millisecond)
		}
	}()

	// Each attack's code says which limit ended it (left alone, the sort
	// answers "done"); a bound on the time taken would only flake on a
	// busy machine.
	cases := []struct {
		name, src, want string
		wall            time.Duration
	}{
		// Array.prototype.map with a native callback and the default sort
		// run in Go: goja's interrupt cannot stop them.
		{"native sort", `export default { fetch() { const a = new Array(8e6).fill(0).map(Math.random); a.sort(); return "done" } }`,
			engine.CodeTimeLimit, 300 * time.Millisecond},
		{"gradual memory", `export default { fetch() { const a = []; for (;;) a.push(new Array(1e5).fill(a.length)) } }`,
			engine.CodeMemoryLimit, 20 * time.Second},
		{"loop", `export default { fetch() { for (;;) {} } }`, engine.CodeTimeLimit, 300 * time.Millisecond},
	}
	for _, c := range cases {
		start := time.Now()
		res, err := p.Execute(context.Background(), &engine.Invocation{ScriptID: c.name, Version: 1, Code: script(t, c.src),
			Request: engine.Request{Method: "GET", URL: "http://pi/"}, Limits: engine.Limits{WallTime: c.wall}})
		took := time.Since(start)
		if err != nil || res.Error == nil || res.Error.Code != c.want {
			t.Errorf("%s: %v %+v after %v, want %s", c.name, err, res.Error, took, c.want)
		} else {
			t.Logf("%s: %s after %v", c.name, res.Error.Code, took.Round(time.Millisecond))
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("bystander: %d served, %d failed, worst latency %v", served.Load(), failed.Load(), time.Duration(worst.Load()).Round(time.Millisecond))
	// A bystander running on the worker being killed is run again on
	// another: none fails.
	if served.Load() < 10 || failed.Load() > 0 {
		t.Fatalf("bystander: %d served, %d failed", served.Load(), failed.Load())
	}
}
