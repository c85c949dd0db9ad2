package api_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

func TestVariables(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.vars["base"] = "/api/v1/admin/apps/00000000-0000-0000-0000-000000000001/variables"
	put := func(name, varName, body string, status int) apiScenario {
		return apiScenario{name: name, method: "PUT", url: "{base}/" + varName, headers: asAlice, body: body, expectedStatus: status}
	}
	get := func(url string, status int) apiScenario {
		return apiScenario{name: "GET " + url, method: "GET", url: url, headers: asAlice, expectedStatus: status}
	}
	greeting := get("{base}/GREETING", 200)
	greeting.expectedJSON = map[string]any{"value": "hi"}
	list := get("{base}", 200)
	list.expectedContent = []string{`{"name":"GREETING","secret":false,"value":"hi"`, `{"name":"API_KEY","secret":true,"updated_at"`,
		`"name":"_under_score9","secret":false,"value":""`}
	tooMany := put("101st variable", "ONE_TOO_MANY", `{"value":"x"}`, 400)
	tooMany.expectedContent = []string{"at most 100"}
	tooMany.before = func(t *testing.T, s *stack) {
		for i := range 97 { // three are there
			if res := s.admin("PUT", fmt.Sprintf("%s/V%d", s.vars["base"], i), `{"value":"x"}`); res.status != 201 {
				t.Fatalf("variable %d: %d %s", i, res.status, res.body)
			}
		}
	}
	s.runScenarios(t, []apiScenario{
		put("set", "GREETING", `{"value":"hello"}`, 201),
		put("replace", "GREETING", `{"value":"hi"}`, 200),
		put("empty value", "_under_score9", `{"value":""}`, 201),
		put("secret", "API_KEY", `{"value":"k","secret":true}`, 201),
		put("name starting with a digit", "9LIVES", `{"value":"x"}`, 400),
		put("name with a dash", "WITH-DASH", `{"value":"x"}`, 400),
		put("name too long", strings.Repeat("A", 65), `{"value":"x"}`, 400),
		put("no value", "NOVALUE", `{"secret":true}`, 400),
		put("not a string", "NUMBER", `{"value":7}`, 400),
		put("value too long", "BIG", `{"value":"`+strings.Repeat("x", 8<<10+1)+`"}`, 400),
		put("value that just fits", "JUST_FITS", `{"value":"`+strings.Repeat("x", 8<<10)+`"}`, 201),
		list,
		greeting,
		get("{base}/NOPE", 404),
		get("{base}/not-a-name", 404),
		get("/api/v1/admin/apps/00000000-0000-0000-0000-00000000abcd/variables", 404),
		{name: "delete", method: "DELETE", url: "{base}/GREETING", headers: asAlice, expectedStatus: 204},
		{name: "delete twice", method: "DELETE", url: "{base}/GREETING", headers: asAlice, expectedStatus: 404},
		// At most 100 variables per app; replacing one at the cap is fine.
		tooMany,
		put("replace at the cap", "V3", `{"value":"y"}`, 200),
	})
}

// TestSecretsStaySecret sets a secret and looks for its value everywhere it
// must not be: API answers, the audit log, the execution log, the daemon's
// log and the database row, which holds it sealed.
func TestSecretsStaySecret(t *testing.T) {
	logs := &testkit.Buffer{}
	s := newStack(t, stackOptions{logs: logs})
	const secret = "s3cr3t-Value-42"
	// A script that uses it, prints it and throws it.
	src := `export default (req, env) => {
  console.log("the token is " + env.TOKEN)
  if (new URL(req.url).searchParams.has("throw")) throw new Error("bad " + env.TOKEN)
  return env.TOKEN === "` + secret + `" ? "ok" : "wrong"
}`
	setSecret := `{"value":"` + secret + `","secret":true}`
	hidden := []string{secret}
	s.runScenarios(t, []apiScenario{
		{name: "app", method: "POST", url: "/api/v1/admin/apps", headers: asAlice, body: `{"name":"vault"}`, expectedStatus: 201,
			after: save("app", "id")},
		{name: "set", method: "PUT", url: "/api/v1/admin/apps/{app}/variables/TOKEN", headers: asAlice, body: setSecret,
			expectedStatus: 201, notExpectedContent: hidden},
		{name: "script", method: "POST", url: "/api/v1/admin/scripts", headers: asAlice,
			body: map[string]string{"app_id": "{app}", "name": "uses", "source": src}, expectedStatus: 201, after: save("script", "id")},
		{name: "the script gets the secret", method: "GET", url: "/api/v1/execute/{script}", headers: asAlice,
			expectedStatus: 200, expectedBody: body("ok")},
		{name: "error answer", method: "GET", url: "/api/v1/execute/{script}?throw", headers: asAlice,
			expectedStatus: 500, expectedContent: []string{"bad [secret]"}, notExpectedContent: hidden},
		{name: "execution log", method: "GET", url: "/api/v1/admin/logs?script_id={script}", headers: asAlice, eventually: 5 * time.Second,
			expectedStatus: 200, notExpectedContent: hidden,
			// Both executions' records, each with the redacted console line.
			expectedContent: []string{"the token is [secret]", `"status":200`, `"status":500`},
			after: func(t *testing.T, s *stack, res response) {
				if n := strings.Count(res.body, `"request_id"`); n != 2 {
					t.Errorf("%d execution records, want 2: %s", n, res.body)
				}
			}},
		{name: "list", method: "GET", url: "/api/v1/admin/apps/{app}/variables", headers: asAlice,
			expectedStatus: 200, notExpectedContent: hidden},
		{name: "get", method: "GET", url: "/api/v1/admin/apps/{app}/variables/TOKEN", headers: asAlice,
			expectedStatus: 200, notExpectedContent: hidden},
		{name: "replace answer", method: "PUT", url: "/api/v1/admin/apps/{app}/variables/TOKEN", headers: asAlice, body: setSecret,
			expectedStatus: 200, notExpectedContent: hidden},
		{name: "audit log", method: "GET", url: "/api/v1/admin/audit", headers: asAlice,
			expectedStatus: 200, expectedContent: []string{`"action":"variable.set"`}, notExpectedContent: hidden,
			after: func(t *testing.T, s *stack, res response) {
				if out := logs.String(); strings.Contains(out, secret) || !strings.Contains(out, "variable set") {
					t.Errorf("the daemon's log has the secret, or not the setting: %s", out)
				}
				// In the database: sealed, bound to its app and name.
				app := s.vars["app"]
				var value *string
				var sealed []byte
				if err := s.store.Pool().QueryRow(context.Background(), `SELECT value, sealed FROM app_variables WHERE app_id = $1 AND name = 'TOKEN'`, app).Scan(&value, &sealed); err != nil {
					t.Fatal(err)
				}
				if value != nil || len(sealed) == 0 || bytes.Contains(sealed, []byte(secret)) {
					t.Fatalf("row: value %v, sealed %q", value, sealed)
				}
				if got, err := s.box.Open(app, "TOKEN", sealed); err != nil || got != secret {
					t.Fatalf("the row does not open to the secret: %q %v", got, err)
				}
				if _, err := s.box.Open("00000000-0000-0000-0000-000000000001", "TOKEN", sealed); err == nil {
					t.Fatal("the sealed value opens for another app")
				}
			}},
	})
}

// TestEnvIsolatedByApp gives two apps a variable of the same name with
// different values and routes the same path in both: each request gets the
// value of the app its Host resolves to, and env holds nothing of the
// other app. A change reaches the next request.
func TestEnvIsolatedByApp(t *testing.T) {
	s := newStack(t, stackOptions{})
	for _, name := range []string{"alpha", "beta"} {
		id := s.admin("POST", "/api/v1/admin/apps", `{"name":"`+name+`"}`).json()["id"].(string)
		s.vars[name] = id
		for _, req := range []struct{ method, path, body string }{
			{"POST", "/api/v1/admin/apps/" + id + "/domains", `{"pattern":"` + name + `.example.net"}`},
			{"PUT", "/api/v1/admin/apps/" + id + "/variables/GREETING", `{"value":"hello from ` + name + `"}`},
			{"PUT", "/api/v1/admin/apps/" + id + "/variables/ONLY_" + strings.ToUpper(name), `{"value":"k","secret":true}`},
		} {
			if res := s.admin(req.method, req.path, req.body); res.status != 201 {
				t.Fatalf("%s %s: %d %s", req.method, req.path, res.status, res.body)
			}
		}
		src := `export default (req, env) => ({ greeting: env.GREETING, names: Object.keys(env) })`
		res := s.admin("POST", "/api/v1/admin/scripts", map[string]string{"app_id": id, "name": "env", "source": src})
		s.bind(res.json()["id"].(string), "GET", "/env")
	}
	env := func(name, app string, content ...string) apiScenario {
		return apiScenario{name: name, method: "GET", url: "/env", headers: map[string]string{"Host": app + ".example.net"},
			expectedStatus: 200, expectedContent: content}
	}
	exactly := func(sc apiScenario, want string) apiScenario {
		sc.expectedBody = body(want)
		return sc
	}
	s.runScenarios(t, []apiScenario{
		exactly(env("alpha sees its own", "alpha"), `{"greeting":"hello from alpha","names":["GREETING","ONLY_ALPHA"]}`),
		exactly(env("beta sees its own", "beta"), `{"greeting":"hello from beta","names":["GREETING","ONLY_BETA"]}`),
		// The default app has no variables at all.
		{name: "the default app sees none", method: "GET", url: "/env", headers: map[string]string{"Host": "pi.local"},
			expectedStatus: 200, expectedBody: body("0"),
			before: func(t *testing.T, s *stack) {
				s.bind(s.createScript("env", `export default (req, env) => String(Object.keys(env).length)`), "GET", "/env")
			}},
		{name: "change beta", method: "PUT", url: "/api/v1/admin/apps/{beta}/variables/GREETING", headers: asAlice,
			body: `{"value":"changed"}`, expectedStatus: 200},
		env("after a change", "beta", `"greeting":"changed"`),
		{name: "delete beta's", method: "DELETE", url: "/api/v1/admin/apps/{beta}/variables/GREETING", headers: asAlice, expectedStatus: 204},
		exactly(env("after a delete", "beta"), `{"names":["ONLY_BETA"]}`),
		env("alpha unchanged", "alpha", "hello from alpha"),
	})
}
