package engine

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dop251/goja"
)

func TestHandlerForms(t *testing.T) {
	tests := []struct {
		name string
		lang Language
		src  string
	}{
		{"object fetch", JavaScript, `export default { fetch(request) { return "ok " + request.method } }`},
		{"object async fetch", JavaScript, `export default { async fetch(request) { return "ok " + request.method } }`},
		{"fetch uses this", JavaScript, `export default { prefix: "ok ", fetch(request) { return this.prefix + request.method } }`},
		{"default function", JavaScript, `export default function (request) { return "ok " + request.method }`},
		{"default async function", JavaScript, `export default async function (request) { return "ok " + request.method }`},
		{"default arrow", JavaScript, `export default (request) => "ok " + request.method`},
		{"exported later", JavaScript, `const handler = { fetch: (r) => "ok " + r.method }; export { handler as default }`},
		{"awaits inside", JavaScript, `const wait = (ms) => new Promise((r) => setTimeout(r, ms))
export default { async fetch(request) { await wait(5); await null; return "ok " + request.method } }`},
		{"thenable", JavaScript, `export default () => ({ then(resolve) { resolve("ok GET") } })`},
		{"typescript", TypeScript, `
interface Reply { text: string }
type Handler = { fetch(request: Request, env: Record<string, string>): Promise<string> }
function reply(r: Request): Reply { return { text: "ok " + r.method } }
const handler: Handler = {
  async fetch(request: Request, env): Promise<string> {
    const x = <Reply>reply(request)
    return x.text
  },
}
export default handler
`},
		{"module top level runs", JavaScript, `const greeting = ["ok", "GET"].join(" ")
export default () => greeting`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runWith(t, testExecutor, tt.lang, tt.src)
			if got := respBody(t, res); got != "ok GET" {
				t.Errorf("body %q", got)
			}
		})
	}
}

func TestNoHandler(t *testing.T) {
	for _, src := range []string{
		`export default 42`,
		`export default { notFetch() {} }`,
		`export default null`,
	} {
		res := run(t, src)
		if res.Error == nil || res.Error.Code != CodeNoHandler {
			t.Errorf("%s: got %+v", src, res.Error)
		}
	}
}

func TestReturnValues(t *testing.T) {
	tests := []struct {
		name   string
		ret    string
		status int
		ctype  string
		body   string
		code   string
	}{
		{"response", `new Response("hi", { status: 201, headers: { "X-A": "1" } })`, 201, "text/plain;charset=UTF-8", "hi", ""},
		{"string", `"hello"`, 200, "text/plain; charset=utf-8", "hello", ""},
		{"empty string", `""`, 200, "text/plain; charset=utf-8", "", ""},
		{"object", `({ a: 1, b: [true, null], c: "x" })`, 200, "application/json", `{"a":1,"b":[true,null],"c":"x"}`, ""},
		{"array", `[1, "two", { three: 3 }]`, 200, "application/json", `[1,"two",{"three":3}]`, ""},
		{"key order kept", `({ z: 1, a: 2, m: 3 })`, 200, "application/json", `{"z":1,"a":2,"m":3}`, ""},
		{"undefined", `undefined`, 204, "", "", ""},
		{"null", `null`, 204, "", "", ""},
		{"promise of string", `Promise.resolve("p")`, 200, "text/plain; charset=utf-8", "p", ""},
		{"number", `42`, 0, "", "", CodeInvalidResponse},
		{"boolean", `true`, 0, "", "", CodeInvalidResponse},
		{"function", `() => 1`, 0, "", "", CodeInvalidResponse},
		{"map", `new Map()`, 0, "", "", CodeInvalidResponse},
		{"date", `new Date(0)`, 0, "", "", CodeInvalidResponse},
		{"request", `new Request("http://x/")`, 0, "", "", CodeInvalidResponse},
		{"circular", `(() => { const o = {}; o.o = o; return o })()`, 0, "", "", CodeInvalidResponse},
		{"bigint in object", `({ n: 1n })`, 0, "", "", CodeInvalidResponse},
		{"error response", `Response.error()`, 0, "", "", CodeInvalidResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "export default async () => "+tt.ret)
			if tt.code != "" {
				if res.Error == nil || res.Error.Code != tt.code {
					t.Fatalf("want error %s, got %+v / %+v", tt.code, res.Error, res.Response)
				}
				return
			}
			b := respBody(t, res)
			if res.Response.Status != tt.status || b != tt.body {
				t.Errorf("got %d %q, want %d %q", res.Response.Status, b, tt.status, tt.body)
			}
			var ct string
			if v := res.Response.Header["Content-Type"]; len(v) > 0 {
				ct = v[0]
			}
			if ct != tt.ctype {
				t.Errorf("content type %q, want %q", ct, tt.ctype)
			}
		})
	}
}

func TestResponseHeadersOut(t *testing.T) {
	res := run(t, `export default () => {
  const h = new Headers({ "x-one": "1" })
  h.append("Set-Cookie", "a=1")
  h.append("set-cookie", "b=2")
  return new Response(null, { status: 302, headers: h })
}`)
	b := respBody(t, res)
	if res.Response.Status != 302 || b != "" {
		t.Fatalf("got %d %q", res.Response.Status, b)
	}
	h := res.Response.Header
	if got := h["Set-Cookie"]; len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Errorf("Set-Cookie %v", got)
	}
	if got := h["X-One"]; len(got) != 1 || got[0] != "1" {
		t.Errorf("X-One %v", got)
	}
	if _, ok := h["Content-Type"]; ok {
		t.Errorf("null body got a content type: %v", h)
	}
}

func TestEnvAndParams(t *testing.T) {
	got := evalJSON(t, `
"use strict";
let assignFailed = false
try { env.TOKEN = "changed" } catch (e) { assignFailed = e instanceof TypeError }
let addFailed = false
try { env.NEW = "x" } catch (e) { addFailed = e instanceof TypeError }
return {
  token: env.TOKEN, keys: Object.keys(env), frozen: Object.isFrozen(env),
  assignFailed, addFailed, id: ctx.params.id, path: ctx.params.path,
  paramsFrozen: Object.isFrozen(ctx.params), waitUntil: typeof ctx.waitUntil,
}`, func(inv *Invocation) {
		inv.Env = map[string]string{"TOKEN": "s3cret", "A": "1"}
		inv.Params = map[string]string{"id": "7", "path": "a/b"}
	})
	jsonEq(t, got, `{"token":"s3cret","keys":["A","TOKEN"],"frozen":true,"assignFailed":true,"addFailed":true,
		"id":"7","path":"a/b","paramsFrozen":true,"waitUntil":"function"}`)
}

func TestWaitUntil(t *testing.T) {
	res := run(t, `export default {
  fetch(request, env, ctx) {
    ctx.waitUntil(new Promise((r) => setTimeout(() => { console.log("background done"); r() }, 10)))
    ctx.waitUntil(Promise.reject(new Error("bg failed")))
    return "sent"
  },
}`)
	if got := respBody(t, res); got != "sent" {
		t.Fatalf("body %q", got)
	}
	var msgs []string
	for _, l := range res.Logs {
		msgs = append(msgs, l.Level+":"+l.Message)
	}
	joined := strings.Join(msgs, "|")
	if !strings.Contains(joined, "info:background done") || !strings.Contains(joined, "error:ctx.waitUntil: Error: bg failed") {
		t.Errorf("logs %q", joined)
	}
}

func TestConsole(t *testing.T) {
	res := run(t, `export default () => {
  console.log("plain", 1, true, null, undefined, { a: [1, "x"] }, [1, 2])
  console.info("info")
  console.warn("warn")
  console.error(new TypeError("bad"))
  console.debug("debug %s=%d%%", "n", 42, "rest")
  console.log(new Headers({ a: "1" }), new URL("http://x/y"), function named() {}, Symbol("s"), 10n)
  console.assert(1 === 2, "math")
  const o = {}; o.self = o
  console.log(o)
  console.count(); console.count("x"); console.count()
  console.time("t"); console.group("g"); console.groupEnd(); console.timeEnd("t")
  return "ok"
}`)
	respBody(t, res)
	want := []struct{ level, msg string }{
		{"info", `plain 1 true null undefined {"a":[1,"x"]} [1,2]`},
		{"info", "info"},
		{"warn", "warn"},
		{"error", "TypeError: bad"},
		{"debug", "debug n=42% rest"},
		{"info", `Headers { "a": "1" } http://x/y [Function: named] Symbol(s) 10n`},
		{"error", "Assertion failed: math"},
		{"info", "[object Object]"},
		{"info", "default: 1"},
		{"info", "x: 1"},
		{"info", "default: 2"},
		{"info", "t: "},
	}
	if len(res.Logs) != len(want) {
		t.Fatalf("got %d lines: %+v", len(res.Logs), res.Logs)
	}
	for i, w := range want {
		l := res.Logs[i]
		if l.Level != w.level || !strings.HasPrefix(l.Message, w.msg) || l.Time.IsZero() {
			t.Errorf("line %d: got %s %q, want %s %q", i, l.Level, l.Message, w.level, w.msg)
		}
	}
}

func TestConsoleCap(t *testing.T) {
	x := NewInProcess(Options{Limits: Limits{MaxConsoleBytes: 100}})
	res := runWith(t, x, JavaScript, `export default () => {
  for (let i = 0; i < 50; i++) console.log("line " + i + " " + "é".repeat(3))
  return "done"
}`)
	if res.Error == nil || res.Error.Code != CodeConsoleLimit || res.Response != nil {
		t.Fatalf("want %s, got %+v %+v", CodeConsoleLimit, res.Error, res.Response)
	}
	total := 0
	for _, l := range res.Logs {
		total += len(l.Message)
	}
	last := res.Logs[len(res.Logs)-1].Message
	if !strings.HasSuffix(last, consoleTruncated) {
		t.Errorf("last line %q lacks the marker", last)
	}
	if total > 100+len(consoleTruncated) {
		t.Errorf("kept %d bytes", total)
	}
	for _, l := range res.Logs {
		if !strings.HasPrefix(l.Message, "line") && !strings.HasPrefix(l.Message, consoleTruncated) {
			t.Errorf("odd line %q", l.Message)
		}
	}
}

func TestExceptions(t *testing.T) {
	tests := []struct {
		name      string
		lang      Language
		src       string
		msg       string
		line, col int
	}{
		{"sync throw", JavaScript, "export default {\n  fetch() {\n    throw new Error(\"boom\")\n  }\n}", "Error: boom", 3, 11},
		{"async throw", JavaScript, "export default {\n  async fetch() {\n    await null\n    throw new RangeError(\"late\")\n  }\n}", "RangeError: late", 4, 11},
		{"type error", JavaScript, "export default () => {\n  const o = undefined\n  return o.x\n}", "TypeError: Cannot read property 'x' of undefined", 3, 0},
		{"reference error", JavaScript, "export default () => {\n\n  return missing + 1\n}", "ReferenceError: missing is not defined", 3, 0},
		{"throw string", JavaScript, "export default () => {\n  throw \"just a string\"\n}", "Uncaught just a string", 2, 0},
		{"throw number", JavaScript, "export default () => { throw 42 }", "Uncaught 42", 1, 0},
		{"throw undefined", JavaScript, "export default async () => { throw undefined }", "Uncaught undefined", 0, 0},
		{"throw object", JavaScript, "export default () => { throw { code: 7 } }", `Uncaught {"code":7}`, 1, 0},
		{"reject", JavaScript, "export default () =>\n  Promise.reject(new Error(\"nope\"))", "Error: nope", 2, 18},
		{"top level", JavaScript, "const x = null\nx.boom()\nexport default () => 1", "TypeError", 2, 0},
		{"nested function", JavaScript, "function inner() {\n  throw new Error(\"deep\")\n}\nexport default () => inner()", "Error: deep", 2, 9},
		{"ts with types", TypeScript, "interface A {\n  x: number\n}\ntype B = A & { y: string }\nexport default {\n  async fetch(r: Request): Promise<Response> {\n    const b: B = { x: 1, y: \"y\" }\n    throw new Error(\"ts \" + b.y)\n  },\n}\n", "Error: ts y", 8, 11},
		{"ts async later line", TypeScript, "enum E { A = 1 }\n\nasync function f(n: number): Promise<number> {\n  await null\n\n  if (n > 0) throw new TypeError(`n=${n}`)\n  return n\n}\nexport default async () => f(E.A)\n", "TypeError: n=1", 6, 20},
		{"custom error class", JavaScript, "class MyErr extends Error { constructor(m) { super(m); this.name = 'MyErr' } }\nexport default () => { throw new MyErr('mine') }", "MyErr: mine", 1, 46}, // where the Error was made, as in V8
		{"timer throws", JavaScript, "export default () => new Promise((resolve) => {\n  setTimeout(() => { throw new Error(\"in timer\") }, 1)\n})", "Error: in timer", 2, 28},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runWith(t, testExecutor, tt.lang, tt.src)
			xe := res.Error
			if xe == nil || xe.Code != CodeException {
				t.Fatalf("want exception, got %+v %+v", xe, res.Response)
			}
			if !strings.Contains(xe.Message, tt.msg) {
				t.Errorf("message %q, want %q", xe.Message, tt.msg)
			}
			if xe.Line != tt.line || (tt.col != 0 && xe.Column != tt.col) {
				t.Errorf("position %d:%d, want %d:%d\nstack: %s", xe.Line, xe.Column, tt.line, tt.col, xe.Stack)
			}
			if tt.line > 0 && xe.Stack == "" {
				t.Errorf("no stack")
			}
		})
	}
}

func TestTimeLimit(t *testing.T) {
	x := NewInProcess(Options{Limits: Limits{WallTime: 100 * time.Millisecond}})
	tests := []struct {
		name, src string
	}{
		{"infinite loop", "export default () => {\n  while (true) {}\n}"},
		{"top-level loop", "for (;;) {}\nexport default () => 1"},
		{"never resolves", "export default async () => {\n  await new Promise(() => {})\n}"},
		{"microtask loop", "export default async () => {\n  for (;;) await null\n}"},
		{"timer loop", "export default () => new Promise(() => {\n  const tick = () => setTimeout(tick, 0)\n  tick()\n})"},
		{"long timer", "export default () => new Promise((r) => setTimeout(r, 60000))"},
		{"loop in catch", "export default () => {\n  for (;;) { try { while (true) {} } catch (e) {} }\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The code says the wall time ended it: left alone, each runs
			// for ever or for a minute.
			res := runWith(t, x, JavaScript, tt.src, func(inv *Invocation) { inv.Limits = Limits{} })
			if res.Error == nil || res.Error.Code != CodeTimeLimit {
				t.Fatalf("want %s, got %+v", CodeTimeLimit, res.Error)
			}
		})
	}
	// The loop's line is reported.
	res := runWith(t, x, JavaScript, "export default () => {\n  let i = 0\n  while (true) { i++ }\n}",
		func(inv *Invocation) { inv.Limits = Limits{} })
	if res.Error == nil || res.Error.Line != 3 {
		t.Errorf("loop position: %+v", res.Error)
	}
}

func TestCancel(t *testing.T) {
	code := transpile(t, JavaScript, "export default () => { while (true) {} }")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	res, err := testExecutor.Execute(ctx, baseInvocation(code))
	if err != nil {
		t.Fatal(err)
	}
	if res.Error == nil || res.Error.Code != CodeCanceled {
		t.Errorf("got %+v", res.Error)
	}
	res, _ = testExecutor.Execute(ctx, baseInvocation(code)) // already canceled
	if res.Error == nil || res.Error.Code != CodeCanceled {
		t.Errorf("got %+v", res.Error)
	}
}

func TestOutputLimit(t *testing.T) {
	x := NewInProcess(Options{Limits: Limits{MaxResponseBytes: 1000}})
	for _, ret := range []string{
		`new Response("x".repeat(1001))`,
		`"x".repeat(1001)`,
		`({ s: "x".repeat(1000) })`,
	} {
		res := runWith(t, x, JavaScript, "export default () => "+ret)
		if res.Error == nil || res.Error.Code != CodeOutputLimit {
			t.Errorf("%s: got %+v", ret, res.Error)
		}
	}
	res := runWith(t, x, JavaScript, `export default () => "x".repeat(1000)`)
	if got := respBody(t, res); len(got) != 1000 {
		t.Errorf("len %d", len(got))
	}
}

// TestIsolation runs a polluting script, then checks a clean one on the
// same executor (and cached program) sees none of it.
func TestIsolation(t *testing.T) {
	x := NewInProcess(Options{})
	polluter := transpile(t, JavaScript, `export default () => {
  Object.prototype.polluted = "yes"
  Array.prototype.push = () => { throw new Error("hijacked") }
  JSON.stringify = () => "hijacked"
  globalThis.leak = 1
  Response = function () { return "fake" }
  Math.random = () => 4
  return "polluted"
}`)
	clean := transpile(t, JavaScript, `let counter = 0
export default () => {
  counter++
  const a = []; a.push(1)
  return { polluted: ({}).polluted === undefined ? "no" : "yes", leak: typeof leak, counter,
    stringify: JSON.stringify({ a: 1 }), response: new Response("r") instanceof Response, rand: Math.random() < 1 }
}`)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		res, _ := x.Execute(ctx, &Invocation{ScriptID: "p", Version: 1, Code: polluter})
		if got := respBody(t, res); got != "polluted" {
			t.Fatalf("polluter: %q", got)
		}
		res, _ = x.Execute(ctx, &Invocation{ScriptID: "c", Version: 1, Code: clean})
		jsonEq(t, respBody(t, res), `{"polluted":"no","leak":"undefined","counter":1,"stringify":"{\"a\":1}","response":true,"rand":true}`)
	}
}

func TestProgramCache(t *testing.T) {
	x := NewInProcess(Options{CacheSize: 2})
	code := transpile(t, JavaScript, `export default () => "v1"`)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _ := x.Execute(context.Background(), &Invocation{ScriptID: "s1", Version: 1, Code: code})
			if res.Error != nil || string(res.Response.Body) != "v1" {
				t.Errorf("got %+v", res)
			}
		}()
	}
	wg.Wait()
	if n := x.cache.compiles.Load(); n != 1 {
		t.Errorf("compiled %d times", n)
	}
	// A new version compiles again; the LRU keeps two entries.
	for v := 2; v <= 4; v++ {
		_, _ = x.Execute(context.Background(), &Invocation{ScriptID: "s1", Version: v, Code: code})
	}
	if n := x.cache.compiles.Load(); n != 4 {
		t.Errorf("compiled %d times", n)
	}
	if n := x.cache.len(); n != 2 {
		t.Errorf("cache holds %d", n)
	}
	_, _ = x.Execute(context.Background(), &Invocation{ScriptID: "s1", Version: 1, Code: code})
	if n := x.cache.compiles.Load(); n != 5 {
		t.Errorf("evicted version not recompiled: %d", n)
	}
}

func TestBadInvocation(t *testing.T) {
	if _, err := testExecutor.Execute(context.Background(), nil); err == nil {
		t.Error("nil invocation accepted")
	}
	res, err := testExecutor.Execute(context.Background(), &Invocation{ScriptID: "bad", Code: "this is not ( js"})
	if err != nil || res.Error == nil || res.Error.Code != CodeInternal {
		t.Errorf("got %+v %v", res, err)
	}
}

func TestTimers(t *testing.T) {
	got := evalJSON(t, `
const order = []
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
setTimeout(() => order.push("t20"), 20)
const cancelled = setTimeout(() => order.push("never"), 5)
clearTimeout(cancelled)
setTimeout((a, b) => order.push("t10:" + a + b), 10, "x", "y")
queueMicrotask(() => order.push("micro"))
let n = 0
const iv = setInterval(() => { if (++n === 3) clearInterval(iv) }, 1)
order.push("sync")
await sleep(30)
return { order, n }`)
	jsonEq(t, got, `{"order":["sync","micro","t10:xy","t20"],"n":3}`)
}

func TestUnhandledRejectionsLogged(t *testing.T) {
	res := run(t, `export default async () => {
  Promise.reject(new Error("forgotten"))
  const handled = Promise.reject(new Error("handled")); handled.catch(() => {})
  queueMicrotask(() => { throw new TypeError("in microtask") })
  await null; await null
  return "ok"
}`)
	if got := respBody(t, res); got != "ok" {
		t.Fatalf("body %q", got)
	}
	var msgs []string
	for _, l := range res.Logs {
		msgs = append(msgs, l.Level+": "+l.Message)
	}
	want := []string{"error: Uncaught (in promise) Error: forgotten", "error: Uncaught (in promise) TypeError: in microtask"}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("logs:\n%s", strings.Join(msgs, "\n"))
	}
}

func TestCallbacksPropagate(t *testing.T) {
	got := evalJSON(t, `
const out = []
try { new Headers({ a: "1" }).forEach(() => { throw new Error("from callback") }) } catch (e) { out.push(e.message) }
try { new URLSearchParams("a=1").forEach(() => { null.x }) } catch (e) { out.push(e.name) }
try { new Headers({ get a() { throw new RangeError("getter") } }) } catch (e) { out.push(e.name) }
try { new Response("x", { get status() { throw new Error("status getter") } }) } catch (e) { out.push(e.message) }
return out`)
	jsonEq(t, got, `["from callback","TypeError","RangeError","status getter"]`)

	x := NewInProcess(Options{Limits: Limits{WallTime: 100 * time.Millisecond}})
	res := runWith(t, x, JavaScript, `export default () => { new Headers({ a: "1" }).forEach(() => { for (;;) {} }) }`,
		func(inv *Invocation) { inv.Limits = Limits{} })
	if res.Error == nil || res.Error.Code != CodeTimeLimit {
		t.Errorf("loop in callback: %+v", res.Error)
	}
}

func TestHostileValues(t *testing.T) {
	x := NewInProcess(Options{Limits: Limits{WallTime: 150 * time.Millisecond}})
	tests := []struct {
		name, src, code, msg string
	}{
		{"throwing fetch getter", `export default { get fetch() { throw new Error("getter") } }`, CodeException, "Error: getter"},
		{"throwing then getter", `export default () => ({ get then() { throw new Error("then") } })`, CodeException, "Error: then"},
		{"looping toJSON", `export default () => ({ toJSON() { for (;;) {} } })`, CodeTimeLimit, ""},
		{"throwing toJSON", `export default () => ({ toJSON() { throw new Error("json") } })`, CodeInvalidResponse, "Error: json"},
		{"error with throwing message", `export default () => { const e = new Error("x"); Object.defineProperty(e, "message", { get() { throw 1 } }); throw e }`, CodeException, "Error"},
		{"looping toString in log", `export default () => { console.log({ toJSON() { for (;;) {} } }) }`, CodeTimeLimit, ""},
		{"proxy export", `export default new Proxy({}, { get() { throw new Error("trap") } })`, CodeException, "Error: trap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runWith(t, x, JavaScript, tt.src, func(inv *Invocation) { inv.Limits = Limits{} })
			if res.Error == nil || res.Error.Code != tt.code || !strings.Contains(res.Error.Message, tt.msg) {
				t.Errorf("got %+v, want %s %q", res.Error, tt.code, tt.msg)
			}
		})
	}
}

func TestSDKImport(t *testing.T) {
	res := run(t, `import * as sdk from "picloud"
import { kv } from "picloud"
export default () => ({ sdk: typeof sdk, kv: typeof kv })`)
	jsonEq(t, respBody(t, res), `{"sdk":"object","kv":"object"}`)
	res = run(t, `export default () => ({ require: typeof require, module: typeof module })`)
	jsonEq(t, respBody(t, res), `{"require":"undefined","module":"undefined"}`)
}

func TestModernSyntax(t *testing.T) {
	res := runWith(t, testExecutor, TypeScript, `
async function* count(n: number) { for (let i = 0; i < n; i++) { await null; yield i } }
class Box<T> { #v: T; static made = 0; constructor(v: T) { this.#v = v; Box.made++ } get v() { return this.#v } }
export default async () => {
  const seen: number[] = []
  for await (const i of count(3)) seen.push(i)
  const b = new Box({ deep: { x: 1 } })
  const { deep: { x, y = 2 }, ...rest } = { ...b.v, other: 3 } as any
  return { seen, x, y, rest, made: Box.made, opt: (null as any)?.z ?? "dflt", big: String(2n ** 64n), re: "a1b2".replace(/(?<d>\d)/g, "[$<d>]") }
}`)
	jsonEq(t, respBody(t, res), `{"seen":[0,1,2],"x":1,"y":2,"rest":{"other":3},"made":1,"opt":"dflt","big":"18446744073709551616","re":"a[1]b[2]"}`)
}

// TestEnginePanicRecovered checks that a Go panic inside the engine ends
// the execution with engine.internal instead of escaping Execute.
func TestEnginePanicRecovered(t *testing.T) {
	globalFactories["__testPanic"] = func(*execution) goja.Value { panic("engine bug") }
	defer delete(globalFactories, "__testPanic")
	res := run(t, `export default () => __testPanic`)
	if res.Error == nil || res.Error.Code != CodeInternal || !strings.Contains(res.Error.Message, "engine bug") {
		t.Errorf("got %+v", res.Error)
	}
}

// TestEnvReachable checks env reaches handlers that read it without
// declaring it (the engine skips building env when it cannot be seen).
func TestEnvReachable(t *testing.T) {
	withEnv := func(inv *Invocation) { inv.Env = map[string]string{"A": "yes"} }
	for _, src := range []string{
		`export default function () { return arguments[1].A }`,
		`export default (...args) => args[1].A`,
		`export default { fetch(request, ...rest) { return rest[0].A } }`,
		`export default { fetch: (r, env) => env.A }`,
		`export default { fetch(request, env = { A: "default" }) { return env.A } }`,
		`export default async (request, { A } = {}) => A`,
	} {
		if got := respBody(t, run(t, src, withEnv)); got != "yes" {
			t.Errorf("%s: %q", src, got)
		}
	}
}

// An executor without a data service fails each data call with a clear
// error that the script can catch; the arguments are checked before.
func TestDataCallWithoutService(t *testing.T) {
	res := run(t, `import { kv } from "picloud"
export default async () => {
  const out = {}
  try { await kv.collection("c").get("k") } catch (e) { out.get = e.name + " " + e.code }
  try { await kv.collection("c").get(1) } catch (e) { out.bad = e.name + " " + e.code }
  try { kv.collection("") } catch (e) { out.name = e.name + " " + e.code }
  return out
}`)
	jsonEq(t, respBody(t, res), `{"get":"Error data.unavailable","bad":"TypeError data.invalid","name":"TypeError data.invalid"}`)
}
