package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// docsScript runs one docs call that the request describes, like
// kvScript: {op, collection, args} answered {ok: result} or 400 {error}.
const docsScript = `import { docs } from "picloud"
export default async (req) => {
  const { op, collection, args } = await req.json()
  try {
    const r = await docs.collection(collection)[op](...args)
    return Response.json({ ok: r === undefined ? null : r })
  } catch (e) {
    return Response.json({ error: { name: e.name, code: e.code ?? null, message: e.message } }, { status: 400 })
  }
}`

// docsPage is a find's result.
type docsPage struct {
	Items    []map[string]any
	Cursor   *string
	Complete bool
}

func decodeInto[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// inserted is an insert's result.
type inserted struct {
	ID      string
	Version int64
}

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// ns is the values of field n of a page's items, in order, "-" where it
// is missing.
func ns(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, it := range items {
		v, ok := it["n"]
		if !ok {
			out[i] = "-"
			continue
		}
		b, _ := json.Marshal(v)
		out[i] = string(b)
	}
	return out
}

func TestDataDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), "PICLOUD_MAX_CONCURRENT_EXECUTIONS=64", "PICLOUD_MAX_REQUEST_BODY_BYTES=4194304")
	d.startAsOwner()
	d.deploy("", "docs", docsScript, "*", "/docs")
	other := d.call("POST", "/api/v1/admin/apps", `{"name":"other"}`)
	d.expect(other, 201)
	otherID := other.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/apps/"+otherID+"/domains", `{"pattern":"other.test"}`), 201)
	d.deploy(otherID, "docs-other", docsScript, "*", "/docs")
	client := func(t *testing.T, host ...string) kvClient {
		return kvClient{d: &daemon{t: t, url: d.url, token: d.token}, host: host, path: "/docs"}
	}

	t.Run("documents round-trip with ids, versions and merge patches", func(t *testing.T) {
		c := client(t)
		ins := decodeInto[inserted](t, c.ok("insert", "posts", map[string]any{
			"title": "Hello", "author": map[string]any{"id": 7, "name": "Ann"}, "tags": []string{"a"},
			"_id": "ignored", "_version": 99}))
		if !uuidV7.MatchString(ins.ID) || ins.Version < 1 {
			t.Fatalf("insert: %+v", ins)
		}
		got := c.ok("get", "posts", ins.ID)
		want := fmt.Sprintf(`{"_id":"%s","_version":%d,"tags":["a"],"title":"Hello","author":{"id":7,"name":"Ann"}}`, ins.ID, ins.Version)
		if got != want {
			t.Errorf("get: %s\nwant %s", got, want)
		}
		up := decodeInto[inserted](t, c.ok("update", "posts", ins.ID, map[string]any{
			"author": map[string]any{"name": nil, "since": 2020}, "tags": nil, "draft": false}, map[string]any{"ifVersion": ins.Version}))
		if up.Version <= ins.Version {
			t.Errorf("update's version %d after %d", up.Version, ins.Version)
		}
		got = c.ok("get", "posts", ins.ID)
		want = fmt.Sprintf(`{"_id":"%s","_version":%d,"draft":false,"title":"Hello","author":{"id":7,"since":2020}}`, ins.ID, up.Version)
		if got != want {
			t.Errorf("after a merge patch: %s\nwant %s", got, want)
		}
		rep := decodeInto[inserted](t, c.ok("replace", "posts", ins.ID, map[string]any{"title": "Bye", "_id": "x"}))
		if got := c.ok("get", "posts", ins.ID); got != fmt.Sprintf(`{"_id":"%s","_version":%d,"title":"Bye"}`, ins.ID, rep.Version) {
			t.Errorf("after replace: %s", got)
		}
		second := decodeInto[inserted](t, c.ok("insert", "posts", map[string]any{}))
		if second.ID <= ins.ID {
			t.Errorf("ids are not time-ordered: %s after %s", second.ID, ins.ID)
		}
		if got := c.ok("delete", "posts", ins.ID); got != "true" {
			t.Errorf("delete: %s", got)
		}
		for _, op := range [][]any{{"get", ins.ID}, {"get", "not-an-id"}, {"replace", ins.ID, map[string]any{}},
			{"update", ins.ID, map[string]any{"a": 1}}, {"update", "../x", map[string]any{"a": 1}}} {
			if got := c.ok(op[0].(string), "posts", op[1:]...); got != "null" {
				t.Errorf("%v of an absent document: %s", op, got)
			}
		}
		if got := c.ok("delete", "posts", ins.ID); got != "false" {
			t.Errorf("delete again: %s", got)
		}
	})

	t.Run("ifVersion conflicts change nothing", func(t *testing.T) {
		c := client(t)
		ins := decodeInto[inserted](t, c.ok("insert", "cas", map[string]any{"n": 1}))
		before := c.ok("get", "cas", ins.ID)
		stale := map[string]any{"ifVersion": ins.Version + 1000}
		msg := c.fails("Error", "data.version_mismatch", "replace", "cas", ins.ID, map[string]any{"n": 2}, stale)
		if !strings.Contains(msg, ins.ID) {
			t.Errorf("the message does not name the id: %s", msg)
		}
		c.fails("Error", "data.version_mismatch", "update", "cas", ins.ID, map[string]any{"n": 3}, stale)
		c.fails("Error", "data.version_mismatch", "delete", "cas", ins.ID, stale)
		c.fails("Error", "data.version_mismatch", "update", "cas", "not-an-id", map[string]any{"n": 3}, stale)
		if got := c.ok("get", "cas", ins.ID); got != before {
			t.Errorf("after conflicts: %s, was %s", got, before)
		}
		c.fails("TypeError", "data.invalid", "replace", "cas", ins.ID, map[string]any{}, map[string]any{"ifVersion": nil})
		if got := c.ok("delete", "cas", ins.ID, map[string]any{"ifVersion": ins.Version}); got != "true" {
			t.Errorf("delete at its version: %s", got)
		}
	})

	t.Run("find with each operator, order and count", func(t *testing.T) {
		c := client(t)
		// n holds every JSON type or is missing; g groups.
		for _, doc := range []string{`{"n":5,"g":"a"}`, `{"n":10,"g":"b"}`, `{"n":"5","g":"a"}`, `{"n":"x","g":"b"}`,
			`{"n":true,"g":"a"}`, `{"n":null,"g":"b"}`, `{"n":[1],"g":"a"}`, `{"n":{"k":1},"g":"b"}`, `{"g":"a"}`, `{"n":2.5,"g":"c","deep":{"k":[3,4]}}`} {
			c.ok("insert", "ops", json.RawMessage(doc))
		}
		find := func(where any, orderBy ...any) []string {
			t.Helper()
			opts := map[string]any{"where": where}
			if orderBy != nil {
				opts["orderBy"] = orderBy
			}
			p := decodeInto[docsPage](t, c.ok("find", "ops", opts))
			if !p.Complete || p.Cursor != nil {
				t.Errorf("one page is not complete: %+v", p)
			}
			return ns(p.Items)
		}
		for _, tc := range []struct {
			where any
			want  string
		}{
			{map[string]any{"n": 5}, `5`},
			{map[string]any{"n": "5"}, `"5"`},
			{map[string]any{"n": map[string]any{"$eq": map[string]any{"k": 1}}}, `{"k":1}`},
			{map[string]any{"n": map[string]any{"$gt": 2.5}}, `5 10`},
			{map[string]any{"n": map[string]any{"$gte": 2.5, "$lt": 10}}, `5 2.5`},
			{map[string]any{"n": map[string]any{"$lte": 5}}, `5 2.5`},
			{map[string]any{"n": map[string]any{"$gt": "5"}}, `"x"`},
			{map[string]any{"n": map[string]any{"$in": []any{5, "x", nil}}}, `5 "x" null`},
			{map[string]any{"n": map[string]any{"$exists": false}}, `-`},
			{map[string]any{"n": map[string]any{"$ne": 5}, "g": "a"}, `"5" true [1] -`},
			{map[string]any{"n": nil}, `null`},
			{map[string]any{"deep.k.1": 4}, `2.5`},
			{map[string]any{"g": map[string]any{"$in": []string{}}}, ``},
		} {
			if got := strings.Join(find(tc.where), " "); got != tc.want {
				t.Errorf("where %s: %s, want %s", mustJSON(tc.where), got, tc.want)
			}
		}
		all := `null "5" "x" 2.5 5 10 true [1] {"k":1} -`
		if got := strings.Join(find(nil, []string{"n", "asc"}), " "); got != all {
			t.Errorf("ascending: %s\nwant %s", got, all)
		}
		rev := strings.Split(all, " ")
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		if got := strings.Join(find(nil, []string{"n", "desc"}), " "); got != strings.Join(rev, " ") {
			t.Errorf("descending: %s\nwant %s", got, strings.Join(rev, " "))
		}
		if got := strings.Join(find(map[string]any{"g": "a"}, []string{"_id", "desc"}), " "); got != `- [1] true "5" 5` {
			t.Errorf("newest first: %s", got)
		}
		if got := strings.Join(find(map[string]any{"g": map[string]any{"$in": []string{"a", "b"}}}, []string{"g", "desc"}, "n"), " "); got != `null "x" 10 {"k":1} "5" 5 true [1] -` {
			t.Errorf("two keys: %s", got)
		}
		if got := c.ok("count", "ops", map[string]any{"g": "a"}); got != "5" {
			t.Errorf("count: %s", got)
		}
		if got := c.ok("count", "ops"); got != "10" {
			t.Errorf("count all: %s", got)
		}
	})

	t.Run("paging under concurrent inserts neither repeats nor skips", func(t *testing.T) {
		c := client(t)
		for i := range 40 {
			c.ok("insert", "paged", map[string]any{"i": i, "score": i % 7})
		}
		for _, orderBy := range [][]any{nil, {[]string{"score", "desc"}}, {[]string{"score", "asc"}, []string{"_id", "desc"}}} {
			seen := map[float64]int{}
			cursor := any(nil)
			var wg sync.WaitGroup
			for pages := 0; ; pages++ {
				if pages > 40 {
					t.Fatal("find never completes")
				}
				// Others insert while this client pages (its first
				// pages), everywhere in the order.
				for k := range 3 * min(1, max(0, 5-pages)) {
					wg.Add(1)
					go func() {
						defer wg.Done()
						body := mustJSON(map[string]any{"op": "insert", "collection": "paged",
							"args": []any{map[string]any{"i": -1, "score": (pages + k*3) % 7}}})
						if r, err := d.send(http.DefaultClient, "POST", "/docs", body); err != nil || r.status != 200 {
							t.Errorf("a concurrent insert: %v %s", err, r.body)
						}
					}()
				}
				opts := map[string]any{"limit": 6, "cursor": cursor}
				if orderBy != nil {
					opts["orderBy"] = orderBy
				}
				p := decodeInto[docsPage](t, c.ok("find", "paged", opts))
				for _, it := range p.Items {
					if i := it["i"].(float64); i >= 0 {
						seen[i]++
					}
				}
				if p.Complete {
					break
				}
				cursor = *p.Cursor
			}
			wg.Wait()
			for i := range 40 {
				if seen[float64(i)] != 1 {
					t.Errorf("orderBy %v: document %d seen %d times", orderBy, i, seen[float64(i)])
				}
			}
		}
	})

	t.Run("a unique index refuses repeats and names its paths", func(t *testing.T) {
		c := client(t)
		c.ok("ensureIndex", "users", []string{"email"}, map[string]any{"unique": true})
		c.ok("ensureIndex", "users", "email", map[string]any{"unique": true}) // again: nothing to do
		ann := decodeInto[inserted](t, c.ok("insert", "users", map[string]any{"email": "ann@example.com"}))
		bob := decodeInto[inserted](t, c.ok("insert", "users", map[string]any{"email": "bob@example.com"}))
		c.ok("insert", "users", map[string]any{"name": "no email"})
		c.ok("insert", "users", map[string]any{"name": "no email"})
		msg := c.fails("Error", "data.duplicate", "insert", "users", map[string]any{"email": "ann@example.com"})
		if !strings.Contains(msg, `"email"`) {
			t.Errorf("the message does not name the path: %s", msg)
		}
		c.fails("Error", "data.duplicate", "update", "users", bob.ID, map[string]any{"email": "ann@example.com"})
		c.fails("Error", "data.duplicate", "replace", "users", bob.ID, map[string]any{"email": "ann@example.com"}, map[string]any{"ifVersion": bob.Version})
		if got := c.ok("count", "users", map[string]any{"email": "ann@example.com"}); got != "1" {
			t.Errorf("ann's email is in %s documents", got)
		}
		if got := c.ok("get", "users", bob.ID); !strings.Contains(got, "bob@") {
			t.Errorf("a refused update changed bob: %s", got)
		}
		msg = c.fails("Error", "data.duplicate", "ensureIndex", "users", []string{"name"}, map[string]any{"unique": true})
		if !strings.Contains(msg, "name") {
			t.Errorf("the message does not name the path: %s", msg)
		}
		c.ok("insert", "users", map[string]any{"name": "no email"}) // no unique index on name was left behind
		c.ok("delete", "users", ann.ID)
		c.ok("insert", "users", map[string]any{"email": "ann@example.com"})
	})

	t.Run("isolation between apps", func(t *testing.T) {
		ca, cb := client(t), client(t, "Host", "other.test")
		names := []string{"secrets", "../secrets", "/apps/" + otherID + "/secrets", otherID, "secrets\u200b", "𝔰𝔢𝔠𝔯𝔢𝔱𝔰",
			strings.Repeat("é", 128), "' OR '1'='1", "posts"}
		ids := map[string]string{}
		for _, n := range names {
			ins := decodeInto[inserted](t, ca.ok("insert", n, map[string]any{"secret": "A's", "email": "same@x"}))
			ids[n] = ins.ID
		}
		for _, n := range names {
			id := ids[n]
			if got := cb.ok("get", n, id); got != "null" {
				t.Errorf("B reads A's %.40q: %s", n, got)
			}
			if got := cb.ok("replace", n, id, map[string]any{"secret": "B's"}); got != "null" {
				t.Errorf("B replaces A's %q: %s", n, got)
			}
			if got := cb.ok("update", n, id, map[string]any{"secret": "B's"}); got != "null" {
				t.Errorf("B updates A's %q: %s", n, got)
			}
			cb.fails("Error", "data.version_mismatch", "update", n, id, map[string]any{"secret": "B's"}, map[string]any{"ifVersion": 1})
			if got := cb.ok("delete", n, id); got != "false" {
				t.Errorf("B deletes A's %q: %s", n, got)
			}
			if got := cb.ok("find", n, map[string]any{"where": map[string]any{"secret": "A's"}}); got != `{"items":[],"cursor":null,"complete":true}` {
				t.Errorf("B finds in A's %q: %s", n, got)
			}
			if got := cb.ok("count", n); got != "0" {
				t.Errorf("B counts A's %q: %s", n, got)
			}
			// B's unique index sees only B's documents, and A's none of B's.
			cb.ok("ensureIndex", n, "email", map[string]any{"unique": true})
			cb.ok("insert", n, map[string]any{"email": "same@x"})
			ca.ok("insert", n, map[string]any{"email": "same@x"})
		}
		for _, n := range names {
			if got := ca.ok("get", n, ids[n]); !strings.Contains(got, `"secret":"A's"`) {
				t.Errorf("A's %q became %s", n, got)
			}
			if got := ca.ok("count", n, map[string]any{"email": "same@x"}); got != "2" {
				t.Errorf("A's %q has %s documents of its own", n, got)
			}
		}
	})

	t.Run("bad input is refused and changes nothing", func(t *testing.T) {
		c := client(t)
		ins := decodeInto[inserted](t, c.ok("insert", "bad", map[string]any{"n": 1}))
		before := c.ok("get", "bad", ins.ID)
		c.fails("TypeError", "data.invalid", "insert", "bad", []int{1})
		c.fails("TypeError", "data.invalid", "insert", "bad", "text")
		c.fails("TypeError", "data.invalid", "insert", "bad", nil)
		c.fails("TypeError", "data.invalid", "get", "bad", 42)
		c.fails("TypeError", "data.invalid", "update", "bad", ins.ID, []int{1})
		c.fails("TypeError", "data.invalid", "update", "bad", ins.ID, map[string]any{"s": "nul\u0000"})
		msg := c.fails("RangeError", "data.too_large", "replace", "bad", ins.ID, map[string]any{"s": strings.Repeat("x", 1<<20)})
		if !strings.Contains(msg, ins.ID) {
			t.Errorf("the oversized document's error does not name its id: %s", msg)
		}
		c.fails("RangeError", "data.too_large", "update", "bad", ins.ID, map[string]any{"s": strings.Repeat("x", 1<<20)})
		c.fails("RangeError", "data.too_large", "insert", "bad", map[string]any{"s": strings.Repeat("x", 1<<20)})
		c.fails("TypeError", "data.invalid", "find", "bad", map[string]any{"where": []int{1}})
		msg = c.fails("TypeError", "data.invalid", "find", "bad", map[string]any{"where": map[string]any{"n": map[string]any{"$regex": "."}}})
		if !strings.Contains(msg, "$regex") {
			t.Errorf("the unknown operator is not named: %s", msg)
		}
		c.fails("TypeError", "data.invalid", "find", "bad", map[string]any{"where": map[string]any{"n": map[string]any{"$gt": []int{1}}}})
		c.fails("TypeError", "data.invalid", "find", "bad", map[string]any{"where": map[string]any{"$or": []any{}}})
		c.fails("TypeError", "data.invalid", "find", "bad", map[string]any{"orderBy": []any{[]string{"n", "up"}}})
		c.fails("TypeError", "data.invalid", "find", "bad", map[string]any{"limit": 5000})
		c.fails("TypeError", "data.invalid", "find", "bad", map[string]any{"cursor": "not-a-cursor"})
		c.fails("TypeError", "data.invalid", "count", "bad", map[string]any{"n": map[string]any{"$exists": "yes"}})
		c.fails("TypeError", "data.invalid", "ensureIndex", "bad", []string{})
		c.fails("TypeError", "data.invalid", "ensureIndex", "bad", "a..b")
		// A cursor goes with its query: not another collection's, order's
		// or where's, and not tampered with.
		for range 3 {
			c.ok("insert", "bad", map[string]any{"n": 2})
		}
		p := decodeInto[docsPage](t, c.ok("find", "bad", map[string]any{"limit": 1}))
		if p.Cursor == nil {
			t.Fatalf("no cursor: %+v", p)
		}
		c.fails("TypeError", "data.invalid", "find", "ops", map[string]any{"limit": 1, "cursor": *p.Cursor})
		c.fails("TypeError", "data.invalid", "find", "bad", map[string]any{"limit": 1, "cursor": *p.Cursor, "where": map[string]any{"n": 2}})
		c.fails("TypeError", "data.invalid", "find", "bad", map[string]any{"limit": 1, "cursor": *p.Cursor, "orderBy": []string{"n"}})
		cur := []byte(*p.Cursor)
		cur[len(cur)/2] ^= 1
		c.fails("TypeError", "data.invalid", "find", "bad", map[string]any{"limit": 1, "cursor": string(cur)})
		if got := c.ok("get", "bad", ins.ID); got != before {
			t.Errorf("refused calls changed the document: %s, was %s", got, before)
		}
		if got := c.ok("count", "bad"); got != "4" {
			t.Errorf("refused calls left %s documents", got)
		}
	})
}

// TestDataDocsInProcess checks docs where scripts run inside the daemon
// (PICLOUD_EXECUTOR_MODE=inprocess): the same data service, the same app
// boundary.
func TestDataDocsInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), "PICLOUD_EXECUTOR_MODE=inprocess")
	d.startAsOwner()
	d.deploy("", "docs", docsScript, "*", "/docs")
	created := d.call("POST", "/api/v1/admin/apps", `{"name":"other"}`)
	d.expect(created, 201)
	otherID := created.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/apps/"+otherID+"/domains", `{"pattern":"other.test"}`), 201)
	d.deploy(otherID, "docs-other", docsScript, "*", "/docs")
	a := kvClient{d: d, path: "/docs"}
	b := kvClient{d: d, host: []string{"Host", "other.test"}, path: "/docs"}
	ins := decodeInto[inserted](t, a.ok("insert", "c", map[string]any{"n": 1}))
	if got := a.ok("find", "c", map[string]any{"where": map[string]any{"n": map[string]any{"$gte": 1}}}); !strings.Contains(got, ins.ID) {
		t.Errorf("find: %s", got)
	}
	if got := b.ok("get", "c", ins.ID); got != "null" {
		t.Errorf("app B reads app A's document: %s", got)
	}
	if got := b.ok("count", "c"); got != "0" {
		t.Errorf("app B counts app A's documents: %s", got)
	}
}
