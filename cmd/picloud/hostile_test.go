package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// attack is one hostile script and how the platform must answer it.
type attack struct {
	name   string
	src    string
	method string
	body   string
	status int
	code   string        // error code in the answer ("" for a success)
	within time.Duration // from the request to the answer
	// or is another acceptable answer: a non-interruptible built-in may
	// pass the memory ceiling before its wall time, depending on the machine.
	or *attack
}

// TestHostileScripts runs each class of attack against the real daemon and
// its executor workers. Each must end with its own clear error within its
// limit and a margin; meanwhile a bystander script keeps answering without
// one failure (one on a killed worker is run again on another); and the
// daemon's memory stays flat.
func TestHostileScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	const wall, grace = 2 * time.Second, 500 * time.Millisecond
	bin := buildBinary(t)
	d := newDaemon(t, bin,
		"PICLOUD_SANDBOX_WALL_TIME_MS="+strconv.Itoa(int(wall/time.Millisecond)),
		"PICLOUD_EXECUTOR_KILL_GRACE_MS="+strconv.Itoa(int(grace/time.Millisecond)),
		"PICLOUD_EXECUTOR_WORKERS=2",
		"PICLOUD_SANDBOX_MAX_MEMORY_MB=160",
		"PICLOUD_MAX_CONCURRENT_EXECUTIONS=16",
		"PICLOUD_SANDBOX_CONSOLE_BYTES=4096",
		"PICLOUD_SANDBOX_TIMERS=100",
		"PICLOUD_SANDBOX_SUBREQUESTS=5",
		"PICLOUD_MAX_REQUEST_BODY_BYTES=1048576",
	)
	d.startAsOwner()

	// The bystander also reports what leaked into a fresh runtime.
	d.deploy("", "bystander", `export default () => Response.json({ ok: true, polluted: ({}).polluted ?? null, leak: globalThis.leak ?? null, json: JSON.stringify({ a: 1 }) })`, "*", "/ok")
	// An app of its own, reached by Host, to check that nothing crosses
	// apps either.
	other := d.call("POST", "/api/v1/admin/apps", `{"name":"other"}`)
	d.expect(other, 201)
	otherID := other.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/apps/"+otherID+"/domains", `{"pattern":"other.test"}`), 201)
	d.deploy(otherID, "other-bystander", `export default () => Response.json({ polluted: ({}).polluted ?? null, leak: globalThis.leak ?? null, arr: [].polluted ?? null })`, "*", "/ok")

	limit := wall + grace + 2*time.Second // the worker is killed at wall + grace
	quick := 2 * time.Second
	attacks := []attack{
		{"sync loop", `export default () => { for (;;) {} }`, "GET", "", 504, "limit.time", limit, nil},
		{"microtask loop", `export default async () => { for (;;) await null }`, "GET", "", 504, "limit.time", limit, nil},
		{"timer loop", `export default () => new Promise(() => { const tick = () => setTimeout(tick, 0); tick() })`, "GET", "", 504, "limit.time", limit, nil},
		{"promise never settles", `export default () => new Promise(() => {})`, "GET", "", 504, "limit.time", limit, nil},
		{"non-interruptible sort", `export default () => { const a = new Array(4000000).fill(7); a.sort(); return "sorted" }`, "GET", "", 504, "limit.time", limit,
			&attack{status: 500, code: "limit.memory"}},
		{"single huge allocation", `export default () => "x".repeat(2 ** 40)`, "GET", "", 500, "script.exception", quick, nil},
		{"huge buffer", `export default () => new Response(new ArrayBuffer(2 ** 40))`, "GET", "", 500, "script.exception", quick, nil},
		{"gradual memory growth", `export default () => { const s = "x".repeat(1 << 23); const keep = []; for (;;) keep.push(s + keep.length) }`, "GET", "", 500, "limit.memory", limit, nil},
		{"deep recursion", `function f(n) { return f(n + 1) + 1 }
export default () => f(0)`, "GET", "", 500, "limit.stack", quick, nil},
		{"recursion through native calls", `const f = (x) => [x].map(f)
export default () => f(0)`, "GET", "", 500, "limit.stack", quick, nil},
		{"deeply nested JSON body", `export default async (req) => Response.json(await req.json())`, "POST",
			strings.Repeat(`{"a":[`, 100000) + strings.Repeat("]}", 100000), 500, "script.exception", quick, nil},
		{"deeply nested JSON response", `export default () => { let v = {}; for (let i = 0; i < 100000; i++) v = { a: v }; return v }`, "GET", "",
			500, "script.invalid_response", quick, nil},
		{"deeply nested Response.json", `export default () => { let v = 1; for (let i = 0; i < 100000; i++) v = [v]; return Response.json(v) }`, "GET", "",
			500, "script.exception", quick, nil},
		{"catastrophic regular expression", `export default () => String(/^(a+)+(?=b)$/.test("a".repeat(40) + "c"))`, "GET", "", 0, "", limit, nil},
		{"console flood", `export default () => { for (;;) console.log("spam ".repeat(100)) }`, "GET", "", 500, "limit.console", quick, nil},
		{"timer flood", `export default () => { for (;;) setTimeout(() => {}, 100000) }`, "GET", "", 500, "limit.timers", quick, nil},
		{"subrequest flood", `export default async () => { for (;;) { try { await fetch("http://127.0.0.1:1/") } catch {} } }`, "GET", "", 500, "limit.subrequests", quick, nil},
		{"huge response", `export default () => "x".repeat(9 * 2 ** 20)`, "GET", "", 500, "limit.output", quick, nil},
		{"thrown string", `export default () => { throw "just a string" }`, "GET", "", 500, "script.exception", quick, nil},
		{"thrown null", `export default async () => { throw null }`, "GET", "", 500, "script.exception", quick, nil},
		{"prototype pollution", `Object.prototype.polluted = "yes"; Array.prototype.polluted = "yes"; globalThis.leak = "yes"; JSON.stringify = () => "hijacked"
export default () => "polluted"`, "GET", "", 200, "", quick, nil},
	}

	rssBefore := rss(t, d.cmd.Process.Pid)
	for i, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			d := &daemon{t: t, url: d.url, token: d.token}
			path := fmt.Sprintf("/attack/%d", i)
			id := d.deploy("", fmt.Sprintf("attack-%d", i), a.src, "*", path)

			stop := make(chan struct{})
			var wg sync.WaitGroup
			var mu sync.Mutex
			var ok int
			var slowest time.Duration
			var other []string
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					start := time.Now()
					res, err := http.Get(d.url + "/ok")
					took := time.Since(start)
					mu.Lock()
					switch {
					case err != nil:
						other = append(other, err.Error())
					default:
						var b strings.Builder
						_, _ = fmt.Fprint(&b, readAll(res))
						body := b.String()
						switch {
						case res.StatusCode == 200 && strings.Contains(body, `"ok":true`):
							ok++
							slowest = max(slowest, took)
						default:
							other = append(other, fmt.Sprintf("%d %s", res.StatusCode, body))
						}
					}
					mu.Unlock()
				}
			}()
			answered := func() int {
				mu.Lock()
				defer mu.Unlock()
				return ok
			}
			testkit.Eventually(t, 30*time.Second, "the bystander answers before the attack", func() error {
				if answered() == 0 {
					return fmt.Errorf("no answer yet")
				}
				return nil
			})

			start := time.Now()
			var r reply
			if a.method == "POST" {
				r = d.call("POST", path, a.body)
			} else {
				r = d.call("GET", path, "")
			}
			took := time.Since(start)
			after := answered()
			testkit.Eventually(t, 30*time.Second, "the bystander answers after the attack", func() error {
				if answered() == after {
					return fmt.Errorf("%d answers, none since the attack ended", after)
				}
				return nil
			})
			close(stop)
			wg.Wait()

			if a.or != nil && r.status == a.or.status && strings.Contains(r.body, `"code":"`+a.or.code+`"`) {
				a.status, a.code = a.or.status, a.or.code
			}
			if a.status != 0 && r.status != a.status || a.status == 0 && r.status >= 500 && !strings.Contains(r.body, "limit.time") {
				t.Errorf("status %d, want %d: %.300s", r.status, a.status, r.body)
			}
			if a.code != "" && !strings.Contains(r.body, `"code":"`+a.code+`"`) {
				t.Errorf("answer %.300s lacks the code %s", r.body, a.code)
			}
			if took > a.within {
				t.Errorf("answered after %v, more than %v", took, a.within)
			}
			t.Logf("%d %s in %v; bystander: %d ok (slowest %v)", r.status, a.code, took.Round(time.Millisecond), ok, slowest.Round(time.Millisecond))
			// A bystander on the killed worker is run again on another:
			// not one request fails.
			if ok == 0 || len(other) > 0 {
				t.Errorf("the bystander answered %d times, and failed %d times: %v", ok, len(other), other)
			}
			if slowest > 2*time.Second {
				t.Errorf("the bystander once took %v", slowest)
			}
			// The execution log has the attack, with its code.
			if a.code != "" {
				d.await("the "+a.code+" record in the execution log", "GET", "/api/v1/admin/logs?script_id="+id, "", has(`"error_code":"`+a.code+`"`))
			}
			// Nothing carries into the next execution, in this app or another.
			d.expect(d.call("GET", "/ok", ""), 200, `"polluted":null`, `"leak":null`, `"json":"{\"a\":1}"`)
			d.expect(d.call("GET", "/ok", "", "Host", "other.test"), 200, `"polluted":null`, `"leak":null`, `"arr":null`)
		})
	}
	// The system status counts the workers the attacks cost, and why the
	// last of each slot ended.
	var sys struct {
		Workers []struct {
			PID      int `json:"pid"`
			Restarts int `json:"restarts"`
			LastExit *struct {
				Code string `json:"code"`
			} `json:"last_exit"`
		} `json:"workers"`
	}
	sr := d.call("GET", "/api/v1/admin/system", "")
	d.expect(sr, 200)
	if err := json.Unmarshal([]byte(sr.body), &sys); err != nil {
		t.Fatalf("system status: %v: %.300s", err, sr.body)
	}
	restarts := 0
	for _, w := range sys.Workers {
		restarts += w.Restarts
		if w.Restarts > 0 && (w.LastExit == nil || !strings.HasPrefix(w.LastExit.Code, "limit.")) {
			t.Errorf("worker %+v restarted without a limit code", w)
		}
	}
	if len(sys.Workers) != 2 || restarts < 1 { // the single huge allocation at least ends its worker
		t.Errorf("system status after the attacks: %d workers, %d restarts: %.500s", len(sys.Workers), restarts, sr.body)
	}
	t.Logf("workers replaced during the attacks: %d", restarts)
	rssAfter := rss(t, d.cmd.Process.Pid)
	t.Logf("daemon resident memory: %.1f MiB before the attacks, %.1f MiB after", float64(rssBefore)/(1<<20), float64(rssAfter)/(1<<20))
	if rssAfter-rssBefore > 48<<20 {
		t.Errorf("the daemon grew by %.1f MiB during the attacks", float64(rssAfter-rssBefore)/(1<<20))
	}
}

func readAll(res *http.Response) string {
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// rss is the resident memory of a process, in bytes.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
