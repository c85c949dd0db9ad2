package api_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// TestAppIsolation gives app A's editor (and an API token of theirs scoped
// to A, as a script of A might hold in a secret) every way to read app B's
// things, logs among them, and finds none; and checks that pages of A's
// domain reach nothing of the admin API.
func TestAppIsolation(t *testing.T) {
	s := newStack(t, stackOptions{})
	type app struct{ id, host, script, doc, index string }
	apps := map[string]*app{}
	for _, name := range []string{"a", "b"} {
		a := &app{host: name + ".example.org"}
		a.id = s.admin("POST", "/api/v1/admin/apps", `{"name":"`+name+`"}`).json()["id"].(string)
		_ = s.admin("POST", "/api/v1/admin/apps/"+a.id+"/domains", `{"pattern":"`+a.host+`"}`)
		_ = s.admin("PUT", "/api/v1/admin/apps/"+a.id+"/variables/NAME", `{"value":"`+name+`"}`)
		_ = s.admin("PUT", "/api/v1/admin/apps/"+a.id+"/kv/c/keys/k", `{"type":"text","value":"`+name+`"}`)
		a.doc = s.admin("POST", "/api/v1/admin/apps/"+a.id+"/docs/c/documents", `{"doc":{"name":"`+name+`"}}`).json()["id"].(string)
		a.index = s.admin("POST", "/api/v1/admin/apps/"+a.id+"/docs/c/indexes", `{"paths":["name"]}`).json()["name"].(string)
		res := s.admin("POST", "/api/v1/admin/scripts", map[string]string{"app_id": a.id, "name": "hello",
			"source": `export default (req, env) => { console.log("in " + env.NAME); return env.NAME }`})
		a.script = res.json()["id"].(string)
		s.bind(a.script, "GET", "/hello")
		apps[name] = a
	}
	a, b := apps["a"], apps["b"]
	ed := s.newUser("ed", "ed's password", "member")
	_ = s.admin("POST", "/api/v1/admin/users/"+ed+"/roles", `{"app_id":"`+a.id+`","role":"editor"}`)
	session := s.login("ed", "ed's password")
	res := s.as(session, "POST", "/api/v1/admin/tokens", `{"name":"script of a","apps":["`+a.id+`"],"capabilities":["app.write"]}`)
	if res.status != 201 {
		t.Fatal(res.body)
	}
	credentials := map[string]string{"ed's session": session, "a's token": res.json()["token"].(string)}

	// Both apps run and log.
	for _, x := range apps {
		if res := s.do("GET", "/hello", map[string]string{"Host": x.host}, ""); res.body != strings.TrimSuffix(x.host, ".example.org") {
			t.Fatalf("GET /hello on %s: %d %s", x.host, res.status, res.body)
		}
	}
	testkit.Eventually(t, 5*time.Second, "b's execution is logged", func() error {
		if res := s.admin("GET", "/api/v1/admin/logs?app_id="+b.id, nil); !strings.Contains(res.body, b.script) {
			return fmt.Errorf("%d %s", res.status, res.body)
		}
		return nil
	})

	// Everything of B, and of the default app, is not found.
	other := []string{
		"/api/v1/admin/apps/" + b.id,
		"/api/v1/admin/apps/" + b.id + "/domains",
		"/api/v1/admin/apps/" + b.id + "/variables",
		"/api/v1/admin/apps/" + b.id + "/variables/NAME",
		"/api/v1/admin/apps/" + b.id + "/kv",
		"/api/v1/admin/apps/" + b.id + "/kv/c/keys",
		"/api/v1/admin/apps/" + b.id + "/kv/c/keys/k",
		"/api/v1/admin/apps/" + b.id + "/kv/c/keys/..%2F" + a.id + "%2Fkv",
		"/api/v1/admin/apps/" + b.id + "/docs",
		"/api/v1/admin/apps/" + b.id + "/docs/c/documents",
		"/api/v1/admin/apps/" + b.id + "/docs/c/documents/" + b.doc,
		"/api/v1/admin/apps/" + b.id + "/docs/c/indexes",
		"/api/v1/admin/apps/" + a.id + "/docs/c/documents/" + b.doc,
		"/api/v1/admin/scripts?app_id=" + b.id,
		"/api/v1/admin/scripts/" + b.script,
		"/api/v1/admin/scripts/" + b.script + "/versions",
		"/api/v1/admin/scripts/" + b.script + "/routes",
		"/api/v1/admin/logs?app_id=" + b.id,
		"/api/v1/admin/logs?script_id=" + b.script,
		"/api/v1/admin/logs/stream?app_id=" + b.id,
		"/api/v1/admin/logs/stream?script_id=" + b.script,
		"/api/v1/admin/logs",
		"/api/v1/admin/routes/match?host=" + b.host + "&path=/hello",
	}
	for who, cred := range credentials {
		for _, path := range other {
			res := streamStatus(s, cred, path)
			if res.status != 404 {
				t.Errorf("%s: GET %s = %d %s, want 404", who, path, res.status, res.body)
			}
		}
		for _, req := range []struct{ method, path, body string }{
			{"PUT", "/api/v1/admin/apps/" + b.id + "/variables/NAME", `{"value":"mine"}`},
			{"DELETE", "/api/v1/admin/apps/" + b.id + "/variables/NAME", ""},
			{"PUT", "/api/v1/admin/apps/" + b.id + "/kv/c/keys/k", `{"type":"text","value":"mine"}`},
			{"DELETE", "/api/v1/admin/apps/" + b.id + "/kv/c/keys/k", ""},
			{"POST", "/api/v1/admin/apps/" + b.id + "/docs/c/documents", `{"doc":{"name":"mine"}}`},
			{"PUT", "/api/v1/admin/apps/" + b.id + "/docs/c/documents/" + b.doc, `{"doc":{"name":"mine"}}`},
			{"PUT", "/api/v1/admin/apps/" + a.id + "/docs/c/documents/" + b.doc, `{"doc":{"name":"mine"}}`},
			{"DELETE", "/api/v1/admin/apps/" + b.id + "/docs/c/documents/" + b.doc, ""},
			{"DELETE", "/api/v1/admin/apps/" + a.id + "/docs/c/documents/" + b.doc, ""},
			{"POST", "/api/v1/admin/apps/" + b.id + "/docs/c/indexes", `{"paths":["x"]}`},
			{"DELETE", "/api/v1/admin/apps/" + b.id + "/docs/c/indexes/" + b.index, ""},
			{"DELETE", "/api/v1/admin/apps/" + a.id + "/docs/c/indexes/" + b.index, ""},
			{"PUT", "/api/v1/admin/scripts/" + b.script, `{"source":"export default () => 'taken'"}`},
			{"DELETE", "/api/v1/admin/scripts/" + b.script, ""},
			{"POST", "/api/v1/admin/scripts", `{"app_id":"` + b.id + `","name":"x","source":"export default () => 1"}`},
			{"POST", "/api/v1/admin/apps/" + b.id + "/domains", `{"pattern":"c.example.org"}`},
			{"POST", "/api/v1/admin/routes/check", `{"app_id":"` + b.id + `","method":"GET","path":"/x"}`},
		} {
			if res := s.as(cred, req.method, req.path, req.body); res.status != 404 {
				t.Errorf("%s: %s %s = %d %s, want 404", who, req.method, req.path, res.status, res.body)
			}
		}
		if res := s.as(cred, "GET", "/api/v1/admin/apps", ""); strings.Contains(res.body, b.id) || !strings.Contains(res.body, a.id) {
			t.Errorf("%s lists apps: %s", who, res.body)
		}
		if res := s.as(cred, "GET", "/api/v1/admin/audit", ""); res.status != 403 {
			t.Errorf("%s reads the audit log: %d", who, res.status)
		}
		// The log of all apps is the log of A for them.
		testkit.Eventually(t, 5*time.Second, who+": a's execution in the log of all apps", func() error {
			res := s.as(cred, "GET", "/api/v1/admin/logs/all", "")
			if res.status != 200 || strings.Contains(res.body, b.id) || strings.Contains(res.body, b.script) {
				t.Fatalf("%s: the log of all apps: %d %s", who, res.status, res.body)
			}
			if !strings.Contains(res.body, a.script) {
				return fmt.Errorf("%s", res.body)
			}
			return nil
		})
	}
	if res := s.admin("GET", "/api/v1/admin/logs/all", nil); !strings.Contains(res.body, a.script) || !strings.Contains(res.body, b.script) {
		t.Errorf("the owner's log of all apps lacks a's or b's executions: %s", res.body)
	}
	if res := s.admin("GET", "/api/v1/admin/logs/all?script_id="+a.script, nil); res.status != 400 {
		t.Errorf("the log of all apps took a script_id: %d", res.status)
	}
	if got := s.do("GET", "/hello", map[string]string{"Host": b.host}, "").body; got != "b" {
		t.Fatalf("b changed: %s", got)
	}
	if res := s.admin("GET", "/api/v1/admin/apps/"+b.id+"/kv/c/keys/k", nil); res.status != 200 || !strings.Contains(res.body, `"value":"b"`) {
		t.Fatalf("b's key changed: %d %s", res.status, res.body)
	}
	if res := s.admin("GET", "/api/v1/admin/apps/"+b.id+"/docs", nil); res.status != 200 ||
		!strings.Contains(res.body, `"documents":1,`) || !strings.Contains(res.body, `"paths":["name"]`) || strings.Contains(res.body, `"paths":["x"]`) {
		t.Fatalf("b's documents or indexes changed: %d %s", res.status, res.body)
	}
	if res := s.admin("GET", "/api/v1/admin/apps/"+b.id+"/docs/c/documents/"+b.doc, nil); !strings.Contains(res.body, `"name":"b"`) {
		t.Fatalf("b's document changed: %d %s", res.status, res.body)
	}

	// A's log stream, and A's token's stream of all apps, carry A's
	// executions only.
	for _, path := range []string{"/api/v1/admin/logs/stream?app_id=" + a.id, "/api/v1/admin/logs/all/stream"} {
		req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+credentials["a's token"])
		stream, err := http.DefaultClient.Do(req)
		if err != nil || stream.StatusCode != 200 {
			t.Fatalf("a's stream %s: %v %v", path, err, stream)
		}
		lines := bufio.NewScanner(stream.Body)
		if !lines.Scan() || lines.Text() != ": connected" { // the stream is subscribed before it says so
			t.Fatalf("a's stream %s did not start with \": connected\": %q %v", path, lines.Text(), lines.Err())
		}
		events := make(chan string, 4)
		go func() {
			for lines.Scan() {
				if strings.HasPrefix(lines.Text(), "data: ") {
					events <- lines.Text()
				}
			}
		}()
		_ = s.do("GET", "/hello", map[string]string{"Host": b.host}, "")
		_ = s.do("GET", "/hello", map[string]string{"Host": a.host}, "")
		if ev := testkit.Receive(t, 5*time.Second, "an event on "+path, events); !strings.Contains(ev, a.script) ||
			strings.Contains(ev, b.script) || !strings.Contains(ev, "in a") {
			t.Errorf("first event on %s: %s", path, ev)
		}
		stream.Body.Close()
	}

	// Pages of A's domain (where A's scripts serve) reach no admin endpoint,
	// whatever credentials they carry; routes cannot be bound under /api/.
	for _, path := range []string{"/api/v1/admin/logs?app_id=" + a.id, "/api/v1/admin/audit", "/api/v1/admin/apps"} {
		res := s.do("GET", path, map[string]string{"Host": a.host, "Authorization": "Bearer " + credentials["a's token"]}, "")
		if res.status != 421 {
			t.Errorf("GET %s on a's host: %d, want 421", path, res.status)
		}
	}
	res = s.as(session, "POST", "/api/v1/admin/scripts/"+a.script+"/routes", `{"method":"GET","path":"/api/v1/admin/audit"}`)
	if res.status != 400 {
		t.Errorf("route under /api/: %d %s", res.status, res.body)
	}
}
