package api_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink that handlers may write from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestVariables(t *testing.T) {
	s := newStack(t, stackOptions{})
	base := "/api/v1/admin/apps/00000000-0000-0000-0000-000000000001/variables"
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"GREETING", `{"value":"hello"}`, 201},
		{"GREETING", `{"value":"hi"}`, 200}, // replaced
		{"_under_score9", `{"value":""}`, 201},
		{"API_KEY", `{"value":"k","secret":true}`, 201},
		{"9LIVES", `{"value":"x"}`, 400},
		{"WITH-DASH", `{"value":"x"}`, 400},
		{strings.Repeat("A", 65), `{"value":"x"}`, 400},
		{"NOVALUE", `{"secret":true}`, 400},
		{"NUMBER", `{"value":7}`, 400},
		{"BIG", `{"value":"` + strings.Repeat("x", 8<<10+1) + `"}`, 400},
		{"JUST_FITS", `{"value":"` + strings.Repeat("x", 8<<10) + `"}`, 201},
	} {
		if res := s.admin("PUT", base+"/"+tc.name, tc.body); res.status != tc.want {
			t.Errorf("PUT %s %.40s: %d %s, want %d", tc.name, tc.body, res.status, res.body, tc.want)
		}
	}
	res := s.admin("GET", base, nil)
	if res.status != 200 || !strings.Contains(res.body, `{"name":"GREETING","secret":false,"value":"hi"`) ||
		!strings.Contains(res.body, `{"name":"API_KEY","secret":true,"updated_at"`) || !strings.Contains(res.body, `"name":"_under_score9","secret":false,"value":""`) {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	if res := s.admin("GET", base+"/GREETING", nil); res.status != 200 || res.json()["value"] != "hi" {
		t.Fatalf("get: %d %s", res.status, res.body)
	}
	for _, path := range []string{base + "/NOPE", base + "/not-a-name", "/api/v1/admin/apps/00000000-0000-0000-0000-00000000abcd/variables"} {
		if res := s.admin("GET", path, nil); res.status != 404 {
			t.Errorf("GET %s: %d, want 404", path, res.status)
		}
	}
	if res := s.admin("DELETE", base+"/GREETING", nil); res.status != 204 {
		t.Fatalf("delete: %d", res.status)
	}
	if res := s.admin("DELETE", base+"/GREETING", nil); res.status != 404 {
		t.Fatalf("delete twice: %d", res.status)
	}
	// At most 100 variables per app; replacing one at the cap is fine.
	for i := range 97 { // three are there
		if res := s.admin("PUT", fmt.Sprintf("%s/V%d", base, i), `{"value":"x"}`); res.status != 201 {
			t.Fatalf("variable %d: %d %s", i, res.status, res.body)
		}
	}
	if res := s.admin("PUT", base+"/ONE_TOO_MANY", `{"value":"x"}`); res.status != 400 || !strings.Contains(res.body, "at most 100") {
		t.Fatalf("101st variable: %d %s", res.status, res.body)
	}
	if res := s.admin("PUT", base+"/V3", `{"value":"y"}`); res.status != 200 {
		t.Fatalf("replace at the cap: %d %s", res.status, res.body)
	}
}

// TestSecretsStaySecret sets a secret and looks for its value everywhere it
// must not be: API answers, the audit log, the execution log, the daemon's
// log and the database row, which holds it sealed.
func TestSecretsStaySecret(t *testing.T) {
	logs := &syncBuffer{}
	s := newStack(t, stackOptions{logs: logs})
	const secret = "s3cr3t-Value-42"
	app := s.admin("POST", "/api/v1/admin/apps", `{"name":"vault"}`).json()["id"].(string)
	vars := "/api/v1/admin/apps/" + app + "/variables/"
	put := s.admin("PUT", vars+"TOKEN", `{"value":"`+secret+`","secret":true}`)
	if put.status != 201 {
		t.Fatalf("set: %d %s", put.status, put.body)
	}
	// A script that uses it, prints it and throws it.
	src := `export default (req, env) => {
  console.log("the token is " + env.TOKEN)
  if (new URL(req.url).searchParams.has("throw")) throw new Error("bad " + env.TOKEN)
  return env.TOKEN === "` + secret + `" ? "ok" : "wrong"
}`
	res := s.admin("POST", "/api/v1/admin/scripts", map[string]string{"app_id": app, "name": "uses", "source": src})
	if res.status != 201 {
		t.Fatal(res.body)
	}
	script := res.json()["id"].(string)
	if res := s.do("GET", "/api/v1/execute/"+script, authed, ""); res.status != 200 || res.body != "ok" {
		t.Fatalf("the script does not get the secret: %d %s", res.status, res.body)
	}
	failed := s.do("GET", "/api/v1/execute/"+script+"?throw", authed, "")
	if failed.status != 500 || !strings.Contains(failed.body, "bad [secret]") {
		t.Fatalf("throwing script: %d %s", failed.status, failed.body)
	}
	var execLog string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if execLog = s.admin("GET", "/api/v1/admin/logs?script_id="+script, nil).body; strings.Count(execLog, `"request_id"`) == 2 {
			break
		}
	}
	if !strings.Contains(execLog, "the token is [secret]") {
		t.Errorf("execution log without the redacted console line: %s", execLog)
	}
	outputs := map[string]string{
		"PUT answer":       put.body,
		"list":             s.admin("GET", strings.TrimSuffix(vars, "/"), nil).body,
		"get":              s.admin("GET", vars+"TOKEN", nil).body,
		"replace answer":   s.admin("PUT", vars+"TOKEN", `{"value":"`+secret+`","secret":true}`).body,
		"audit log":        s.admin("GET", "/api/v1/admin/audit", nil).body,
		"execution log":    execLog,
		"error answer":     failed.body,
		"the daemon's log": logs.String(),
	}
	for where, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("the secret is in the %s: %s", where, out)
		}
	}
	if !strings.Contains(outputs["audit log"], `"action":"variable.set"`) || !strings.Contains(outputs["the daemon's log"], "variable set") {
		t.Errorf("the setting itself was not recorded")
	}

	// In the database: sealed, bound to its app and name.
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
}

// TestEnvIsolatedByApp gives two apps a variable of the same name with
// different values and routes the same path in both: each request gets the
// value of the app its Host resolves to, and env holds nothing of the
// other app. A change reaches the next request.
func TestEnvIsolatedByApp(t *testing.T) {
	s := newStack(t, stackOptions{})
	host := map[string]string{}
	for _, name := range []string{"alpha", "beta"} {
		id := s.admin("POST", "/api/v1/admin/apps", `{"name":"`+name+`"}`).json()["id"].(string)
		host[name] = name + ".example.net"
		for _, req := range []struct{ method, path, body string }{
			{"POST", "/api/v1/admin/apps/" + id + "/domains", `{"pattern":"` + host[name] + `"}`},
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
	get := func(name string) string {
		t.Helper()
		res := s.do("GET", "/env", map[string]string{"Host": host[name]}, "")
		if res.status != 200 {
			t.Fatalf("GET /env on %s: %d %s", host[name], res.status, res.body)
		}
		return res.body
	}
	if got := get("alpha"); got != `{"greeting":"hello from alpha","names":["GREETING","ONLY_ALPHA"]}` {
		t.Errorf("alpha sees %s", got)
	}
	if got := get("beta"); got != `{"greeting":"hello from beta","names":["GREETING","ONLY_BETA"]}` {
		t.Errorf("beta sees %s", got)
	}
	// The default app has no variables at all.
	s.bind(s.createScript("env", `export default (req, env) => String(Object.keys(env).length)`), "GET", "/env")
	if res := s.do("GET", "/env", map[string]string{"Host": "pi.local"}, ""); res.body != "0" {
		t.Errorf("the default app sees %s variables", res.body)
	}

	apps := s.admin("GET", "/api/v1/admin/apps", nil).json()["apps"].([]any)
	var beta string
	for _, a := range apps {
		if a.(map[string]any)["name"] == "beta" {
			beta = a.(map[string]any)["id"].(string)
		}
	}
	_ = s.admin("PUT", "/api/v1/admin/apps/"+beta+"/variables/GREETING", `{"value":"changed"}`)
	if got := get("beta"); !strings.Contains(got, `"greeting":"changed"`) {
		t.Errorf("after a change beta sees %s", got)
	}
	_ = s.admin("DELETE", "/api/v1/admin/apps/"+beta+"/variables/GREETING", nil)
	if got := get("beta"); got != `{"names":["ONLY_BETA"]}` {
		t.Errorf("after a delete beta sees %s", got)
	}
	if got := get("alpha"); !strings.Contains(got, "hello from alpha") {
		t.Errorf("alpha changed with beta: %s", got)
	}
}
