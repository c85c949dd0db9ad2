package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// kvScript runs one kv call that the request describes: {op, collection,
// args}, answering {ok: result} or, when the call throws, 400 with {error:
// {name, code, message}}.
const kvScript = `import { kv } from "picloud"
export default async (req) => {
  const { op, collection, args } = await req.json()
  try {
    const c = kv.collection(collection)
    if (op === "putBytes") args[1] = new Uint8Array(args[1])
    let r = await c[op === "putBytes" ? "put" : op](...args)
    if (r instanceof Map) r = Object.fromEntries(r)
    if (r instanceof ArrayBuffer) r = { bytes: Array.from(new Uint8Array(r)) }
    if (r && r.value instanceof ArrayBuffer) r.value = { bytes: Array.from(new Uint8Array(r.value)) }
    return Response.json({ ok: r === undefined ? null : r })
  } catch (e) {
    return Response.json({ error: { name: e.name, code: e.code ?? null, message: e.message } }, { status: 400 })
  }
}`

// kvClient sends kv calls to the kv script of one app (or, with path,
// calls of another data module to its script).
type kvClient struct {
	d    *daemon
	host []string // the Host header reaching the app, if not the default
	path string   // the script's route; "/kv" if empty
}

type kvReply struct {
	Ok    json.RawMessage `json:"ok"`
	Error *struct {
		Name, Code, Message string
	} `json:"error"`
}

func (c kvClient) do(op, collection string, args ...any) kvReply {
	c.d.t.Helper()
	if args == nil {
		args = []any{}
	}
	path := c.path
	if path == "" {
		path = "/kv"
	}
	r := c.d.call("POST", path, mustJSON(map[string]any{"op": op, "collection": collection, "args": args}), c.host...)
	var out kvReply
	if err := json.Unmarshal([]byte(r.body), &out); err != nil || (r.status != 200 && out.Error == nil) {
		c.d.t.Fatalf("%s %q: %d %s", op, collection, r.status, r.body)
	}
	return out
}

// ok runs a call that must succeed and returns its result as JSON text.
func (c kvClient) ok(op, collection string, args ...any) string {
	c.d.t.Helper()
	r := c.do(op, collection, args...)
	if r.Error != nil {
		c.d.t.Fatalf("%s %q %v: %+v", op, collection, args, *r.Error)
	}
	return string(r.Ok)
}

// fails runs a call that must throw an error of that name and code, whose
// message contains each of contains.
func (c kvClient) fails(name, code string, op, collection string, args ...any) string {
	c.d.t.Helper()
	r := c.do(op, collection, args...)
	if r.Error == nil {
		c.d.t.Fatalf("%s %q %v succeeded: %s", op, collection, args, r.Ok)
	}
	if r.Error.Name != name || r.Error.Code != code {
		c.d.t.Fatalf("%s %q %v: %+v, want %s %s", op, collection, args, *r.Error, name, code)
	}
	return r.Error.Message
}

func TestDataKV(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	const wall, grace = 2 * time.Second, 300 * time.Millisecond
	bin := buildBinary(t)
	d := newDaemon(t, bin,
		"PICLOUD_MAX_CONCURRENT_EXECUTIONS=64",
		"PICLOUD_MAX_REQUEST_BODY_BYTES=4194304",
		"PICLOUD_SANDBOX_WALL_TIME_MS="+strconv.Itoa(int(wall/time.Millisecond)),
		"PICLOUD_EXECUTOR_KILL_GRACE_MS="+strconv.Itoa(int(grace/time.Millisecond)),
	)
	d.startAsOwner()
	deploy := func(name, src, path, appID string) string {
		t.Helper()
		return d.deploy(appID, name, src, "*", path)
	}
	deploy("kv", kvScript, "/kv", "")
	other := d.call("POST", "/api/v1/admin/apps", `{"name":"other"}`)
	d.expect(other, 201)
	otherID := other.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/apps/"+otherID+"/domains", `{"pattern":"other.test"}`), 201)
	deploy("kv-other", kvScript, "/kv", otherID)
	a := kvClient{d: d}
	b := kvClient{d: d, host: []string{"Host", "other.test"}}

	t.Run("values round-trip with versions and metadata", func(t *testing.T) {
		c := kvClient{d: &daemon{t: t, url: d.url, token: d.token}}
		v1 := c.ok("put", "basic", "text", "héllo")
		c.ok("put", "basic", "json", map[string]any{"a": []int{1, 2}}, map[string]any{"metadata": map[string]string{"by": "test"}})
		c.ok("putBytes", "basic", "bytes", []int{0, 1, 255})
		if got := c.ok("get", "basic", "text"); got != `"héllo"` {
			t.Errorf("get text: %s", got)
		}
		if got := c.ok("get", "basic", "json"); got != `{"a":[1,2]}` {
			t.Errorf("get json: %s", got)
		}
		if got := c.ok("get", "basic", "json", map[string]string{"type": "text"}); got != `"{\"a\":[1,2]}"` {
			t.Errorf("get json as text: %s", got)
		}
		if got := c.ok("get", "basic", "bytes"); got != `{"bytes":[0,1,255]}` {
			t.Errorf("get bytes: %s", got)
		}
		if got := c.ok("get", "basic", "text", map[string]string{"type": "arrayBuffer"}); got != `{"bytes":[104,195,169,108,108,111]}` {
			t.Errorf("get text as arrayBuffer: %s", got)
		}
		if got := c.ok("get", "basic", "absent"); got != "null" {
			t.Errorf("get absent: %s", got)
		}
		meta := c.ok("getWithMetadata", "basic", "json")
		if !strings.Contains(meta, `"metadata":{"by":"test"}`) || !strings.Contains(meta, `"expiresAt":null`) {
			t.Errorf("getWithMetadata: %s", meta)
		}
		v2 := c.ok("put", "basic", "text", "again")
		if version(t, v2) <= version(t, v1) {
			t.Errorf("versions do not grow: %s then %s", v1, v2)
		}
		if got := c.ok("getMany", "basic", []string{"text", "absent", "json"}); got != `{"text":"again","absent":null,"json":{"a":[1,2]}}` {
			t.Errorf("getMany: %s", got)
		}
		if got := c.ok("delete", "basic", "text"); got != "true" {
			t.Errorf("delete: %s", got)
		}
		if got := c.ok("delete", "basic", "text"); got != "false" {
			t.Errorf("delete again: %s", got)
		}
		if got := c.ok("get", "basic", "text"); got != "null" {
			t.Errorf("get after delete: %s", got)
		}
	})

	t.Run("list pages by prefix, range and cursor, under inserts", func(t *testing.T) {
		c := kvClient{d: &daemon{t: t, url: d.url, token: d.token}}
		for i := range 25 {
			c.ok("put", "list", fmt.Sprintf("user:%02d", i), i)
		}
		c.ok("put", "list", "other", 1)
		var keys []string
		cursor, inserted := "", 0
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("list never completes")
			}
			opts := map[string]any{"prefix": "user:", "limit": 10, "values": true}
			if cursor != "" {
				opts["cursor"] = cursor
			}
			var page struct {
				Items []struct {
					Key   string
					Value int
				}
				Cursor   *string
				Complete bool
			}
			if err := json.Unmarshal([]byte(c.ok("list", "list", opts)), &page); err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				if it.Value < 0 {
					inserted++ // one written while paging
					continue
				}
				if want := fmt.Sprintf("user:%02d", it.Value); it.Key != want {
					t.Errorf("item %s has value %d", it.Key, it.Value)
				}
				keys = append(keys, it.Key)
			}
			// Others write while this client pages, behind and ahead of
			// its position.
			c.ok("put", "list", fmt.Sprintf("user:%02d5", pages*10), -1)
			c.ok("put", "list", fmt.Sprintf("user:%02d5", pages*10+15), -1)
			if page.Complete {
				if page.Cursor != nil {
					t.Errorf("a complete page has a cursor")
				}
				break
			}
			cursor = *page.Cursor
		}
		for i, k := range keys {
			if want := fmt.Sprintf("user:%02d", i); k != want {
				t.Fatalf("paging under inserts listed %v (and %d new keys)", keys, inserted)
			}
		}
		if len(keys) != 25 {
			t.Errorf("listed %d keys: %v", len(keys), keys)
		}
		rev := c.ok("list", "list", map[string]any{"start": "user:11", "end": "user:13", "reverse": true})
		var r struct{ Items []struct{ Key string } }
		_ = json.Unmarshal([]byte(rev), &r)
		if len(r.Items) != 2 || r.Items[0].Key != "user:12" || r.Items[1].Key != "user:11" {
			t.Errorf("reverse range: %s", rev)
		}
	})

	t.Run("isolation between apps", func(t *testing.T) {
		da := &daemon{t: t, url: d.url, token: d.token}
		ca, cb := kvClient{d: da}, kvClient{d: da, host: b.host}
		names := []string{"secrets", "../secrets", "/apps/" + otherID + "/secrets", otherID, "secrets\u200b", "𝔰𝔢𝔠𝔯𝔢𝔱𝔰",
			strings.Repeat("é", 128), "' OR '1'='1"}
		keys := []string{"k", otherID, "../k", strings.Repeat("🔑", 256), "%", "_"}
		for _, n := range names {
			for _, k := range keys {
				ca.ok("put", n, k, "A's secret")
			}
		}
		for _, n := range names {
			for _, k := range keys {
				if got := cb.ok("get", n, k); got != "null" {
					t.Errorf("B reads A's %.40q/%.40q: %s", n, k, got)
				}
				if got := cb.ok("delete", n, k); got != "false" {
					t.Errorf("B deletes A's %q/%q: %s", n, k, got)
				}
				cb.fails("Error", "data.version_mismatch", "put", n, k, "B's", map[string]any{"ifVersion": 1})
			}
			if got := cb.ok("list", n); got != `{"items":[],"cursor":null,"complete":true}` {
				t.Errorf("B lists A's %q: %s", n, got)
			}
			if got := cb.ok("getMany", n, keys); strings.Contains(got, "secret") {
				t.Errorf("B's getMany of %q: %s", n, got)
			}
			cb.ok("put", n, "k", "B's own")
			cb.ok("incr", n, "n")
		}
		for _, n := range names {
			for _, k := range keys {
				if got := ca.ok("get", n, k); got != `"A's secret"` {
					t.Errorf("A's %q/%q became %s", n, k, got)
				}
			}
			if got := ca.ok("get", n, "n"); got != "null" {
				t.Errorf("B's incr reached A's %q: %s", n, got)
			}
		}
	})

	t.Run("32 concurrent incr and ifVersion loops lose no update", func(t *testing.T) {
		deploy("loop", `import { kv } from "picloud"
export default async () => {
  const c = kv.collection("race")
  for (let tries = 0; tries < 200; tries++) {
    const cur = await c.getWithMetadata("cas")
    try {
      await c.put("cas", (cur.value ?? 0) + 1, { ifVersion: cur.version })
      return Response.json({ tries })
    } catch (e) {
      if (e.code !== "data.version_mismatch") throw e
    }
  }
  return new Response("gave up", { status: 409 })
}`, "/cas", "")
		var wg sync.WaitGroup
		errs := make(chan string, 64)
		for range 32 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				if r, err := d.send(http.DefaultClient, "POST", "/kv", `{"op":"incr","collection":"race","args":["n"]}`, a.host...); err != nil || r.status != 200 {
					errs <- fmt.Sprint(r.body, err)
				}
			}()
			go func() {
				defer wg.Done()
				if r, err := d.send(http.DefaultClient, "POST", "/cas", ""); err != nil || r.status != 200 {
					errs <- fmt.Sprint(r.body, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("a request failed: %s", e)
		}
		c := kvClient{d: &daemon{t: t, url: d.url, token: d.token}}
		if got := c.ok("get", "race", "n"); got != "32" {
			t.Errorf("32 incr made %s", got)
		}
		if got := c.ok("get", "race", "cas"); got != "32" {
			t.Errorf("32 ifVersion loops made %s", got)
		}
	})

	t.Run("ifVersion mismatch changes nothing", func(t *testing.T) {
		c := kvClient{d: &daemon{t: t, url: d.url, token: d.token}}
		v := version(t, c.ok("put", "cas", "k", "first", map[string]any{"ifVersion": nil}))
		msg := c.fails("Error", "data.version_mismatch", "put", "cas", "k", "second", map[string]any{"ifVersion": nil})
		if !strings.Contains(msg, `"k"`) {
			t.Errorf("the message does not name the key: %s", msg)
		}
		c.fails("Error", "data.version_mismatch", "put", "cas", "k", "third", map[string]any{"ifVersion": v + 1000})
		c.fails("Error", "data.version_mismatch", "delete", "cas", "k", map[string]any{"ifVersion": v + 1000})
		if got := c.ok("get", "cas", "k"); got != `"first"` {
			t.Errorf("after mismatches: %s", got)
		}
		v2 := version(t, c.ok("put", "cas", "k", "fourth", map[string]any{"ifVersion": v}))
		if got := c.ok("delete", "cas", "k", map[string]any{"ifVersion": v2}); got != "true" {
			t.Errorf("delete at its version: %s", got)
		}
	})

	t.Run("expired keys vanish at once", func(t *testing.T) {
		c := kvClient{d: &daemon{t: t, url: d.url, token: d.token}}
		c.ok("put", "ttl", "long", "stays", map[string]any{"ttl": 3600})
		at := float64(time.Now().Add(1500 * time.Millisecond).UnixMilli())
		c.ok("put", "ttl", "short", "goes", map[string]any{"expiresAt": at})
		got := c.ok("getWithMetadata", "ttl", "short")
		if !strings.Contains(got, `"value":"goes"`) || !strings.Contains(got, fmt.Sprintf(`"expiresAt":%d`, int64(at))) {
			t.Fatalf("before expiry: %s", got)
		}
		testkit.Eventually(t, 10*time.Second, "the key expires", func() error {
			if time.Now().UnixMilli() < int64(at) {
				return fmt.Errorf("not yet expired")
			}
			if got := c.ok("get", "ttl", "short"); got != "null" {
				return fmt.Errorf("an expired key reads %s", got)
			}
			return nil
		})
		if got := c.ok("list", "ttl"); strings.Contains(got, "short") || !strings.Contains(got, "long") {
			t.Errorf("list after expiry: %s", got)
		}
		// Expired is absent: ifVersion null may write it again, incr starts over.
		c.ok("put", "ttl", "short", 5, map[string]any{"ifVersion": nil})
		c.fails("TypeError", "data.invalid", "put", "ttl", "past", "x", map[string]any{"expiresAt": 1000})
		c.fails("TypeError", "data.invalid", "put", "ttl", "neg", "x", map[string]any{"ttl": -1})
	})

	t.Run("bad input is refused and changes nothing", func(t *testing.T) {
		c := kvClient{d: &daemon{t: t, url: d.url, token: d.token}}
		c.fails("TypeError", "data.invalid", "get", "bad", 42)
		c.fails("TypeError", "data.invalid", "get", "bad", "")
		c.fails("TypeError", "data.invalid", "get", "", "k")
		c.fails("TypeError", "data.invalid", "put", "bad", "k", nil, map[string]any{"ttl": "soon"})
		c.fails("TypeError", "data.invalid", "get", "bad", "k", map[string]string{"type": "xml"})
		c.fails("RangeError", "data.too_large", "get", "bad", strings.Repeat("k", 1025))
		c.fails("RangeError", "data.too_large", "put", "bad", "k", "v", map[string]any{"metadata": strings.Repeat("m", 1100)})
		msg := c.fails("RangeError", "data.too_large", "put", "bad", "huge-key", strings.Repeat("v", 1<<20+1))
		if !strings.Contains(msg, "huge-key") {
			t.Errorf("the oversized value's error does not name the key: %s", msg)
		}
		c.fails("TypeError", "data.invalid", "list", "bad", map[string]any{"cursor": "not-a-cursor"})
		c.fails("TypeError", "data.invalid", "list", "bad", map[string]any{"limit": 5000})
		c.fails("TypeError", "data.invalid", "list", "bad", map[string]any{"prefix": "a", "start": "b"})
		c.fails("RangeError", "data.too_large", "getMany", "bad", make([]string, 101))
		c.ok("put", "bad", "word", "text")
		c.fails("Error", "data.not_a_number", "incr", "bad", "word")
		c.fails("TypeError", "data.invalid", "incr", "bad", "word", "1")
		if got := c.ok("get", "bad", "word"); got != `"text"` {
			t.Errorf("incr of a string changed it to %s", got)
		}
		var page struct{ Items []struct{ Key string } }
		if err := json.Unmarshal([]byte(c.ok("list", "bad")), &page); err != nil || len(page.Items) != 1 || page.Items[0].Key != "word" {
			t.Errorf("refused calls left keys behind: %+v", page)
		}
	})

	t.Run("data call limit", func(t *testing.T) {
		id := deploy("greedy", `import { kv } from "picloud"
export default async () => { const c = kv.collection("greedy"); for (let i = 0; i < 10; i++) await c.get("k"); return "done" }`, "/greedy", "")
		d.expect(d.call("GET", "/greedy", ""), 200, "done")
		d.expect(d.call("PUT", "/api/v1/admin/scripts/"+id+"/limits", `{"data_calls": 5}`), 200)
		d.expect(d.call("GET", "/greedy", ""), 500, "limit.data_calls")
		d.expect(d.call("PUT", "/api/v1/admin/scripts/"+id+"/limits", `{"data_calls": 1000000}`), 400, "PICLOUD_SANDBOX_MAX_DATA_CALLS")
	})

	t.Run("a killed worker leaves no half-written value", func(t *testing.T) {
		// The script keeps writes in flight until its worker is killed.
		id := deploy("writer", `import { kv } from "picloud"
export default async () => {
  const c = kv.collection("killed")
  const big = "x".repeat(64 * 1024)
  for (let i = 0; ; i++) {
    const p = c.put("k" + i, big + i)
    if (i % 8 === 7) await p
  }
}`, "/writer", "")
		d.expect(d.call("PUT", "/api/v1/admin/scripts/"+id+"/limits", `{"wall_time_ms": 30000}`), 200)
		answered := make(chan reply, 1)
		go func() {
			r, err := d.send(http.DefaultClient, "GET", "/writer", "")
			if err != nil {
				r.body = err.Error()
			}
			answered <- r
		}()
		c := kvClient{d: &daemon{t: t, url: d.url, token: d.token}}
		testkit.Eventually(t, 20*time.Second, "the writer's first keys land", func() error {
			if n := strings.Count(c.ok("list", "killed", map[string]any{"limit": 20}), `"key"`); n < 20 {
				return fmt.Errorf("%d keys", n)
			}
			return nil
		})
		var sys struct {
			Workers []struct {
				PID int `json:"pid"`
			} `json:"workers"`
		}
		if err := json.Unmarshal([]byte(d.call("GET", "/api/v1/admin/system", "").body), &sys); err != nil || len(sys.Workers) == 0 {
			t.Fatalf("system status: %v %+v", err, sys)
		}
		for _, w := range sys.Workers {
			if w.PID != 0 {
				_ = syscall.Kill(w.PID, syscall.SIGKILL)
			}
		}
		r := testkit.Receive(t, 30*time.Second, "the writer's answer", answered)
		if r.status == 200 || !strings.Contains(r.body, "executor.") {
			t.Fatalf("the killed execution answered %d %s", r.status, r.body)
		}
		big := strings.Repeat("x", 64*1024)
		seen, cursor := 0, ""
		for {
			opts := map[string]any{"values": true, "limit": 50}
			if cursor != "" {
				opts["cursor"] = cursor
			}
			var page struct {
				Items []struct {
					Key   string
					Value string
				}
				Cursor   string
				Complete bool
			}
			if err := json.Unmarshal([]byte(c.ok("list", "killed", opts)), &page); err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				if it.Value != big+strings.TrimPrefix(it.Key, "k") {
					t.Errorf("key %s holds %d bytes that are not what was written", it.Key, len(it.Value))
				}
			}
			seen += len(page.Items)
			if page.Complete {
				break
			}
			cursor = page.Cursor
		}
		t.Logf("%d writes landed whole before the kill", seen)
	})
}

// version is the version of a put's result.
func version(t *testing.T, result string) int64 {
	t.Helper()
	var r struct{ Version int64 }
	if err := json.Unmarshal([]byte(result), &r); err != nil || r.Version < 1 {
		t.Fatalf("no version in %s", result)
	}
	return r.Version
}

// TestDataKVInProcess checks kv where scripts run inside the daemon
// (PICLOUD_EXECUTOR_MODE=inprocess): the same data service, the same app
// boundary.
func TestDataKVInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), "PICLOUD_EXECUTOR_MODE=inprocess")
	d.startAsOwner()
	for _, app := range []string{"", "other"} {
		body := map[string]string{"name": "kv" + app, "source": kvScript}
		if app != "" {
			created := d.call("POST", "/api/v1/admin/apps", `{"name":"other"}`)
			d.expect(created, 201)
			appID := created.field(t, "id").(string)
			d.expect(d.call("POST", "/api/v1/admin/apps/"+appID+"/domains", `{"pattern":"other.test"}`), 201)
			body["app_id"] = appID
		}
		sc := d.call("POST", "/api/v1/admin/scripts", mustJSON(body))
		d.expect(sc, 201)
		d.expect(d.call("POST", "/api/v1/admin/scripts/"+sc.field(t, "id").(string)+"/routes", `{"method":"*","path":"/kv"}`), 201)
	}
	a := kvClient{d: d}
	b := kvClient{d: d, host: []string{"Host", "other.test"}}
	a.ok("put", "c", "k", "A's")
	if got := a.ok("incr", "c", "n", 2); !strings.Contains(got, `"value":2`) {
		t.Errorf("incr: %s", got)
	}
	if got := b.ok("get", "c", "k"); got != "null" {
		t.Errorf("app B reads app A's key: %s", got)
	}
	b.ok("put", "c", "k", "B's")
	if got := a.ok("get", "c", "k"); got != `"A's"` {
		t.Errorf("app A's key became %s", got)
	}
}
