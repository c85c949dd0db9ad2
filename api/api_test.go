package api_test

import (
	"strings"
	"testing"
)

const hello = `export default { fetch(request, env, ctx) { return new Response("hello " + (ctx.params.name ?? "world")) } }`

// scenario is one request and what must come back. In path and body,
// {script}, {route} and {other} are replaced by the ids made in setup.
type scenario struct {
	name       string
	method     string
	path       string
	header     map[string]string
	body       string
	wantStatus int
	wantBody   []string // substrings of the body
	wantHeader map[string]string
}

var authed = map[string]string{"Authorization": "Bearer TOKEN"}

func TestAdminScenarios(t *testing.T) {
	s := newStack(t, stackOptions{})
	script := s.createScript("hello", hello)
	route := s.bind(script, "GET", "/hello/:name")
	other := s.createScript("other.ts", `export default (): string => "other"`)
	replace := strings.NewReplacer("{script}", script, "{route}", route, "{other}", other)

	scenarios := []scenario{
		// health and version
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantBody: []string{"ok"}},
		{name: "version", method: "GET", path: "/version", wantStatus: 200, wantBody: []string{`"api":"v1"`, `"public_url":"http://pi.test"`}},
		{name: "type definitions", method: "GET", path: "/api/v1/picloud.d.ts", wantStatus: 200, wantBody: []string{"declare function fetch(", "interface ExecutionContext"}},

		// authentication
		{name: "no token", method: "GET", path: "/api/v1/admin/scripts", wantStatus: 401, wantBody: []string{"authentication required"}, wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="picloud"`}},
		{name: "bad token", method: "GET", path: "/api/v1/admin/scripts", header: map[string]string{"Authorization": "Bearer pcs_nope"}, wantStatus: 401, wantBody: []string{"log in again"}},
		{name: "basic auth is not a token", method: "GET", path: "/api/v1/admin/scripts", header: map[string]string{"Authorization": "Basic YWxpY2U6eA=="}, wantStatus: 401},
		{name: "cookie works", method: "GET", path: "/api/v1/admin/auth/me", header: map[string]string{"Cookie": "picloud_session=TOKEN"}, wantStatus: 200, wantBody: []string{`"username":"alice"`}},
		{name: "login wrong password", method: "POST", path: "/api/v1/admin/auth/login", body: `{"username":"alice","password":"wrong password"}`, wantStatus: 401, wantBody: []string{"invalid user name or password"}},
		{name: "login unknown user", method: "POST", path: "/api/v1/admin/auth/login", body: `{"username":"mallory","password":"wrong password"}`, wantStatus: 401, wantBody: []string{"invalid user name or password"}},
		{name: "login missing fields", method: "POST", path: "/api/v1/admin/auth/login", body: `{"username":"alice"}`, wantStatus: 400},
		{name: "login not json", method: "POST", path: "/api/v1/admin/auth/login", body: `username=alice`, wantStatus: 400, wantBody: []string{"invalid JSON"}},
		{name: "login unknown field", method: "POST", path: "/api/v1/admin/auth/login", body: `{"user":"alice","password":"x"}`, wantStatus: 400, wantBody: []string{"unknown field"}},

		// scripts
		{name: "list scripts", method: "GET", path: "/api/v1/admin/scripts", header: authed, wantStatus: 200, wantBody: []string{`"name":"hello"`, `"name":"other.ts"`}},
		{name: "get script", method: "GET", path: "/api/v1/admin/scripts/{script}", header: authed, wantStatus: 200, wantBody: []string{`"active_version":1`, `"language":"js"`, "export default"}},
		{name: "ts inferred from name", method: "GET", path: "/api/v1/admin/scripts/{other}", header: authed, wantStatus: 200, wantBody: []string{`"language":"ts"`}},
		{name: "get unknown script", method: "GET", path: "/api/v1/admin/scripts/00000000-0000-0000-0000-00000000abcd", header: authed, wantStatus: 404},
		{name: "get malformed id", method: "GET", path: "/api/v1/admin/scripts/not-a-uuid", header: authed, wantStatus: 404},
		{name: "create syntax error", method: "POST", path: "/api/v1/admin/scripts", header: authed, body: `{"name":"broken","source":"export default {\n  fetch() { return 1 +; }\n}"}`, wantStatus: 422, wantBody: []string{`"line":2`, `"column":`}},
		{name: "create duplicate name", method: "POST", path: "/api/v1/admin/scripts", header: authed, body: `{"name":"hello","source":"export default () => 1"}`, wantStatus: 409, wantBody: []string{"already exists"}},
		{name: "create bad name", method: "POST", path: "/api/v1/admin/scripts", header: authed, body: `{"name":"../etc","source":"export default () => 1"}`, wantStatus: 400, wantBody: []string{"script name"}},
		{name: "create empty source", method: "POST", path: "/api/v1/admin/scripts", header: authed, body: `{"name":"empty","source":"  "}`, wantStatus: 400, wantBody: []string{"source is empty"}},
		{name: "create bad language", method: "POST", path: "/api/v1/admin/scripts", header: authed, body: `{"name":"x","language":"python","source":"x"}`, wantStatus: 400, wantBody: []string{"language"}},
		{name: "create in unknown app", method: "POST", path: "/api/v1/admin/scripts", header: authed, body: `{"name":"x","app_id":"00000000-0000-0000-0000-00000000abcd","source":"export default () => 1"}`, wantStatus: 400, wantBody: []string{"does not exist"}},
		{name: "create source over 1 MiB", method: "POST", path: "/api/v1/admin/scripts", header: authed, body: `{"name":"big","source":"` + strings.Repeat("/", 1<<20+1) + `"}`, wantStatus: 400, wantBody: []string{"the limit is 1048576"}},
		{name: "create body over 4 MiB", method: "POST", path: "/api/v1/admin/scripts", header: authed, body: `{"name":"big","source":"` + strings.Repeat("/", 5<<20) + `"}`, wantStatus: 413},
		{name: "update syntax error keeps version", method: "PUT", path: "/api/v1/admin/scripts/{script}", header: authed, body: `{"source":"export default {"}`, wantStatus: 422},
		{name: "update language refused", method: "PUT", path: "/api/v1/admin/scripts/{script}", header: authed, body: `{"source":"export default () => 1","language":"ts"}`, wantStatus: 400},
		{name: "versions", method: "GET", path: "/api/v1/admin/scripts/{script}/versions", header: authed, wantStatus: 200, wantBody: []string{`"version":1`, `"active":true`}},
		{name: "version 1", method: "GET", path: "/api/v1/admin/scripts/{script}/versions/1", header: authed, wantStatus: 200, wantBody: []string{"export default"}},
		{name: "version 9 missing", method: "GET", path: "/api/v1/admin/scripts/{script}/versions/9", header: authed, wantStatus: 404},
		{name: "rollback to missing version", method: "POST", path: "/api/v1/admin/scripts/{script}/rollback", header: authed, body: `{"version":7}`, wantStatus: 404},
		{name: "rollback to zero", method: "POST", path: "/api/v1/admin/scripts/{script}/rollback", header: authed, body: `{"version":0}`, wantStatus: 400},

		// routes
		{name: "list routes", method: "GET", path: "/api/v1/admin/scripts/{script}/routes", header: authed, wantStatus: 200, wantBody: []string{`"path":"/hello/:name"`}},
		{name: "reserved prefix api", method: "POST", path: "/api/v1/admin/scripts/{script}/routes", header: authed, body: `{"method":"GET","path":"/api/x"}`, wantStatus: 400, wantBody: []string{"reserved"}},
		{name: "reserved healthz", method: "POST", path: "/api/v1/admin/scripts/{script}/routes", header: authed, body: `{"method":"GET","path":"/healthz"}`, wantStatus: 400, wantBody: []string{"reserved"}},
		{name: "reserved admin", method: "POST", path: "/api/v1/admin/scripts/{script}/routes", header: authed, body: `{"method":"*","path":"/admin/x"}`, wantStatus: 400},
		{name: "domain syntax in route", method: "POST", path: "/api/v1/admin/scripts/{script}/routes", header: authed, body: `{"method":"GET","path":"/users/{id}"}`, wantStatus: 400, wantBody: []string{":name"}},
		{name: "bad method", method: "POST", path: "/api/v1/admin/scripts/{script}/routes", header: authed, body: `{"method":"FETCH","path":"/x"}`, wantStatus: 400},
		{name: "conflict same shape", method: "POST", path: "/api/v1/admin/scripts/{other}/routes", header: authed, body: `{"method":"GET","path":"/hello/:who"}`, wantStatus: 409, wantBody: []string{`"conflicts"`, "{route}"}},
		{name: "route on unknown script", method: "POST", path: "/api/v1/admin/scripts/00000000-0000-0000-0000-00000000abcd/routes", header: authed, body: `{"method":"GET","path":"/x"}`, wantStatus: 404},
		{name: "check conflict", method: "POST", path: "/api/v1/admin/routes/check", header: authed, body: `{"method":"GET","path":"/hello/:x"}`, wantStatus: 200, wantBody: []string{`"ok":false`, "{route}"}},
		{name: "check free", method: "POST", path: "/api/v1/admin/routes/check", header: authed, body: `{"method":"POST","path":"/hello/:x"}`, wantStatus: 200, wantBody: []string{`"ok":true`}},
		{name: "check reserved", method: "POST", path: "/api/v1/admin/routes/check", header: authed, body: `{"method":"GET","path":"/version"}`, wantStatus: 400},
		{name: "match", method: "GET", path: "/api/v1/admin/routes/match?method=GET&path=/hello/bob", header: authed, wantStatus: 200, wantBody: []string{`"matched":true`, `"name":"bob"`, "{script}"}},
		{name: "match none", method: "GET", path: "/api/v1/admin/routes/match?method=GET&path=/nope", header: authed, wantStatus: 200, wantBody: []string{`"matched":false`}},
		{name: "match without path", method: "GET", path: "/api/v1/admin/routes/match", header: authed, wantStatus: 400},
		{name: "delete unknown route", method: "DELETE", path: "/api/v1/admin/routes/00000000-0000-0000-0000-00000000abcd", header: authed, wantStatus: 404},

		// logs
		{name: "logs bad limit", method: "GET", path: "/api/v1/admin/logs?limit=0", header: authed, wantStatus: 400},
		{name: "logs bad script", method: "GET", path: "/api/v1/admin/logs?script_id=x", header: authed, wantStatus: 400},
		{name: "logs", method: "GET", path: "/api/v1/admin/logs?script_id={script}&limit=5", header: authed, wantStatus: 200, wantBody: []string{`"logs":[`}},

		// dispatch
		{name: "user route", method: "GET", path: "/hello/bob", wantStatus: 200, wantBody: []string{"hello bob"}, wantHeader: map[string]string{"Content-Type": "text/plain;charset=UTF-8"}},
		{name: "user route wrong method", method: "POST", path: "/hello/bob", wantStatus: 404, wantBody: []string{`"error":"no route matches POST /hello/bob"`}},
		{name: "no route", method: "GET", path: "/nowhere", wantStatus: 404, wantBody: []string{"no route matches"}},
		{name: "execute by id", method: "GET", path: "/api/v1/execute/{script}", header: authed, wantStatus: 200, wantBody: []string{"hello world"}},
		{name: "execute ts by id", method: "POST", path: "/api/v1/execute/{other}/sub/path", header: authed, wantStatus: 200, wantBody: []string{"other"}},
		{name: "execute unknown", method: "GET", path: "/api/v1/execute/00000000-0000-0000-0000-00000000abcd", header: authed, wantStatus: 404},
		{name: "execute on an admin host needs a credential", method: "GET", path: "/api/v1/execute/{script}", wantStatus: 401, wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="picloud"`}},
		{name: "execute unknown without a credential", method: "GET", path: "/api/v1/execute/00000000-0000-0000-0000-00000000abcd", wantStatus: 401},
		{name: "execute on a host of the app", method: "GET", path: "/api/v1/execute/{script}", header: map[string]string{"Host": "pi.example.net"}, wantStatus: 200, wantBody: []string{"hello world"}},
		{name: "unknown admin endpoint", method: "GET", path: "/api/v1/admin/nope", header: authed, wantStatus: 404},
		{name: "unknown api path", method: "GET", path: "/api/v2/x", wantStatus: 404},
		{name: "dashboard reserved", method: "GET", path: "/admin/", wantStatus: 404},
		{name: "request id echoed", method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "abc-123"}, wantStatus: 200, wantHeader: map[string]string{"X-Request-Id": "abc-123"}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			s.t = t
			res := s.do(sc.method, replace.Replace(sc.path), sc.header, replace.Replace(sc.body))
			if res.status != sc.wantStatus {
				t.Fatalf("%s %s: status %d, want %d; body %s", sc.method, sc.path, res.status, sc.wantStatus, res.body)
			}
			for _, want := range sc.wantBody {
				if want = replace.Replace(want); !strings.Contains(res.body, want) {
					t.Errorf("body %s does not contain %q", res.body, want)
				}
			}
			for k, want := range sc.wantHeader {
				if got := res.header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if res.status >= 400 && !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") && sc.path != "/healthz" {
				t.Errorf("error without JSON content type: %q", res.header.Get("Content-Type"))
			}
		})
	}
}
