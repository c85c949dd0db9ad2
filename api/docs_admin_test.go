package api_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/picloud/picloud/api/model"
)

// docsApps makes apps a and b with documents in collection "posts": a's
// p1…p5 ({"n": i, "status": "open" for odd i, else "closed", "title"}),
// b's one holding "b's secret". It keeps the apps' ids in vars a and b,
// the documents' ids in vars p1…p5 and bdoc, and the paths of the
// collections in vars pa and pb.
func docsApps(t *testing.T, s *stack) (a, b string) {
	t.Helper()
	a = s.admin("POST", "/api/v1/admin/apps", `{"name":"a"}`).json()["id"].(string)
	b = s.admin("POST", "/api/v1/admin/apps", `{"name":"b"}`).json()["id"].(string)
	insert := func(app, collection, doc string) string {
		t.Helper()
		id := uuid.Must(uuid.NewV7()).String()
		if _, err := s.store.InsertDoc(context.Background(), app, collection, id, []byte(doc)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	for i := 1; i <= 5; i++ {
		status := map[bool]string{true: "open", false: "closed"}[i%2 == 1]
		s.vars[fmt.Sprint("p", i)] = insert(a, "posts", fmt.Sprintf(`{"n": %d, "status": %q, "title": "post %d"}`, i, status, i))
	}
	insert(a, "other", `{"x": 1}`)
	s.vars["bdoc"] = insert(b, "posts", `{"n": 1, "status": "open", "title": "b's secret"}`)
	s.vars["a"], s.vars["b"] = a, b
	s.vars["pa"] = "/api/v1/admin/apps/" + a + "/docs/posts"
	s.vars["pb"] = "/api/v1/admin/apps/" + b + "/docs/posts"
	return a, b
}

// runFilled runs scenarios whose expected content and JSON may name the
// stack's vars as {name}, as their URLs and bodies may.
func runFilled(t *testing.T, s *stack, scenarios []apiScenario) {
	t.Helper()
	for i := range scenarios {
		sc := &scenarios[i]
		before := sc.before
		sc.before = func(t *testing.T, s *stack) {
			if before != nil {
				before(t, s)
			}
			pairs := make([]string, 0, 2*len(s.vars))
			for k, v := range s.vars {
				pairs = append(pairs, "{"+k+"}", v)
			}
			fill := strings.NewReplacer(pairs...).Replace
			for _, list := range [][]string{sc.expectedContent, sc.notExpectedContent} {
				for j := range list {
					list[j] = fill(list[j])
				}
			}
			for k, v := range sc.expectedJSON {
				if text, ok := v.(string); ok {
					sc.expectedJSON[k] = fill(text)
				}
			}
		}
	}
	s.runScenarios(t, scenarios)
}

// q is a query parameter's value, escaped (JSON's braces would otherwise
// read as the scenarios' variables).
func q(v string) string { return url.QueryEscape(v) }

func TestDocsAdminRead(t *testing.T) {
	s := newStack(t, stackOptions{})
	a, _ := docsApps(t, s)
	if err := s.store.EnsureDocsIndex(context.Background(), model.DocsIndex{AppID: a, Collection: "posts",
		Name: "docs_ix_status", Paths: []model.DocsPath{{"status"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.store.EnsureDocsIndex(context.Background(), model.DocsIndex{AppID: a, Collection: "empty",
		Name: "docs_ix_empty", Paths: []model.DocsPath{{"a", "b"}}, Unique: true}); err != nil {
		t.Fatal(err)
	}
	get := func(name, url string, status int) apiScenario {
		return apiScenario{name: name, method: "GET", url: url, headers: asAlice, expectedStatus: status}
	}
	collections := get("collections", "/api/v1/admin/apps/{a}/docs", 200)
	collections.expectedContent = []string{
		`{"name":"empty","documents":0,"bytes":0,"indexes":[{"name":"docs_ix_empty","collection":"empty","paths":["a.b"],"unique":true,`,
		`{"name":"other","documents":1,"bytes":8,"indexes":[]}`,
		`{"name":"posts","documents":5,"bytes":`,
		`"indexes":[{"name":"docs_ix_status","collection":"posts","paths":["status"],"unique":false,`,
	}
	collections.notExpectedContent = []string{"b's secret"}
	all := get("every document, in insertion order", "{pa}/documents", 200)
	all.expectedJSON = map[string]any{"complete": true}
	all.expectedContent = []string{`"documents":[{"id":"{p1}","version":`, `"id":"{p5}"`}
	all.expectedContent = append(all.expectedContent, `"size":45,"preview":"{\"n\": 1, \"title\": \"post 1\", \"status\": \"open\"}"`)
	all.notExpectedContent = []string{"b's secret", `"cursor"`}
	page1 := get("a first page", "{pa}/documents?limit=2", 200)
	page1.expectedJSON = map[string]any{"complete": false}
	page1.expectedContent = []string{`"id":"{p1}"`, `"id":"{p2}"`}
	page1.notExpectedContent = []string{`"id":"{p3}"`}
	page1.after = save("cursor", "cursor")
	page2 := get("the next page", "{pa}/documents?limit=2&cursor={cursor}", 200)
	page2.expectedContent = []string{`"id":"{p3}"`, `"id":"{p4}"`}
	page2.notExpectedContent = []string{`"id":"{p2}"`, `"id":"{p5}"`}
	where := get("where and order_by", "{pa}/documents?where="+q(`{"status":"open","n":{"$gte":2}}`)+"&order_by="+q(`[["n","desc"]]`), 200)
	where.expectedJSON = map[string]any{"complete": true}
	where.expectedContent = []string{`"documents":[{"id":"{p5}"`, `"id":"{p3}"`}
	where.notExpectedContent = []string{`"id":"{p1}"`, `"id":"{p2}"`, `"id":"{p4}"`}
	contains := get("a text search", "{pa}/documents?contains="+q("post 4"), 200)
	contains.expectedContent = []string{`"documents":[{"id":"{p4}"`}
	contains.notExpectedContent = []string{`"id":"{p1}"`, `"id":"{p5}"`}
	search := get("a page of a search", "{pa}/documents?contains=post&limit=1", 200)
	search.after = save("searchcursor", "cursor")
	one := get("one document", "{pa}/documents/{p2}", 200)
	one.expectedJSON = map[string]any{"doc.n": 2, "doc.status": "closed", "size": 47}
	one.expectedContent = []string{`"id":"{p2}"`, `"version":`}
	badInput := func(name, url, want string) apiScenario {
		sc := get(name, url, 400)
		sc.expectedContent = []string{want}
		return sc
	}
	runFilled(t, s, []apiScenario{
		collections, all, page1, page2, where, contains, search, one,
		get("no such document", "{pa}/documents/"+uuid.Must(uuid.NewV7()).String(), 404),
		get("another app's document", "{pa}/documents/{bdoc}", 404),
		get("another collection's document", "/api/v1/admin/apps/{a}/docs/other/documents/{p1}", 404),
		get("indexes", "{pa}/indexes", 200),
		badInput("a where that is not JSON", "{pa}/documents?where="+q(`{status:open}`), "where must be an object"),
		badInput("a where that is a list", "{pa}/documents?where="+q(`["n"]`), "where must be an object"),
		badInput("an unknown operator", "{pa}/documents?where="+q(`{"n":{"$regex":"x"}}`), "unknown operator $regex"),
		badInput("a bad order_by", "{pa}/documents?order_by="+q(`[["n","up"]]`), "must be"),
		badInput("a cursor of nothing", "{pa}/documents?cursor=bogus", "cursor"),
		badInput("a cursor of another query", "{pa}/documents?cursor={cursor}&where="+q(`{"n":1}`), "another query"),
		badInput("a search's cursor without the search", "{pa}/documents?cursor={searchcursor}", "another query"),
		badInput("limit 0", "{pa}/documents?limit=0", "limit"),
		badInput("limit over 1000", "{pa}/documents?limit=1001", "limit"),
		badInput("a search with NUL", "{pa}/documents?contains=a%00", "contains"),
		badInput("an id that is not one", "{pa}/documents/p1", "not a document id"),
		badInput("a collection over 256 bytes", "/api/v1/admin/apps/{a}/docs/"+strings.Repeat("c", 257)+"/documents", "collection"),
		get("no such app", "/api/v1/admin/apps/00000000-0000-0000-0000-00000000abcd/docs", 404),
		get("no such app's documents", "/api/v1/admin/apps/00000000-0000-0000-0000-00000000abcd/docs/posts/documents", 404),
	})
}

func TestDocsAdminWrite(t *testing.T) {
	s := newStack(t, stackOptions{})
	a, b := docsApps(t, s)
	call := func(name, method, url, body string, status int) apiScenario {
		return apiScenario{name: name, method: method, url: url, headers: asAlice, body: body, expectedStatus: status}
	}
	insert := call("insert", "POST", "{pa}/documents", `{"doc":{"n":9,"title":"new","_id":"ignored"}}`, 201)
	insert.after = func(t *testing.T, s *stack, res response) {
		save("new", "id")(t, s, res)
		save("v", "version")(t, s, res)
	}
	readBack := call("read it back", "GET", "{pa}/documents/{new}", "", 200)
	readBack.expectedJSON = map[string]any{"doc.n": 9, "doc.title": "new"}
	readBack.notExpectedContent = []string{"_id", "ignored"}
	replace := call("replace at its version", "PUT", "{pa}/documents/{new}", `{"doc":{"n":10},"if_version":{v}}`, 200)
	replace.after = save("v2", "version")
	replaced := call("replaced", "GET", "{pa}/documents/{new}", "", 200)
	replaced.expectedJSON = map[string]any{"doc.n": 10}
	replaced.notExpectedContent = []string{"title"}
	unique := call("a unique index", "POST", "{pa}/indexes", `{"paths":["title"],"unique":true}`, 200)
	unique.after = save("ix", "name")
	runFilled(t, s, []apiScenario{
		insert, readBack, replace, replaced,
		call("replace at a stale version", "PUT", "{pa}/documents/{new}", `{"doc":{"n":11},"if_version":{v}}`, 409),
		call("replace without a version", "PUT", "{pa}/documents/{p1}", `{"doc":{"n":1,"title":"post 1","edited":true}}`, 200),
		call("replace a document that is not there", "PUT", "{pa}/documents/"+uuid.Must(uuid.NewV7()).String(), `{"doc":{"n":1}}`, 404),
		call("replace another app's document", "PUT", "{pa}/documents/{bdoc}", `{"doc":{"n":1}}`, 404),
		call("delete at a stale version", "DELETE", "{pa}/documents/{new}?if_version={v}", "", 409),
		call("delete at its version", "DELETE", "{pa}/documents/{new}?if_version={v2}", "", 204),
		call("deleted", "GET", "{pa}/documents/{new}", "", 404),
		call("delete again", "DELETE", "{pa}/documents/{new}", "", 404),
		call("delete another app's document", "DELETE", "{pa}/documents/{bdoc}", "", 404),
		// Indexes: made once, listed, refused writes, dropped.
		unique,
		call("the same index again", "POST", "{pa}/indexes", `{"paths":["title"],"unique":true}`, 200),
		{name: "listed", method: "GET", url: "{pa}/indexes", headers: asAlice, expectedStatus: 200,
			expectedContent: []string{`{"indexes":[{"name":"{ix}","collection":"posts","paths":["title"],"unique":true,`}},
		call("an insert that repeats a unique value", "POST", "{pa}/documents", `{"doc":{"title":"post 2"}}`, 409),
		call("a replace that repeats a unique value", "PUT", "{pa}/documents/{p3}", `{"doc":{"title":"post 2"}}`, 409),
		call("a unique index the documents break", "POST", "{pa}/indexes", `{"paths":["status"],"unique":true}`, 409),
		call("drop the index", "DELETE", "{pa}/indexes/{ix}", "", 204),
		call("drop it again", "DELETE", "{pa}/indexes/{ix}", "", 404),
		call("the repeated value is taken now", "POST", "{pa}/documents", `{"doc":{"title":"post 2"}}`, 201),
		call("drop another app's index", "DELETE", "{pb}/indexes/{ix}", "", 404),
	})
	var n int64
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_indexes WHERE indexname = $1`, s.vars["ix"]).Scan(&n); err != nil || n != 0 {
		t.Errorf("the dropped index is still in PostgreSQL: %d %v", n, err)
	}
	if d, err := s.store.GetDoc(context.Background(), a, "posts", s.vars["p1"]); err != nil || !strings.Contains(string(d.Doc), `"edited": true`) {
		t.Errorf("the replace without a version: %s %v", d.Doc, err)
	}

	// Bad input: a clear 400, nothing written and nothing audited. An
	// index on code makes a long code a value too large for it.
	count := func() int64 {
		n, err := s.store.CountDocs(context.Background(), model.DocsQuery{AppID: a, Collection: "posts"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if res := s.admin("POST", s.vars["pa"]+"/indexes", `{"paths":["code"]}`); res.status != 200 {
		t.Fatalf("index code: %d %s", res.status, res.body)
	}
	before := s.auditCount()
	docsBefore := count()
	big := `{"doc":{"s":"` + strings.Repeat("x", 1<<20) + `"}}`
	noise := make([]byte, 4096) // too long for an index, and it does not compress
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	unindexable := `{"doc":{"code":"` + hex.EncodeToString(noise) + `"}}`
	for _, tc := range []struct{ name, method, path, body, want string }{
		{"no document", "POST", "/documents", `{}`, "a document must be an object, not nothing"},
		{"a document that is a list", "POST", "/documents", `{"doc":[1]}`, "must be an object, not array"},
		{"malformed JSON", "POST", "/documents", `{"doc":{"n":}`, "invalid JSON body"},
		{"a document over 1 MiB", "POST", "/documents", big, "over the 1048576 allowed"},
		{"a string with NUL", "POST", "/documents", `{"doc":{"s":"a\u0000b"}}`, "NUL"},
		{"an unknown field", "POST", "/documents", `{"doc":{},"ifVersion":1}`, "unknown field"},
		{"an insert with if_version", "POST", "/documents", `{"doc":{},"if_version":1}`, "if_version"},
		{"a replace over 1 MiB", "PUT", "/documents/{p2}", big, "over the 1048576 allowed"},
		{"a value too large for an index", "POST", "/documents", unindexable, "too large to index"},
		{"a replace with a value too large for an index", "PUT", "/documents/{p2}", unindexable, "too large to index"},
		{"a replace with if_version 0", "PUT", "/documents/{p2}", `{"doc":{},"if_version":0}`, "if_version"},
		{"a replace with a bad id", "PUT", "/documents/nope", `{"doc":{}}`, "not a document id"},
		{"a delete with a bad id", "DELETE", "/documents/nope", ``, "not a document id"},
		{"a delete with if_version 0", "DELETE", "/documents/{p2}?if_version=0", ``, "if_version"},
		{"an index of no paths", "POST", "/indexes", `{"paths":[]}`, "give the paths"},
		{"an index of an operator", "POST", "/indexes", `{"paths":["$gt"]}`, "not a path"},
		{"an index of too many paths", "POST", "/indexes", `{"paths":["a","b","c","d","e","f","g","h","i"]}`, "at most 8 paths"},
	} {
		path := s.vars["pa"] + strings.NewReplacer("{p2}", s.vars["p2"]).Replace(tc.path)
		var body any
		if tc.body != "" {
			body = tc.body
		}
		res := s.admin(tc.method, path, body)
		if res.status != 400 || !strings.Contains(res.body, tc.want) {
			t.Errorf("%s: %d %.300s, want 400 saying %q", tc.name, res.status, res.body, tc.want)
		}
	}
	if got := s.auditCount(); got != before {
		t.Errorf("refused writes wrote %d audit records", got-before)
	}
	if got := count(); got != docsBefore {
		t.Errorf("refused writes changed the documents: %d, were %d", got, docsBefore)
	}
	if d, err := s.store.GetDoc(context.Background(), a, "posts", s.vars["p2"]); err != nil || !strings.Contains(string(d.Doc), `"post 2"`) {
		t.Errorf("a refused replace changed p2: %.200s %v", d.Doc, err)
	}
	if d, err := s.store.GetDoc(context.Background(), b, "posts", s.vars["bdoc"]); err != nil || !strings.Contains(string(d.Doc), "b's secret") {
		t.Errorf("b's document changed: %s %v", d.Doc, err)
	}
	if ixs, err := s.store.DocsIndexes(context.Background(), a, "posts"); err != nil || len(ixs) != 1 {
		t.Errorf("refused indexes were made: %v %v", ixs, err)
	}
}

// TestDocsAdminRoles checks who may do what with an app's documents: its
// viewers read, its editors write, a member of another app finds nothing.
func TestDocsAdminRoles(t *testing.T) {
	s := newStack(t, stackOptions{})
	a, b := docsApps(t, s)
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
		{"GET", "{app}/docs", ""},
		{"GET", "{app}/docs/posts/documents", ""},
		{"GET", "{app}/docs/posts/documents/{doc}", ""},
		{"GET", "{app}/docs/posts/indexes", ""},
	}
	writes := []req{
		{"POST", "{app}/docs/posts/documents", `{"doc":{"by":"someone"}}`},
		{"PUT", "{app}/docs/posts/documents/{doc}", `{"doc":{"changed":true}}`},
		{"POST", "{app}/docs/posts/indexes", `{"paths":["by"]}`},
		{"DELETE", "{app}/docs/posts/documents/{doc}", ""},
	}
	var scenarios []apiScenario
	add := func(who, app, doc string, r req, status int) {
		path := strings.NewReplacer("{app}", "/api/v1/admin/apps/"+app, "{doc}", doc).Replace(r.path)
		sc := apiScenario{name: who + " " + r.method + " " + path, method: r.method, url: path, headers: bearer(who),
			body: r.body, expectedStatus: status}
		if status == 404 || status == 403 {
			sc.notExpectedContent = []string{"post 1", "b's secret"}
		}
		scenarios = append(scenarios, sc)
	}
	for _, r := range reads {
		add("vi", "{a}", "{p1}", r, 200)
		add("mo", "{a}", "{p1}", r, 404)
	}
	for _, r := range writes {
		add("vi", "{a}", "{p1}", r, 403)
		add("mo", "{a}", "{p1}", r, 404)
	}
	writeStatus := map[string]int{"POST": 201, "PUT": 200, "DELETE": 204}
	for _, r := range writes {
		status := writeStatus[r.method]
		if strings.Contains(r.path, "indexes") {
			status = 200
		}
		add("ed", "{a}", "{p1}", r, status)
	}
	// a's editor and viewer reach nothing of b, the same as an app that
	// does not exist.
	for _, app := range []string{"{b}", "00000000-0000-0000-0000-00000000abcd"} {
		for _, r := range append(reads, writes...) {
			add("ed", app, "{bdoc}", r, 404)
			add("vi", app, "{bdoc}", r, 404)
		}
	}
	s.runScenarios(t, scenarios)
	if d, err := s.store.GetDoc(context.Background(), b, "posts", s.vars["bdoc"]); err != nil || !strings.Contains(string(d.Doc), "b's secret") {
		t.Errorf("b's document changed: %s %v", d.Doc, err)
	}
	if ixs, err := s.store.DocsIndexes(context.Background(), b, "posts"); err != nil || len(ixs) != 0 {
		t.Errorf("b got an index: %v %v", ixs, err)
	}
	if _, err := s.store.GetDoc(context.Background(), a, "posts", s.vars["p1"]); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("a's editor did not delete p1: %v", err)
	}
}

// TestDocsAdminAudit checks that writes are audited with the collection
// and the id or index, never the document.
func TestDocsAdminAudit(t *testing.T) {
	s := newStack(t, stackOptions{})
	a, _ := docsApps(t, s)
	ins := s.admin("POST", s.vars["pa"]+"/documents", `{"doc":{"secret":"THE-DOCUMENT"}}`)
	if ins.status != 201 {
		t.Fatalf("insert: %d %s", ins.status, ins.body)
	}
	id := ins.json()["id"].(string)
	steps := []struct{ method, path, body string }{
		{"PUT", "/documents/" + id, `{"doc":{"secret":"THE-REPLACEMENT"}}`},
		{"DELETE", "/documents/" + id, ""},
		{"POST", "/indexes", `{"paths":["secret"]}`},
	}
	for _, st := range steps {
		var body any
		if st.body != "" {
			body = st.body
		}
		if res := s.admin(st.method, s.vars["pa"]+st.path, body); res.status >= 300 {
			t.Fatalf("%s %s: %d %s", st.method, st.path, res.status, res.body)
		}
	}
	ix := s.admin("GET", s.vars["pa"]+"/indexes", nil).json()["indexes"].([]any)[0].(map[string]any)["name"].(string)
	if res := s.admin("DELETE", s.vars["pa"]+"/indexes/"+ix, nil); res.status != 204 {
		t.Fatalf("drop: %d %s", res.status, res.body)
	}
	res := s.admin("GET", "/api/v1/admin/audit?app_id="+a, nil)
	recs, _ := res.json()["audit"].([]any)
	want := [][2]string{{"docs.index.drop", ix}, {"docs.index.ensure", ix}, {"docs.delete", id}, {"docs.replace", id}, {"docs.insert", id}}
	if len(recs) < len(want) {
		t.Fatalf("audit: %s", res.body)
	}
	for i, w := range want {
		r := recs[i].(map[string]any)
		d, _ := r["details"].(map[string]any)
		if r["action"] != w[0] || r["target"] != w[1] || r["app_id"] != a || r["username"] != "alice" || d["collection"] != "posts" {
			t.Errorf("record %d: %v, want %s of %s in collection posts", i, r, w[0], w[1])
		}
	}
	if strings.Contains(res.body, "THE-DOCUMENT") || strings.Contains(res.body, "THE-REPLACEMENT") {
		t.Errorf("the audit log holds the document: %s", res.body)
	}
}
