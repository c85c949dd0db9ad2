package api_test

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
)

func TestScriptLifecycle(t *testing.T) {
	s := newStack(t, stackOptions{})
	id := s.createScript("greet", `export default { fetch() { return "v1" } }`)
	s.bind(id, "*", "/greet")
	expect := func(want string) {
		t.Helper()
		if res := s.do("GET", "/greet", nil, ""); res.status != 200 || res.body != want {
			t.Fatalf("GET /greet = %d %q, want 200 %q", res.status, res.body, want)
		}
	}
	expect("v1")
	if res := s.admin("PUT", "/api/v1/admin/scripts/"+id, `{"source":"export default { fetch() { return \"v2\" } }"}`); res.status != 200 {
		t.Fatalf("update: %d %s", res.status, res.body)
	}
	expect("v2")
	if res := s.admin("PUT", "/api/v1/admin/scripts/"+id, `{"source":"export default { fetch() { return \"v3\" "}`); res.status != 422 {
		t.Fatalf("broken update: %d %s", res.status, res.body)
	}
	expect("v2") // the active version keeps serving
	res := s.admin("POST", "/api/v1/admin/scripts/"+id+"/rollback", `{"version":1}`)
	if res.status != 200 || res.json()["active_version"].(float64) != 1 || res.json()["latest_version"].(float64) != 2 {
		t.Fatalf("rollback: %d %s", res.status, res.body)
	}
	expect("v1")
	if res := s.admin("PUT", "/api/v1/admin/scripts/"+id, `{"name":"greeter","source":"export default () => \"v3\""}`); res.status != 200 || !strings.Contains(res.body, `"name":"greeter"`) || !strings.Contains(res.body, `"active_version":3`) {
		t.Fatalf("rename: %d %s", res.status, res.body)
	}
	expect("v3")
	if res := s.admin("DELETE", "/api/v1/admin/scripts/"+id, nil); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	if res := s.do("GET", "/greet", nil, ""); res.status != 404 {
		t.Fatalf("after delete: %d %s", res.status, res.body)
	}
}

func TestRouteDeleteIsLive(t *testing.T) {
	s := newStack(t, stackOptions{})
	id := s.createScript("a", `export default () => "a"`)
	rid := s.bind(id, "GET", "/a/*rest")
	if res := s.do("GET", "/a/b/c", nil, ""); res.status != 200 {
		t.Fatalf("GET: %d", res.status)
	}
	if res := s.admin("DELETE", "/api/v1/admin/routes/"+rid, nil); res.status != 204 {
		t.Fatalf("delete route: %d %s", res.status, res.body)
	}
	if res := s.do("GET", "/a/b/c", nil, ""); res.status != 404 {
		t.Fatalf("after delete: %d", res.status)
	}
}

func TestExecutionErrors(t *testing.T) {
	s := newStack(t, stackOptions{maxBody: 1024, limits: model.ScriptLimits{WallTimeMS: 300}})
	throwing := s.createScript("throws", "export default {\n  fetch() {\n    throw new Error(\"boom\")\n  }\n}")
	loop := s.createScript("loop", `export default () => { while (true) {} }`)
	echo := s.createScript("echo", `export default { async fetch(req) { return new Response(await req.text()) } }`)

	res := s.do("GET", "/api/v1/execute/"+throwing, authed, "")
	if res.status != 500 {
		t.Fatalf("throwing script: %d %s", res.status, res.body)
	}
	m := res.json()
	if m["code"] != "script.exception" || !strings.Contains(m["error"].(string), "boom") || m["script"] != "throws" || m["line"].(float64) != 3 {
		t.Errorf("throwing script error = %v, want script.exception naming the script and line 3", m)
	}

	res = s.do("GET", "/api/v1/execute/"+loop, authed, "")
	if res.status != 504 || res.json()["code"] != "limit.time" {
		t.Errorf("endless loop: %d %s, want 504 limit.time", res.status, res.body)
	}

	res = s.do("POST", "/api/v1/execute/"+echo, map[string]string{"Content-Type": "text/plain", "Authorization": "Bearer TOKEN"}, strings.Repeat("x", 1000))
	if res.status != 200 || len(res.body) != 1000 {
		t.Errorf("echo under the cap: %d (%d bytes)", res.status, len(res.body))
	}
	res = s.do("POST", "/api/v1/execute/"+echo, map[string]string{"Content-Type": "text/plain", "Authorization": "Bearer TOKEN"}, strings.Repeat("x", 2000))
	if res.status != 413 {
		t.Errorf("oversized body: %d %s, want 413", res.status, res.body)
	}
}

func TestConcurrencyCap(t *testing.T) {
	s := newStack(t, stackOptions{maxConcurrent: 2})
	slow := s.createScript("slow", `export default async () => { await new Promise(r => setTimeout(r, 300)); return "done" }`)
	fast := s.createScript("fast", `export default () => "fast"`)
	// Two clients keep both slots busy while a third probes with a fast script.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/execute/"+slow, nil)
				req.Header.Set("Authorization", "Bearer "+s.token)
				if res, err := http.DefaultClient.Do(req); err == nil {
					res.Body.Close()
				}
			}
		}()
	}
	var res response
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if res = s.do("GET", "/api/v1/execute/"+fast, authed, ""); res.status == 503 {
			break
		}
	}
	close(stop)
	wg.Wait()
	if res.status != 503 || res.header.Get("Retry-After") != "1" || !strings.Contains(res.body, "retry") {
		t.Fatalf("past the cap: %d Retry-After=%q %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	if res := s.do("GET", "/api/v1/execute/"+fast, authed, ""); res.status != 200 {
		t.Fatalf("after the load: %d", res.status)
	}
}

func TestLoginRateLimitAndLogout(t *testing.T) {
	s := newStack(t, stackOptions{})
	var last response
	for i := 0; i < 10; i++ {
		last = s.do("POST", "/api/v1/admin/auth/login", nil, `{"username":"alice","password":"not the password"}`)
		if last.status == 429 {
			break
		}
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" {
		t.Fatalf("repeated failures: %d %s, want 429 with Retry-After", last.status, last.body)
	}
	if res := s.admin("POST", "/api/v1/admin/auth/logout", nil); res.status != 204 {
		t.Fatalf("logout: %d %s", res.status, res.body)
	}
	if res := s.admin("GET", "/api/v1/admin/scripts", nil); res.status != 401 {
		t.Fatalf("token after logout: %d, want 401", res.status)
	}
}

func TestLoginSetsStrictCookie(t *testing.T) {
	s := newStack(t, stackOptions{})
	res := s.do("POST", "/api/v1/admin/auth/login", nil, `{"username":"alice","password":"correct horse battery"}`)
	c := res.header.Get("Set-Cookie")
	for _, want := range []string{"picloud_session=", "HttpOnly", "SameSite=Strict", "Path=/api/v1/admin;"} {
		if !strings.Contains(c, want) {
			t.Errorf("Set-Cookie %q lacks %q", c, want)
		}
	}
}

func TestExecutionsAreLoggedAndStreamed(t *testing.T) {
	s := newStack(t, stackOptions{})
	id := s.createScript("logs", `export default (req) => { console.log("seen", {n: 1}); return "ok" }`)

	req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/admin/logs/stream?script_id="+id, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if ct := stream.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream content type %q", ct)
	}
	lines := bufio.NewScanner(stream.Body)
	lines.Scan() // ": connected"

	if res := s.do("GET", "/api/v1/execute/"+id, authed, ""); res.status != 200 {
		t.Fatalf("execute: %d", res.status)
	}
	got := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), "data: ") {
				got <- lines.Text()
				return
			}
		}
	}()
	select {
	case ev := <-got:
		if !strings.Contains(ev, `seen {\"n\":1}`) || !strings.Contains(ev, `"status":200`) {
			t.Errorf("stream event %s lacks the console line or status", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event on the stream")
	}

	// The record reaches the database with the next flush.
	deadline := time.Now().Add(5 * time.Second)
	for {
		res := s.admin("GET", "/api/v1/admin/logs?script_id="+id, nil)
		if strings.Contains(res.body, `"request_id"`) {
			if !strings.Contains(res.body, `seen {\"n\":1}`) {
				t.Errorf("logged record lacks console output: %s", res.body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no execution record: %s", res.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A script's own limits apply to its next execution, within the ceilings.
func TestScriptLimits(t *testing.T) {
	s := newStack(t, stackOptions{limits: model.ScriptLimits{WallTimeMS: 2000, ResponseBytes: 8 << 20, ConsoleBytes: 1 << 16,
		CallDepth: 512, Timers: 1000, Subrequests: 50}})
	id := s.createScript("deep", `function f(n) { return n === 0 ? 0 : f(n - 1) + 1 }
export default (req) => String(f(Number(new URL(req.url).searchParams.get("n"))))`)
	call := func(n int) (int, string) {
		res := s.do("GET", "/api/v1/execute/"+id+"?n="+strconv.Itoa(n), authed, "")
		return res.status, res.body
	}
	if st, body := call(1000); st != 500 || !strings.Contains(body, `"code":"limit.stack"`) {
		t.Fatalf("1000 calls under the default depth of 512: %d %s", st, body)
	}
	res := s.admin("PUT", "/api/v1/admin/scripts/"+id+"/limits", `{"call_depth":2000,"wall_time_ms":500}`)
	if res.status != 200 || res.json()["effective"].(map[string]any)["call_depth"].(float64) != 2000 {
		t.Fatalf("set limits: %d %s", res.status, res.body)
	}
	if st, body := call(1000); st != 200 || body != "1000" {
		t.Errorf("1000 calls under its own depth of 2000: %d %s", st, body)
	}
	got := s.admin("GET", "/api/v1/admin/scripts/"+id+"/limits", "").json()
	if got["limits"].(map[string]any)["wall_time_ms"].(float64) != 500 || got["defaults"].(map[string]any)["wall_time_ms"].(float64) != 2000 ||
		got["ceilings"].(map[string]any)["call_depth"].(float64) != 2048 || got["effective"].(map[string]any)["timers"].(float64) != 1000 {
		t.Errorf("limits view: %v", got)
	}
	// Over a ceiling, negative, unknown: refused, and the limits stay.
	for _, body := range []string{`{"call_depth":5000}`, `{"wall_time_ms":60000}`, `{"timers":-1}`, `{"wall_time":5}`} {
		if res := s.admin("PUT", "/api/v1/admin/scripts/"+id+"/limits", body); res.status != 400 {
			t.Errorf("%s: %d %s", body, res.status, res.body)
		}
	}
	if res := s.admin("PUT", "/api/v1/admin/scripts/"+id+"/limits", `{"call_depth":5000}`); !strings.Contains(res.body, "PICLOUD_SANDBOX_MAX_CALL_DEPTH") {
		t.Errorf("the refusal does not name the ceiling: %s", res.body)
	}
	if st, _ := call(1000); st != 200 {
		t.Errorf("a refused change altered the limits: %d", st)
	}
	// Back to the defaults.
	s.admin("PUT", "/api/v1/admin/scripts/"+id+"/limits", `{}`)
	if st, _ := call(1000); st != 500 {
		t.Errorf("after clearing, 1000 calls answered %d", st)
	}
}
