package engine

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// answeringData answers each op with a fixed JSON text and records the
// calls it was sent: what the engine's side of the kv SDK sends and how it
// reads the answers (the data service's side is tested with it, through
// the daemon, in cmd/picloud).
type answeringData struct {
	mu      sync.Mutex
	answers map[string]string
	calls   []string // op collection args tx
}

func (d *answeringData) Call(_ context.Context, _ string, c DataCall) (DataResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, c.Op+" "+c.Collection+" "+string(c.Args)+" "+string(rune('0'+c.Tx)))
	return DataResult{Value: []byte(d.answers[c.Op])}, nil
}

func kvRun(t *testing.T, d *answeringData, body string) string {
	t.Helper()
	x := NewInProcess(Options{Data: d})
	res := runWith(t, x, JavaScript, `import { kv, db } from "picloud"
export default async () => { const out = []; `+body+`; return Response.json(out) }`, func(inv *Invocation) { inv.AppID = "a" })
	return respBody(t, res)
}

// Bad arguments reject with the SDK's errors, before anything is sent.
func TestKVArgumentErrors(t *testing.T) {
	d := &answeringData{}
	got := kvRun(t, d, `
const c = kv.collection("c")
const cases = [
  () => c.get(42), () => c.get(""), () => c.get("a\u0000b"), () => c.get("k".repeat(1025)),
  () => c.get(null), () => c.get("k", { type: "xml" }), () => c.get("k", "xml"), () => c.get("k", 5),
  () => c.put("k", undefined), () => c.put("k", () => 1), () => c.put("k", Symbol("s")), () => c.put("k", 1n),
  () => c.put("k", 1, { ttl: 1, expiresAt: 2 }), () => c.put("k", 1, { ttl: -1 }), () => c.put("k", 1, { ttl: "soon" }),
  () => c.put("k", 1, { expiresAt: "x" }), () => c.put("k", 1, { metadata: "m".repeat(1100) }),
  () => c.put("k", 1, { metadata: () => 1 }), () => c.put("k", 1, { ifVersion: 0 }), () => c.put("k", 1, { ifVersion: 1.5 }),
  () => c.delete("k", { ifVersion: "1" }), () => c.incr("k", "1"), () => c.incr("k", Infinity),
  () => c.getMany("k"), () => c.getMany(new Array(101).fill("k")), () => c.getMany(["a", 3]),
  () => c.list({ prefix: 1 }), () => c.list({ prefix: "a", start: "b" }), () => c.list({ limit: 5000 }), () => c.list({ limit: 1.5 }),
  () => c.list({ type: "xml" }), () => c.list(7),
  () => c.put("k", 1, { ttl: Symbol("s") }), () => c.incr("k", { valueOf() { out.push("valueOf called"); return 1 } }),
  () => c.put("k", 1, { ifVersion: Symbol("s") }), () => c.list({ limit: { valueOf() { return 5 } } }),
  () => c.put("k", (() => { const o = {}; o.o = o; return o })()),
]
for (const f of cases) {
  const p = f()
  if (!(p instanceof Promise)) { out.push("not a promise"); continue }
  try { await p; out.push("resolved") } catch (e) { out.push(e.name + " " + (e.code || "-") + ": " + e.message) }
}
try { kv.collection("") } catch (e) { out.push("sync " + e.name + " " + e.code + ": " + e.message) }
try { kv.collection("n".repeat(257)) } catch (e) { out.push("sync " + e.name + " " + e.code + ": " + e.message) }
const get = c.get
try { await get("k") } catch (e) { out.push(e.name + ": " + e.message) }
try { await c.get.call({ get x() { out.push("a getter of this was read") } }, "k") } catch (e) { out.push(e.name + ": " + e.message) }
`)
	var lines []string
	if err := json.Unmarshal([]byte(got), &lines); err != nil {
		t.Fatal(got, err)
	}
	want := []string{
		"TypeError data.invalid: a key must be a string, not number",
		"TypeError data.invalid: a key must not be empty",
		"TypeError data.invalid: a key must not contain NUL characters",
		"RangeError data.too_large: a key is longer than 1024 bytes",
		"TypeError data.invalid: a key must be a string, not null",
		`TypeError data.invalid: type must be "text", "json" or "arrayBuffer", not "xml"`,
		`TypeError data.invalid: type must be "text", "json" or "arrayBuffer", not "xml"`,
		"TypeError data.invalid: get: the options must be an object",
		`TypeError data.invalid: put("k"): a value must be a string, an ArrayBuffer or a JSON value, not undefined`,
		`TypeError data.invalid: put("k"): a value must be a string, an ArrayBuffer or a JSON value, not function`,
		`TypeError data.invalid: put("k"): a value must be a string, an ArrayBuffer or a JSON value, not symbol`,
		`TypeError data.invalid: put("k"): a value must be a string, an ArrayBuffer or a JSON value, not bigint`,
		"TypeError data.invalid: put: give ttl or expiresAt, not both",
		"TypeError data.invalid: put: ttl must be a positive number of seconds",
		"TypeError data.invalid: put: ttl must be a positive number of seconds",
		"TypeError data.invalid: put: expiresAt must be a Date or milliseconds since the epoch",
		`RangeError data.too_large: put("k"): metadata is larger than 1024 bytes of JSON`,
		`TypeError data.invalid: put("k"): metadata must be a JSON value`,
		`TypeError data.invalid: put("k"): ifVersion must be a version number, or null for "only if absent"`,
		`TypeError data.invalid: put("k"): ifVersion must be a version number, or null for "only if absent"`,
		`TypeError data.invalid: delete("k"): ifVersion must be a version number, or null for "only if absent"`,
		`TypeError data.invalid: incr("k"): delta must be a finite number`,
		`TypeError data.invalid: incr("k"): delta must be a finite number`,
		"TypeError data.invalid: getMany: keys must be an array of strings",
		"RangeError data.too_large: getMany: at most 100 keys at once, not 101",
		"TypeError data.invalid: a key must be a string, not number",
		"TypeError data.invalid: list: prefix must be a string",
		"TypeError data.invalid: list: give prefix or start/end, not both",
		"TypeError data.invalid: list: limit must be an integer from 1 to 1000",
		"TypeError data.invalid: list: limit must be an integer from 1 to 1000",
		`TypeError data.invalid: type must be "text", "json" or "arrayBuffer", not "xml"`,
		"TypeError data.invalid: list: the options must be an object",
		"TypeError data.invalid: put: ttl must be a positive number of seconds",
		`TypeError data.invalid: incr("k"): delta must be a finite number`,
		`TypeError data.invalid: put("k"): ifVersion must be a version number, or null for "only if absent"`,
		"TypeError data.invalid: list: limit must be an integer from 1 to 1000",
	}
	if len(lines) < len(want)+5 {
		t.Fatalf("got %d lines: %s", len(lines), got)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("case %d: got %q, want %q", i, lines[i], w)
		}
	}
	rest := lines[len(want):]
	if !strings.HasPrefix(rest[0], "TypeError -: ") || !strings.Contains(rest[0], "ircular") {
		t.Errorf("a cyclic value: %q, want JSON.stringify's TypeError", rest[0])
	}
	if rest[1] != "sync TypeError data.invalid: a collection name must not be empty" ||
		rest[2] != "sync RangeError data.too_large: a collection name is longer than 256 bytes" {
		t.Errorf("collection names: %q", rest[1:3])
	}
	if !strings.HasPrefix(rest[3], "TypeError: kv: get must be called on a collection") {
		t.Errorf("a method without its collection: %q", rest[3])
	}
	if !strings.HasPrefix(rest[4], "TypeError: kv: get must be called on a collection") {
		t.Errorf("a method called on another object: %q", rest[4])
	}
	if len(d.calls) != 0 {
		t.Errorf("bad arguments were sent: %q", d.calls)
	}
}

// What each call sends, and what the script gets from the answers.
func TestKVCallsAndAnswers(t *testing.T) {
	d := &answeringData{answers: map[string]string{
		"kv.get":     `{"type":"bytes","value":"77u/aMOpbGxv","metadata":{"by":"me"},"version":7,"expiresAt":1700000000000}`,
		"kv.getMany": `{"a":{"type":"json","value":"[1,2]","version":1},"b":null}`,
		"kv.put":     `{"version":8}`,
		"kv.delete":  `{"deleted":true}`,
		"kv.incr":    `{"value":3,"version":9}`,
		"kv.list":    `{"items":[{"key":"a","type":"text","value":"x","version":1},{"key":"b","type":"json","value":"{\"n\":1}","metadata":[1],"version":2,"expiresAt":5}],"cursor":"cur","complete":false}`,
		"tx.begin":   `{"tx":3}`,
		"tx.commit":  `{}`,
	}}
	got := kvRun(t, d, `
const c = kv.collection("c")
out.push(c.name, Object.keys(c), Object.keys(kv), Object.isFrozen(kv) || "assign refused: " + (() => { try { kv.collection = 1; return "no" } catch (e) { return e.name } })())
const b = await c.get("k")
out.push(b instanceof ArrayBuffer, b.byteLength)
out.push(await c.get("k", "text"), await c.get("k", { type: "text" }))
out.push(await c.getWithMetadata("k", "text"))
const m = await c.getMany(["a", "b"])
out.push(m instanceof Map, [...m.keys()], m.get("a"), m.get("b"))
out.push(await c.put("k", { x: 1 }, { ttl: 60, metadata: { by: "me" }, ifVersion: null }))
out.push(await c.put("k", "text", { expiresAt: new Date(2000000000000), ifVersion: 7 }))
out.push(await c.put("k", new Uint8Array([0, 255])))
out.push(await c.delete("k", { ifVersion: 8 }))
out.push(await c.incr("n"), await c.incr("n", 2.5))
out.push(await c.list({ prefix: "a", limit: 10, reverse: true, values: true }))
out.push(await c.list())
await db.transaction(async (tx) => { out.push(await tx.kv.collection("t").incr("n")) })
`)
	want := `["c",["name"],["collection"],"assign refused: TypeError",true,9,"héllo"` +
		`,"héllo",{"value":"héllo","metadata":{"by":"me"},"version":7,"expiresAt":1700000000000}` +
		`,true,["a","b"],[1,2],null,{"version":8},{"version":8},{"version":8},true,{"value":3,"version":9},{"value":3,"version":9}` +
		`,{"items":[{"key":"a","metadata":null,"version":1,"expiresAt":null,"value":"x"},{"key":"b","metadata":[1],"version":2,"expiresAt":5,"value":{"n":1}}],"cursor":"cur","complete":false}` +
		`,{"items":[{"key":"a","metadata":null,"version":1,"expiresAt":null},{"key":"b","metadata":[1],"version":2,"expiresAt":5}],"cursor":"cur","complete":false}` +
		`,{"value":3,"version":9}]`
	if got != want {
		t.Errorf("answers:\n got %s\nwant %s", got, want)
	}
	wantCalls := []string{
		`kv.get c {"key":"k"} 0`, `kv.get c {"key":"k"} 0`, `kv.get c {"key":"k"} 0`, `kv.get c {"key":"k"} 0`,
		`kv.getMany c {"keys":["a","b"]} 0`,
		`kv.put c {"key":"k","type":"json","value":"{\"x\":1}","ttl":60,"metadata":{"by":"me"},"checkVersion":true} 0`,
		`kv.put c {"key":"k","type":"text","value":"text","expiresAt":2000000000000,"ifVersion":7,"checkVersion":true} 0`,
		`kv.put c {"key":"k","type":"bytes","value":"AP8="} 0`,
		`kv.delete c {"key":"k","ifVersion":8,"checkVersion":true} 0`,
		`kv.incr c {"key":"n","delta":1} 0`, `kv.incr c {"key":"n","delta":2.5} 0`,
		`kv.list c {"prefix":"a","limit":10,"reverse":true,"values":true} 0`,
		`kv.list c {} 0`,
		`tx.begin  {} 0`, `kv.incr t {"key":"n","delta":1} 3`, `tx.commit  {} 3`,
	}
	if strings.Join(d.calls, "\n") != strings.Join(wantCalls, "\n") {
		t.Errorf("calls:\n got %s\nwant %s", strings.Join(d.calls, "\n"), strings.Join(wantCalls, "\n"))
	}
}
