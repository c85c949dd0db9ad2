package api_test

import (
	"strings"
	"testing"
)

const hello = `export default { fetch(request, env, ctx) { return new Response("hello " + (ctx.params.name ?? "world")) } }`

var authed = asAlice

func TestAdminScenarios(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.vars["script"] = s.createScript("hello", hello)
	s.vars["route"] = s.bind(s.vars["script"], "GET", "/hello/:name")
	s.vars["other"] = s.createScript("other.ts", `export default (): string => "other"`)

	scenarios := []apiScenario{
		// health and version
		{name: "healthz", method: "GET", url: "/healthz", expectedStatus: 200, expectedContent: []string{"ok"}},
		{name: "version", method: "GET", url: "/version", expectedStatus: 200, expectedContent: []string{`"api":"v1"`, `"public_url":"http://pi.test"`}},
		{name: "type definitions", method: "GET", url: "/api/v1/picloud.d.ts", expectedStatus: 200, expectedContent: []string{"declare function fetch(", "interface ExecutionContext"}},

		// authentication
		{name: "no token", method: "GET", url: "/api/v1/admin/scripts", expectedStatus: 401, expectedContent: []string{"authentication required"}, expectedHeaders: map[string]string{"WWW-Authenticate": `Bearer realm="picloud"`}},
		{name: "bad token", method: "GET", url: "/api/v1/admin/scripts", headers: map[string]string{"Authorization": "Bearer pcs_nope"}, expectedStatus: 401, expectedContent: []string{"log in again"}},
		{name: "basic auth is not a token", method: "GET", url: "/api/v1/admin/scripts", headers: map[string]string{"Authorization": "Basic YWxpY2U6eA=="}, expectedStatus: 401},
		{name: "cookie works", method: "GET", url: "/api/v1/admin/auth/me", headers: map[string]string{"Cookie": "picloud_session=TOKEN"}, expectedStatus: 200, expectedContent: []string{`"username":"alice"`}},
		{name: "login wrong password", method: "POST", url: "/api/v1/admin/auth/login", body: `{"username":"alice","password":"wrong password"}`, expectedStatus: 401, expectedContent: []string{"invalid user name or password"}},
		{name: "login unknown user", method: "POST", url: "/api/v1/admin/auth/login", body: `{"username":"mallory","password":"wrong password"}`, expectedStatus: 401, expectedContent: []string{"invalid user name or password"}},
		{name: "login missing fields", method: "POST", url: "/api/v1/admin/auth/login", body: `{"username":"alice"}`, expectedStatus: 400},
		{name: "login not json", method: "POST", url: "/api/v1/admin/auth/login", body: `username=alice`, expectedStatus: 400, expectedContent: []string{"invalid JSON"}},
		{name: "login unknown field", method: "POST", url: "/api/v1/admin/auth/login", body: `{"user":"alice","password":"x"}`, expectedStatus: 400, expectedContent: []string{"unknown field"}},

		// scripts
		{name: "list scripts", method: "GET", url: "/api/v1/admin/scripts", headers: authed, expectedStatus: 200, expectedContent: []string{`"name":"hello"`, `"name":"other.ts"`}},
		{name: "get script", method: "GET", url: "/api/v1/admin/scripts/{script}", headers: authed, expectedStatus: 200, expectedContent: []string{`"active_version":1`, `"language":"js"`, "export default"}},
		{name: "ts inferred from name", method: "GET", url: "/api/v1/admin/scripts/{other}", headers: authed, expectedStatus: 200, expectedContent: []string{`"language":"ts"`}},
		{name: "get unknown script", method: "GET", url: "/api/v1/admin/scripts/00000000-0000-0000-0000-00000000abcd", headers: authed, expectedStatus: 404},
		{name: "get malformed id", method: "GET", url: "/api/v1/admin/scripts/not-a-uuid", headers: authed, expectedStatus: 404},
		{name: "create syntax error", method: "POST", url: "/api/v1/admin/scripts", headers: authed, body: `{"name":"broken","source":"export default {\n  fetch() { return 1 +; }\n}"}`, expectedStatus: 422, expectedContent: []string{`"line":2`, `"column":`}},
		{name: "create duplicate name", method: "POST", url: "/api/v1/admin/scripts", headers: authed, body: `{"name":"hello","source":"export default () => 1"}`, expectedStatus: 409, expectedContent: []string{"already exists"}},
		{name: "create bad name", method: "POST", url: "/api/v1/admin/scripts", headers: authed, body: `{"name":"../etc","source":"export default () => 1"}`, expectedStatus: 400, expectedContent: []string{"script name"}},
		{name: "create empty source", method: "POST", url: "/api/v1/admin/scripts", headers: authed, body: `{"name":"empty","source":"  "}`, expectedStatus: 400, expectedContent: []string{"source is empty"}},
		{name: "create bad language", method: "POST", url: "/api/v1/admin/scripts", headers: authed, body: `{"name":"x","language":"python","source":"x"}`, expectedStatus: 400, expectedContent: []string{"language"}},
		{name: "create in unknown app", method: "POST", url: "/api/v1/admin/scripts", headers: authed, body: `{"name":"x","app_id":"00000000-0000-0000-0000-00000000abcd","source":"export default () => 1"}`, expectedStatus: 400, expectedContent: []string{"does not exist"}},
		{name: "create source over 1 MiB", method: "POST", url: "/api/v1/admin/scripts", headers: authed, body: `{"name":"big","source":"` + strings.Repeat("/", 1<<20+1) + `"}`, expectedStatus: 400, expectedContent: []string{"the limit is 1048576"}},
		{name: "create body over 4 MiB", method: "POST", url: "/api/v1/admin/scripts", headers: authed, body: `{"name":"big","source":"` + strings.Repeat("/", 5<<20) + `"}`, expectedStatus: 413},
		{name: "update syntax error keeps version", method: "PUT", url: "/api/v1/admin/scripts/{script}", headers: authed, body: `{"source":"export default {"}`, expectedStatus: 422},
		{name: "update language refused", method: "PUT", url: "/api/v1/admin/scripts/{script}", headers: authed, body: `{"source":"export default () => 1","language":"ts"}`, expectedStatus: 400},
		{name: "versions", method: "GET", url: "/api/v1/admin/scripts/{script}/versions", headers: authed, expectedStatus: 200, expectedContent: []string{`"version":1`, `"active":true`}},
		{name: "version 1", method: "GET", url: "/api/v1/admin/scripts/{script}/versions/1", headers: authed, expectedStatus: 200, expectedContent: []string{"export default"}},
		{name: "version 9 missing", method: "GET", url: "/api/v1/admin/scripts/{script}/versions/9", headers: authed, expectedStatus: 404},
		{name: "rollback to missing version", method: "POST", url: "/api/v1/admin/scripts/{script}/rollback", headers: authed, body: `{"version":7}`, expectedStatus: 404},
		{name: "rollback to zero", method: "POST", url: "/api/v1/admin/scripts/{script}/rollback", headers: authed, body: `{"version":0}`, expectedStatus: 400},

		// routes
		{name: "list routes", method: "GET", url: "/api/v1/admin/scripts/{script}/routes", headers: authed, expectedStatus: 200, expectedContent: []string{`"path":"/hello/:name"`}},
		{name: "reserved prefix api", method: "POST", url: "/api/v1/admin/scripts/{script}/routes", headers: authed, body: `{"method":"GET","path":"/api/x"}`, expectedStatus: 400, expectedContent: []string{"reserved"}},
		{name: "reserved healthz", method: "POST", url: "/api/v1/admin/scripts/{script}/routes", headers: authed, body: `{"method":"GET","path":"/healthz"}`, expectedStatus: 400, expectedContent: []string{"reserved"}},
		{name: "reserved admin", method: "POST", url: "/api/v1/admin/scripts/{script}/routes", headers: authed, body: `{"method":"*","path":"/admin/x"}`, expectedStatus: 400},
		{name: "domain syntax in route", method: "POST", url: "/api/v1/admin/scripts/{script}/routes", headers: authed, body: `{"method":"GET","path":"/users/{id}"}`, expectedStatus: 400, expectedContent: []string{":name"}},
		{name: "bad method", method: "POST", url: "/api/v1/admin/scripts/{script}/routes", headers: authed, body: `{"method":"FETCH","path":"/x"}`, expectedStatus: 400},
		{name: "conflict same shape", method: "POST", url: "/api/v1/admin/scripts/{other}/routes", headers: authed, body: `{"method":"GET","path":"/hello/:who"}`, expectedStatus: 409, expectedContent: []string{`"conflicts"`, "{route}"}},
		{name: "route on unknown script", method: "POST", url: "/api/v1/admin/scripts/00000000-0000-0000-0000-00000000abcd/routes", headers: authed, body: `{"method":"GET","path":"/x"}`, expectedStatus: 404},
		{name: "check conflict", method: "POST", url: "/api/v1/admin/routes/check", headers: authed, body: `{"method":"GET","path":"/hello/:x"}`, expectedStatus: 200, expectedContent: []string{`"ok":false`, "{route}"}},
		{name: "check free", method: "POST", url: "/api/v1/admin/routes/check", headers: authed, body: `{"method":"POST","path":"/hello/:x"}`, expectedStatus: 200, expectedContent: []string{`"ok":true`}},
		{name: "check reserved", method: "POST", url: "/api/v1/admin/routes/check", headers: authed, body: `{"method":"GET","path":"/version"}`, expectedStatus: 400},
		{name: "match", method: "GET", url: "/api/v1/admin/routes/match?method=GET&path=/hello/bob", headers: authed, expectedStatus: 200, expectedContent: []string{`"matched":true`, `"name":"bob"`, "{script}"}},
		{name: "match none", method: "GET", url: "/api/v1/admin/routes/match?method=GET&path=/nope", headers: authed, expectedStatus: 200, expectedContent: []string{`"matched":false`}},
		{name: "match without path", method: "GET", url: "/api/v1/admin/routes/match", headers: authed, expectedStatus: 400},
		{name: "delete unknown route", method: "DELETE", url: "/api/v1/admin/routes/00000000-0000-0000-0000-00000000abcd", headers: authed, expectedStatus: 404},

		// logs
		{name: "logs bad limit", method: "GET", url: "/api/v1/admin/logs?limit=0", headers: authed, expectedStatus: 400},
		{name: "logs bad script", method: "GET", url: "/api/v1/admin/logs?script_id=x", headers: authed, expectedStatus: 400},
		{name: "logs", method: "GET", url: "/api/v1/admin/logs?script_id={script}&limit=5", headers: authed, expectedStatus: 200, expectedContent: []string{`"logs":[`}},

		// dispatch
		{name: "user route", method: "GET", url: "/hello/bob", expectedStatus: 200, expectedContent: []string{"hello bob"}, expectedHeaders: map[string]string{"Content-Type": "text/plain;charset=UTF-8"}},
		{name: "user route wrong method", method: "POST", url: "/hello/bob", expectedStatus: 404, expectedContent: []string{`"error":"no route matches POST /hello/bob"`}},
		{name: "no route", method: "GET", url: "/nowhere", expectedStatus: 404, expectedContent: []string{"no route matches"}},
		{name: "execute by id", method: "GET", url: "/api/v1/execute/{script}", headers: authed, expectedStatus: 200, expectedContent: []string{"hello world"}},
		{name: "execute ts by id", method: "POST", url: "/api/v1/execute/{other}/sub/path", headers: authed, expectedStatus: 200, expectedContent: []string{"other"}},
		{name: "execute unknown", method: "GET", url: "/api/v1/execute/00000000-0000-0000-0000-00000000abcd", headers: authed, expectedStatus: 404},
		{name: "execute on an admin host needs a credential", method: "GET", url: "/api/v1/execute/{script}", expectedStatus: 401, expectedHeaders: map[string]string{"WWW-Authenticate": `Bearer realm="picloud"`}},
		{name: "execute unknown without a credential", method: "GET", url: "/api/v1/execute/00000000-0000-0000-0000-00000000abcd", expectedStatus: 401},
		{name: "execute on a host of the app", method: "GET", url: "/api/v1/execute/{script}", headers: map[string]string{"Host": "pi.example.net"}, expectedStatus: 200, expectedContent: []string{"hello world"}},
		{name: "unknown admin endpoint", method: "GET", url: "/api/v1/admin/nope", headers: authed, expectedStatus: 404},
		{name: "unknown api path", method: "GET", url: "/api/v2/x", expectedStatus: 404},
		{name: "dashboard", method: "GET", url: "/admin/", expectedStatus: 200, expectedContent: []string{"<title>PiCloud</title>"}, expectedHeaders: map[string]string{"Cache-Control": "no-cache"}},
		{name: "dashboard deep link", method: "GET", url: "/admin/apps/x", expectedStatus: 200, expectedContent: []string{"<title>PiCloud</title>"}},
		{name: "request id echoed", method: "GET", url: "/healthz", headers: map[string]string{"X-Request-Id": "abc-123"}, expectedStatus: 200, expectedHeaders: map[string]string{"X-Request-Id": "abc-123"}},
	}
	for i := range scenarios {
		sc := &scenarios[i]
		// {route} and {script} in the content expected are the ids.
		for j, want := range sc.expectedContent {
			sc.expectedContent[j] = strings.NewReplacer("{route}", s.vars["route"], "{script}", s.vars["script"]).Replace(want)
		}
		sc.after = func(t *testing.T, s *stack, res response) {
			if res.status >= 400 && !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") && sc.url != "/healthz" {
				t.Errorf("error without JSON content type: %q", res.header.Get("Content-Type"))
			}
		}
	}
	s.runScenarios(t, scenarios)
}
