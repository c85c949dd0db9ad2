package api_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
)

// kvApps makes apps a and b, each with keys in collection "c" (b's hold
// "b's secret"), and keeps their ids in vars a and b and the paths of
// their collection c in vars ca and cb.
func kvApps(t *testing.T, s *stack) (a, b string) {
	t.Helper()
	a = s.admin("POST", "/api/v1/admin/apps", `{"name":"a"}`).json()["id"].(string)
	b = s.admin("POST", "/api/v1/admin/apps", `{"name":"b"}`).json()["id"].(string)
	put := func(app, collection, key, typ, value string) {
		t.Helper()
		if _, err := s.store.PutKV(context.Background(), model.KVPut{AppID: app, Collection: collection, Key: key,
			Type: typ, Value: []byte(value)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"k1", "k2", "k3", "a/b", "x y", "ünï", "100%", "q?#"} {
		put(a, "c", k, "text", "value of "+k)
	}
	put(a, "c", "doc", "json", `{"n": 1, "tags": ["x"]}`)
	put(a, "other", "one", "text", "1")
	// Expired keys, not yet purged, are not there for the API either.
	past := time.Now().Add(-time.Minute)
	for _, c := range []string{"c", "expired"} {
		if _, err := s.store.PutKV(context.Background(), model.KVPut{AppID: a, Collection: c, Key: "k-expired",
			Type: "text", Value: []byte("gone"), ExpiresAt: &past}); err != nil {
			t.Fatal(err)
		}
	}
	put(b, "c", "k1", "text", "b's secret")
	put(b, "c", "only-b", "text", "b's secret")
	s.vars["a"], s.vars["b"] = a, b
	s.vars["ca"] = "/api/v1/admin/apps/" + a + "/kv/c"
	s.vars["cb"] = "/api/v1/admin/apps/" + b + "/kv/c"
	return a, b
}

func TestKVAdminRead(t *testing.T) {
	s := newStack(t, stackOptions{})
	kvApps(t, s)
	get := func(name, url string, status int) apiScenario {
		return apiScenario{name: name, method: "GET", url: url, headers: asAlice, expectedStatus: status}
	}
	collections := get("collections", "/api/v1/admin/apps/{a}/kv", 200)
	collections.expectedContent = []string{`{"name":"c","keys":9,"bytes":146}`, `{"name":"other","keys":1,"bytes":4}`}
	collections.notExpectedContent = []string{`"expired"`}
	all := get("every key", "{ca}/keys", 200)
	all.expectedJSON = map[string]any{"complete": true}
	all.expectedContent = []string{`{"keys":[{"key":"100%","type":"text","size":13,"version":`, `{"key":"ünï","type":"text","size":14,`}
	all.notExpectedContent = []string{"value of", `"cursor"`, "only-b", "b's secret", "k-expired"}
	page1 := get("a first page", "{ca}/keys?limit=2", 200)
	page1.expectedJSON = map[string]any{"complete": false}
	page1.expectedContent = []string{`{"keys":[{"key":"100%",`, `{"key":"a/b",`}
	page1.notExpectedContent = []string{`"key":"doc"`}
	page1.after = save("cursor", "cursor")
	page2 := get("the next page", "{ca}/keys?limit=2&cursor={cursor}", 200)
	page2.expectedJSON = map[string]any{"complete": false}
	page2.expectedContent = []string{`{"keys":[{"key":"doc",`, `{"key":"k1",`}
	page2.notExpectedContent = []string{`"key":"a/b"`, `"key":"k2"`}
	prefix := get("by prefix", "{ca}/keys?prefix=k", 200)
	prefix.expectedContent = []string{`"key":"k1"`, `"key":"k2"`, `"key":"k3"`}
	prefix.notExpectedContent = []string{`"key":"doc"`}
	contains := get("by substring", "{ca}/keys?contains=%2F", 200)
	contains.expectedJSON = map[string]any{"complete": true}
	contains.expectedContent = []string{`{"keys":[{"key":"a/b",`}
	contains.notExpectedContent = []string{`"key":"k1"`}
	doc := get("a json value is JSON", "{ca}/keys/doc", 200)
	doc.expectedJSON = map[string]any{"type": "json", "value.n": 1, "value.tags": []any{"x"}}
	value := func(name, path, key string) apiScenario {
		sc := get(name, "{ca}/keys/"+path, 200)
		sc.expectedJSON = map[string]any{"key": key, "value": "value of " + key}
		return sc
	}
	badInput := func(name, url, want string) apiScenario {
		sc := get(name, url, 400)
		sc.expectedContent = []string{want}
		return sc
	}
	s.runScenarios(t, []apiScenario{
		collections,
		all, page1, page2, prefix, contains, doc,
		value("a key with / as it is", "a/b", "a/b"),
		value("a key with / as %2F", "a%2Fb", "a/b"),
		value("a key with a space", "x%20y", "x y"),
		value("a key in Unicode", url.PathEscape("ünï"), "ünï"),
		value("a key with %", "100%25", "100%"),
		value("a key with ? and #", "q%3F%23", "q?#"),
		get("no such key", "{ca}/keys/nope", 404),
		get("an expired key", "{ca}/keys/k-expired", 404),
		get("no such collection", "/api/v1/admin/apps/{a}/kv/nope/keys/k1", 404),
		badInput("a cursor of nothing", "{ca}/keys?cursor=bogus", "cursor"),
		badInput("a cursor of another shape", "{ca}/keys?cursor=eDp5", "cursor"),
		badInput("limit 0", "{ca}/keys?limit=0", "limit"),
		badInput("limit over 1000", "{ca}/keys?limit=1001", "limit"),
		badInput("limit not a number", "{ca}/keys?limit=ten", "limit"),
		badInput("a key over 1 KiB", "{ca}/keys/"+strings.Repeat("k", 1025), "over the 1024 allowed"),
		badInput("an empty key", "{ca}/keys/", "must not be empty"),
		badInput("a key with NUL", "{ca}/keys/a%00b", "NUL"),
		badInput("a prefix with NUL", "{ca}/keys?prefix=a%00", "prefix"),
		badInput("a substring over 1 KiB", "{ca}/keys?contains="+strings.Repeat("k", 1025), "contains"),
		badInput("a key not UTF-8", "{ca}/keys/a%FFb", "UTF-8"),
		// An app that does not exist, for its owner too.
		get("no such app", "/api/v1/admin/apps/00000000-0000-0000-0000-00000000abcd/kv", 404),
		get("no such app's keys", "/api/v1/admin/apps/00000000-0000-0000-0000-00000000abcd/kv/c/keys", 404),
	})
}

func TestKVAdminWrite(t *testing.T) {
	s := newStack(t, stackOptions{})
	a, _ := kvApps(t, s)
	put := func(name, key, body string, status int) apiScenario {
		return apiScenario{name: name, method: "PUT", url: "{ca}/keys/" + key, headers: asAlice, body: body, expectedStatus: status}
	}
	get := func(name, key string, status int) apiScenario {
		return apiScenario{name: name, method: "GET", url: "{ca}/keys/" + key, headers: asAlice, expectedStatus: status}
	}
	writeJSON := put("write json", "new", `{"type":"json","value":{"n":2,"s":"two"},"metadata":{"by":"admin"},"ttl":3600}`, 200)
	writeJSON.after = save("v", "version")
	readJSON := get("read it back", "new", 200)
	readJSON.expectedJSON = map[string]any{"type": "json", "value.n": 2, "value.s": "two", "metadata.by": "admin", "version": "{v}"}
	readJSON.expectedContent = []string{`"expires_at":"`}
	readJSON.before = func(t *testing.T, s *stack) { readJSON.expectedJSON["version"] = s.vars["v"] }
	bytesKey := get("bytes come as base64", "bin", 200)
	bytesKey.expectedJSON = map[string]any{"type": "bytes", "value": "AAEC/w==", "size": 4}
	odd := put("write a key with odd characters", "odd%2Fkey/%20%25%3F%23%C3%A9", `{"type":"text","value":"odd"}`, 200)
	odd.expectedJSON = map[string]any{"key": "odd/key/ %?#é"}
	oddBack := get("read the odd key back", "odd/key%2F%20%25%3F%23é", 200)
	oddBack.expectedJSON = map[string]any{"value": "odd"}

	s.runScenarios(t, []apiScenario{
		writeJSON, readJSON,
		put("write text", "t", `{"type":"text","value":"plain"}`, 200),
		put("write bytes", "bin", `{"type":"bytes","value":"AAEC/w=="}`, 200),
		bytesKey,
		odd, oddBack,
		// Versions: null asks for an absent key, a number for that version.
		put("if_version null over a key", "t", `{"type":"text","value":"x","if_version":null}`, 409),
		put("if_version null, absent", "fresh", `{"type":"text","value":"x","if_version":null}`, 200),
		put("a stale if_version", "new", `{"type":"json","value":1,"if_version":1}`, 409),
		{name: "delete at a stale version", method: "DELETE", url: "{ca}/keys/new?if_version=1", headers: asAlice, expectedStatus: 409},
		{name: "delete at its version", method: "DELETE", url: "{ca}/keys/new?if_version={v}", headers: asAlice, expectedStatus: 204},
		get("deleted", "new", 404),
		{name: "delete again", method: "DELETE", url: "{ca}/keys/new", headers: asAlice, expectedStatus: 404},
		{name: "delete a key with /", method: "DELETE", url: "{ca}/keys/a%2Fb", headers: asAlice, expectedStatus: 204},
		get("the key with / is gone", "a/b", 404),
	})

	// Bad input: a clear 400, nothing written and nothing audited.
	before := s.auditCount()
	big := strings.Repeat("x", 1<<20+1)
	for _, tc := range []struct{ name, key, body, want string }{
		{"an unknown type", "bad", `{"type":"xml","value":"x"}`, `type must be`},
		{"no type", "bad", `{"value":"x"}`, "type must be"},
		{"no value", "bad", `{"type":"text"}`, "value is required"},
		{"malformed JSON", "bad", `{"type":"json","value":{"n":}`, "invalid JSON body"},
		{"text that is not a string", "bad", `{"type":"text","value":7}`, "must be a string"},
		{"bytes that are not base64", "bad", `{"type":"bytes","value":"!!"}`, "not base64"},
		{"a value over 1 MiB", "bad", `{"type":"text","value":"` + big + `"}`, "over the 1048576 allowed"},
		{"a key over 1 KiB", strings.Repeat("k", 1025), `{"type":"text","value":"x"}`, "over the 1024 allowed"},
		{"metadata over 1 KiB", "bad", `{"type":"text","value":"x","metadata":"` + strings.Repeat("m", 1024) + `"}`, "metadata"},
		{"ttl and expires_at", "bad", `{"type":"text","value":"x","ttl":5,"expires_at":"2999-01-01T00:00:00Z"}`, "not both"},
		{"a negative ttl", "bad", `{"type":"text","value":"x","ttl":-1}`, "ttl must be"},
		{"expires_at in the past", "bad", `{"type":"text","value":"x","expires_at":"2001-01-01T00:00:00Z"}`, "in the past"},
		{"if_version 0", "bad", `{"type":"text","value":"x","if_version":0}`, "if_version"},
		{"if_version not a number", "bad", `{"type":"text","value":"x","if_version":"3"}`, "if_version"},
		{"an unknown field", "bad", `{"type":"text","value":"x","ifVersion":3}`, "unknown field"},
		{"over a key, a bad value", "t", `{"type":"json","value":"x","ttl":0}`, "ttl must be"},
	} {
		res := s.admin("PUT", s.vars["ca"]+"/keys/"+tc.key, tc.body)
		if res.status != 400 || !strings.Contains(res.body, tc.want) {
			t.Errorf("%s: %d %.300s, want 400 saying %q", tc.name, res.status, res.body, tc.want)
		}
	}
	for _, q := range []string{"?if_version=0", "?if_version=x"} {
		if res := s.admin("DELETE", s.vars["ca"]+"/keys/t"+q, nil); res.status != 400 {
			t.Errorf("delete%s: %d %s", q, res.status, res.body)
		}
	}
	if got := s.auditCount(); got != before {
		t.Errorf("refused writes wrote %d audit records", got-before)
	}
	if _, err := s.store.GetKV(context.Background(), a, "c", "bad"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("a refused write left key bad: %v", err)
	}
	if e, err := s.store.GetKV(context.Background(), a, "c", "t"); err != nil || string(e.Value) != "plain" || e.Type != "text" {
		t.Errorf("a refused write changed key t: %+v %v", e, err)
	}
	if e, err := s.store.GetKV(context.Background(), a, "c", "odd/key/ %?#é"); err != nil || string(e.Value) != "odd" {
		t.Errorf("the odd key is not stored under its name: %+v %v", e, err)
	}
}

// TestKVAdminRoles checks who may do what with an app's data: its viewers
// read, its editors write, a member of another app finds nothing, through
// every endpoint.
func TestKVAdminRoles(t *testing.T) {
	s := newStack(t, stackOptions{})
	a, b := kvApps(t, s)
	role := func(user, app, r string) {
		t.Helper()
		id := s.newUser(user, user+"'s password", "member")
		if res := s.admin("POST", "/api/v1/admin/users/"+id+"/roles", `{"app_id":"`+app+`","role":"`+r+`"}`); res.status >= 300 {
			t.Fatalf("grant %s: %d %s", user, res.status, res.body)
		}
		s.vars[user] = s.login(user, user+"'s password")
	}
	role("vi", a, "viewer")
	role("ed", a, "editor")
	role("mo", b, "editor") // an editor of b only
	type req struct{ method, path, body string }
	reads := []req{
		{"GET", "/api/v1/admin/apps/{a}/kv", ""},
		{"GET", "{ca}/keys", ""},
		{"GET", "{ca}/keys/k1", ""},
	}
	writes := []req{
		{"PUT", "{ca}/keys/k1", `{"type":"text","value":"changed"}`},
		{"DELETE", "{ca}/keys/k2", ""},
	}
	var scenarios []apiScenario
	add := func(who string, r req, status int) {
		sc := apiScenario{name: who + " " + r.method + " " + r.path, method: r.method, url: r.path, headers: bearer(who),
			body: r.body, expectedStatus: status}
		if status == 404 {
			sc.notExpectedContent = []string{"value of", "b's secret"}
		}
		scenarios = append(scenarios, sc)
	}
	for _, r := range reads {
		add("vi", r, 200)
		add("mo", r, 404)
	}
	for _, r := range writes {
		add("vi", r, 403)
		add("mo", r, 404)
	}
	writeStatus := map[string]int{"PUT": 200, "DELETE": 204}
	for _, r := range writes {
		add("ed", r, writeStatus[r.method])
	}
	// a's editor and viewer reach nothing of b, the same as an app that
	// does not exist.
	for _, app := range []string{"cb", "nowhere"} {
		for _, r := range append(reads, writes...) {
			r.path = strings.ReplaceAll(r.path, "{ca}", "{"+app+"}")
			r.path = strings.ReplaceAll(r.path, "{a}", map[string]string{"cb": "{b}", "nowhere": "00000000-0000-0000-0000-00000000abcd"}[app])
			add("ed", r, 404)
			add("vi", r, 404)
		}
	}
	s.vars["nowhere"] = "/api/v1/admin/apps/00000000-0000-0000-0000-00000000abcd/kv/c"
	s.runScenarios(t, scenarios)
	if e, err := s.store.GetKV(context.Background(), b, "c", "k1"); err != nil || string(e.Value) != "b's secret" {
		t.Errorf("b's key changed: %+v %v", e, err)
	}
	if e, err := s.store.GetKV(context.Background(), a, "c", "k1"); err != nil || string(e.Value) != "changed" {
		t.Errorf("a's editor did not write: %+v %v", e, err)
	}
}

// TestKVAdminAudit checks that writes and deletes are audited with the
// collection and the key, and never the value.
func TestKVAdminAudit(t *testing.T) {
	s := newStack(t, stackOptions{})
	a, _ := kvApps(t, s)
	if res := s.admin("PUT", s.vars["ca"]+"/keys/a%2Fb", `{"type":"text","value":"THE-VALUE","metadata":{"m":"THE-META"}}`); res.status != 200 {
		t.Fatalf("put: %d %s", res.status, res.body)
	}
	if res := s.admin("DELETE", s.vars["ca"]+"/keys/k1", nil); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	res := s.admin("GET", "/api/v1/admin/audit?app_id="+a, nil)
	recs, _ := res.json()["audit"].([]any)
	if len(recs) < 2 {
		t.Fatalf("audit: %s", res.body)
	}
	del, put := recs[0].(map[string]any), recs[1].(map[string]any)
	if del["action"] != "kv.delete" || del["target"] != "k1" || del["app_id"] != a || del["username"] != "alice" {
		t.Errorf("the delete's record: %v", del)
	}
	if put["action"] != "kv.put" || put["target"] != "a/b" {
		t.Errorf("the put's record: %v", put)
	}
	for _, r := range []map[string]any{del, put} {
		if d, _ := r["details"].(map[string]any); d["collection"] != "c" {
			t.Errorf("the record does not name the collection: %v", r)
		}
	}
	if strings.Contains(res.body, "THE-VALUE") || strings.Contains(res.body, "THE-META") {
		t.Errorf("the audit log holds the value: %s", res.body)
	}
}
