package api_test

import (
	"bufio"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/testkit"
)

func TestScriptLifecycle(t *testing.T) {
	s := newStack(t, stackOptions{})
	serves := func(want string) apiScenario {
		return apiScenario{name: "serves " + want, method: "GET", url: "/greet", expectedStatus: 200, expectedBody: body(want)}
	}
	s.runScenarios(t, []apiScenario{
		{name: "create", method: "POST", url: "/api/v1/admin/scripts", headers: asAlice,
			body: map[string]string{"name": "greet", "source": `export default { fetch() { return "v1" } }`}, expectedStatus: 201,
			after: save("id", "id")},
		{name: "bind", method: "POST", url: "/api/v1/admin/scripts/{id}/routes", headers: asAlice,
			body: `{"method":"*","path":"/greet"}`, expectedStatus: 201},
		serves("v1"),
		{name: "update", method: "PUT", url: "/api/v1/admin/scripts/{id}", headers: asAlice,
			body: `{"source":"export default { fetch() { return \"v2\" } }"}`, expectedStatus: 200},
		serves("v2"),
		{name: "broken update", method: "PUT", url: "/api/v1/admin/scripts/{id}", headers: asAlice,
			body: `{"source":"export default { fetch() { return \"v3\" "}`, expectedStatus: 422},
		serves("v2"), // the active version keeps serving
		{name: "rollback", method: "POST", url: "/api/v1/admin/scripts/{id}/rollback", headers: asAlice, body: `{"version":1}`,
			expectedStatus: 200, expectedJSON: map[string]any{"active_version": 1, "latest_version": 2}},
		serves("v1"),
		{name: "rename", method: "PUT", url: "/api/v1/admin/scripts/{id}", headers: asAlice,
			body:           `{"name":"greeter","source":"export default () => \"v3\""}`,
			expectedStatus: 200, expectedContent: []string{`"name":"greeter"`, `"active_version":3`}},
		serves("v3"),
		{name: "delete", method: "DELETE", url: "/api/v1/admin/scripts/{id}", headers: asAlice, expectedStatus: 204},
		{name: "gone after delete", method: "GET", url: "/greet", expectedStatus: 404},
	})
}

// TestSaveFromAStaleBase has two people edit the same script: the save of
// the one who started from an older version is refused with 409 and saves
// nothing, until it names the newer version as its base.
func TestSaveFromAStaleBase(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.vars["id"] = s.createScript("greet", `export default () => "v1"`)
	s.runScenarios(t, []apiScenario{
		{name: "save from the latest", method: "PUT", url: "/api/v1/admin/scripts/{id}", headers: asAlice,
			body:           `{"source":"export default () => \"v2\"","base_version":1}`,
			expectedStatus: 200, expectedJSON: map[string]any{"active_version": 2, "latest_version": 2}},
		{name: "save from a stale base", method: "PUT", url: "/api/v1/admin/scripts/{id}", headers: asAlice,
			body:           `{"source":"export default () => \"lost\"","base_version":1}`,
			expectedStatus: 409, expectedJSON: map[string]any{"base_version": 1, "latest_version": 2},
			expectedContent: []string{"version 2 was saved after version 1"}},
		{name: "nothing saved", method: "GET", url: "/api/v1/admin/scripts/{id}", headers: asAlice,
			expectedStatus: 200, expectedJSON: map[string]any{"latest_version": 2, "source": `export default () => "v2"`}},
		{name: "overwrite knowingly", method: "PUT", url: "/api/v1/admin/scripts/{id}", headers: asAlice,
			body:           `{"source":"export default () => \"v3\"","base_version":2}`,
			expectedStatus: 200, expectedJSON: map[string]any{"latest_version": 3}},
		{name: "without a base", method: "PUT", url: "/api/v1/admin/scripts/{id}", headers: asAlice,
			body:           `{"source":"export default () => \"v4\""}`,
			expectedStatus: 200, expectedJSON: map[string]any{"latest_version": 4}},
		{name: "a base that is no version", method: "PUT", url: "/api/v1/admin/scripts/{id}", headers: asAlice,
			body:           `{"source":"export default () => \"v5\"","base_version":0}`,
			expectedStatus: 400, expectedContent: []string{"base_version must be"}},
		{name: "a base from the future", method: "PUT", url: "/api/v1/admin/scripts/{id}", headers: asAlice,
			body:           `{"source":"export default () => \"v5\"","base_version":9}`,
			expectedStatus: 409, expectedJSON: map[string]any{"base_version": 9, "latest_version": 4}},
		{name: "unknown script", method: "PUT", url: "/api/v1/admin/scripts/00000000-0000-0000-0000-00000000abcd", headers: asAlice,
			body:           `{"source":"export default () => 1","base_version":1}`,
			expectedStatus: 404},
	})
}

func TestRouteDeleteIsLive(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.runScenarios(t, []apiScenario{
		{name: "bound", method: "GET", url: "/a/b/c", expectedStatus: 200,
			before: func(t *testing.T, s *stack) {
				s.vars["route"] = s.bind(s.createScript("a", `export default () => "a"`), "GET", "/a/*rest")
			}},
		{name: "delete the route", method: "DELETE", url: "/api/v1/admin/routes/{route}", headers: asAlice, expectedStatus: 204},
		{name: "gone after delete", method: "GET", url: "/a/b/c", expectedStatus: 404},
	})
}

func TestExecutionErrors(t *testing.T) {
	s := newStack(t, stackOptions{maxBody: 1024, limits: model.ScriptLimits{WallTimeMS: 300}})
	s.vars["throws"] = s.createScript("throws", "export default {\n  fetch() {\n    throw new Error(\"boom\")\n  }\n}")
	s.vars["loop"] = s.createScript("loop", `export default () => { while (true) {} }`)
	s.vars["echo"] = s.createScript("echo", `export default { async fetch(req) { return new Response(await req.text()) } }`)
	text := map[string]string{"Content-Type": "text/plain", "Authorization": "Bearer TOKEN"}
	s.runScenarios(t, []apiScenario{
		{name: "throwing script names the script and line", method: "GET", url: "/api/v1/execute/{throws}", headers: asAlice,
			expectedStatus: 500, expectedContent: []string{"boom"},
			expectedJSON: map[string]any{"code": "script.exception", "script": "throws", "line": 3}},
		{name: "endless loop", method: "GET", url: "/api/v1/execute/{loop}", headers: asAlice,
			expectedStatus: 504, expectedJSON: map[string]any{"code": "limit.time"}},
		{name: "echo under the cap", method: "POST", url: "/api/v1/execute/{echo}", headers: text, body: strings.Repeat("x", 1000),
			expectedStatus: 200, expectedBody: body(strings.Repeat("x", 1000))},
		{name: "oversized body", method: "POST", url: "/api/v1/execute/{echo}", headers: text, body: strings.Repeat("x", 2000),
			expectedStatus: 413},
	})
}

func TestConcurrencyCap(t *testing.T) {
	s := newStack(t, stackOptions{maxConcurrent: 2})
	s.vars["fast"] = s.createScript("fast", `export default () => "fast"`)
	slow := s.createScript("slow", `export default async () => { await new Promise(r => setTimeout(r, 300)); return "done" }`)
	// Two clients keep both slots busy while the scenario probes with a
	// fast script.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	load := func(*testing.T, *stack) {
		for range 2 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, _ = s.send("GET", "/api/v1/execute/"+slow, asAlice, "")
				}
			})
		}
	}
	unload := func(*testing.T, *stack, response) {
		close(stop)
		wg.Wait()
	}
	t.Cleanup(func() {
		select {
		case <-stop:
		default:
			unload(nil, nil, response{})
		}
	})
	s.runScenarios(t, []apiScenario{
		{name: "past the cap", method: "GET", url: "/api/v1/execute/{fast}", headers: asAlice, eventually: 10 * time.Second,
			expectedStatus: 503, expectedHeaders: map[string]string{"Retry-After": "1"}, expectedContent: []string{"retry"},
			before: load, after: unload},
		{name: "after the load", method: "GET", url: "/api/v1/execute/{fast}", headers: asAlice, expectedStatus: 200},
	})
}

func TestLoginRateLimitAndLogout(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.runScenarios(t, []apiScenario{
		{name: "repeated failures", method: "POST", url: "/api/v1/admin/auth/login", body: `{"username":"alice","password":"not the password"}`,
			tries: 10, expectedStatus: 429, expectedHeaders: map[string]string{"Retry-After": ""}},
		{name: "logout", method: "POST", url: "/api/v1/admin/auth/logout", headers: asAlice, expectedStatus: 204},
		{name: "token after logout", method: "GET", url: "/api/v1/admin/scripts", headers: asAlice, expectedStatus: 401},
	})
}

func TestLoginSetsStrictCookie(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.runScenarios(t, []apiScenario{
		{name: "login", method: "POST", url: "/api/v1/admin/auth/login", body: `{"username":"alice","password":"correct horse battery"}`,
			expectedStatus: 200, after: func(t *testing.T, s *stack, res response) {
				c := res.header.Get("Set-Cookie")
				for _, want := range []string{"picloud_session=", "HttpOnly", "SameSite=Strict", "Path=/api/v1/admin;"} {
					if !strings.Contains(c, want) {
						t.Errorf("Set-Cookie %q lacks %q", c, want)
					}
				}
			}},
	})
}

func TestExecutionsAreLoggedAndStreamed(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.vars["id"] = s.createScript("logs", `export default (req) => { console.log("seen", {n: 1}); return "ok" }`)
	events := make(chan string, 16)
	subscribe := func(t *testing.T, s *stack) {
		req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/admin/logs/stream?script_id="+s.vars["id"], nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		stream, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stream.Body.Close() })
		if ct := stream.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("stream content type %q", ct)
		}
		lines := bufio.NewScanner(stream.Body)
		lines.Scan() // ": connected"
		go func() {
			for lines.Scan() {
				if strings.HasPrefix(lines.Text(), "data: ") {
					events <- lines.Text()
				}
			}
		}()
	}
	s.runScenarios(t, []apiScenario{
		{name: "execute while streaming", method: "GET", url: "/api/v1/execute/{id}", headers: asAlice, expectedStatus: 200,
			before: subscribe,
			after: func(t *testing.T, s *stack, res response) {
				ev := testkit.Receive(t, 5*time.Second, "an event on the stream", events)
				if !strings.Contains(ev, `seen {\"n\":1}`) || !strings.Contains(ev, `"status":200`) {
					t.Errorf("stream event %s lacks the console line or status", ev)
				}
			}},
		// The record reaches the database with the next flush.
		{name: "recorded", method: "GET", url: "/api/v1/admin/logs?script_id={id}", headers: asAlice, eventually: 5 * time.Second,
			expectedStatus: 200, expectedContent: []string{`"request_id"`, `seen {\"n\":1}`}},
	})
}

// A script's own limits apply to its next execution, within the ceilings.
func TestScriptLimits(t *testing.T) {
	s := newStack(t, stackOptions{limits: model.ScriptLimits{WallTimeMS: 2000, ResponseBytes: 8 << 20, ConsoleBytes: 1 << 16,
		CallDepth: 512, Timers: 1000, Subrequests: 50}})
	s.vars["id"] = s.createScript("deep", `function f(n) { return n === 0 ? 0 : f(n - 1) + 1 }
export default (req) => String(f(Number(new URL(req.url).searchParams.get("n"))))`)
	deep := func(name string, status int, content ...string) apiScenario {
		return apiScenario{name: name, method: "GET", url: "/api/v1/execute/{id}?n=1000", headers: asAlice,
			expectedStatus: status, expectedContent: content}
	}
	setLimits := func(name, body string, status int) apiScenario {
		return apiScenario{name: name, method: "PUT", url: "/api/v1/admin/scripts/{id}/limits", headers: asAlice, body: body, expectedStatus: status}
	}
	refused := func(body string) apiScenario { return setLimits("refused "+body, body, 400) }

	ownLimits := setLimits("set limits", `{"call_depth":2000,"wall_time_ms":500}`, 200)
	ownLimits.expectedJSON = map[string]any{"effective.call_depth": 2000}
	namesCeiling := refused(`{"call_depth":5000}`)
	namesCeiling.name = "the refusal names the ceiling"
	namesCeiling.expectedContent = []string{"PICLOUD_SANDBOX_MAX_CALL_DEPTH"}
	s.runScenarios(t, []apiScenario{
		deep("1000 calls under the default depth of 512", 500, `"code":"limit.stack"`),
		ownLimits,
		{name: "1000 calls under its own depth of 2000", method: "GET", url: "/api/v1/execute/{id}?n=1000", headers: asAlice,
			expectedStatus: 200, expectedBody: body("1000")},
		{name: "limits view", method: "GET", url: "/api/v1/admin/scripts/{id}/limits", headers: asAlice, expectedStatus: 200,
			expectedJSON: map[string]any{"limits.wall_time_ms": 500, "defaults.wall_time_ms": 2000, "ceilings.call_depth": 2048, "effective.timers": 1000}},
		// Over a ceiling, negative, unknown: refused, and the limits stay.
		refused(`{"call_depth":5000}`),
		refused(`{"wall_time_ms":60000}`),
		refused(`{"timers":-1}`),
		refused(`{"wall_time":5}`),
		namesCeiling,
		deep("a refused change altered nothing", 200),
		setLimits("back to the defaults", `{}`, 200),
		deep("after clearing", 500),
	})
}
