package engine

import (
	"strings"
	"testing"
)

// jsCase is a handler body returning JSON and the JSON it must return.
type jsCase struct {
	name string
	js   string
	want string
	mod  []func(*Invocation)
}

func runCases(t *testing.T, cases []jsCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			jsonEq(t, evalJSON(t, tc.js, tc.mod...), tc.want)
		})
	}
}

func TestRequest(t *testing.T) {
	multipart := "--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"title\"\r\n\r\n" +
		"héllo wörld\r\n" +
		"--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"upload\"; filename=\"notes.txt\"\r\n" +
		"Content-Type: text/plain\r\n\r\n" +
		"file body\r\n" +
		"--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"title\"\r\n\r\n" +
		"second\r\n" +
		"--XyZ--\r\n"
	runCases(t, []jsCase{
		{"accessors", `return { method: request.method, url: request.url, accept: request.headers.get("accept"),
  multi: request.headers.get("x-multi"), missing: request.headers.get("nope"), bodyUsed: request.bodyUsed,
  body: request.body, isRequest: request instanceof Request, redirect: request.redirect }`,
			`{"method":"GET","url":"http://pi.local:8080/users/7?x=1&y=two","accept":"*/*","multi":"a, b",
			"missing":null,"bodyUsed":false,"body":null,"isRequest":true,"redirect":"follow"}`, nil},
		{"url parsing", `const u = new URL(request.url); return { path: u.pathname, x: u.searchParams.get("x"), port: u.port }`,
			`{"path":"/users/7","x":"1","port":"8080"}`, nil},
		{"text", `const t = await request.text(); return { t, used: request.bodyUsed }`,
			`{"t":"plain body","used":true}`, []func(*Invocation){withBody("text/plain", "plain body")}},
		{"json", `return await request.json()`, `{"a":[1,2,{"b":"c"}],"d":null,"e":1.5e3,"f":"\u00e9\n"}`,
			[]func(*Invocation){withBody("application/json", `{"a":[1,2,{"b":"c"}],"d":null,"e":1.5e3,"f":"\u00e9\n"}`)}},
		{"json proto key", `const o = await request.json(); return { own: Object.keys(o), protoIntact: Object.getPrototypeOf(o) === Object.prototype }`,
			`{"own":["__proto__","x"],"protoIntact":true}`, []func(*Invocation){withBody("application/json", `{"__proto__":{"p":1},"x":1}`)}},
		{"json syntax error", `try { await request.json(); return "parsed" } catch (e) { return { name: e.name } }`,
			`{"name":"SyntaxError"}`, []func(*Invocation){withBody("application/json", `{"a":`)}},
		{"body used twice", `await request.text(); try { await request.text(); return "twice" } catch (e) { return { name: e.name, msg: e.message } }`,
			`{"name":"TypeError","msg":"Body has already been used"}`, []func(*Invocation){withBody("text/plain", "x")}},
		{"arrayBuffer", `const b = await request.arrayBuffer(); return { len: b.byteLength, first: new Uint8Array(b)[0] }`,
			`{"len":3,"first":97}`, []func(*Invocation){withBody("application/octet-stream", "abc")}},
		{"bytes", `const b = await request.bytes(); return { len: b.length, isU8: b instanceof Uint8Array }`,
			`{"len":3,"isU8":true}`, []func(*Invocation){withBody("application/octet-stream", "abc")}},
		{"formData urlencoded", `const f = await request.formData()
return { a: f.get("a"), all: f.getAll("b"), has: f.has("c"), none: f.get("zz"), keys: [...f.keys()] }`,
			`{"a":"1 2","all":["x","y&z"],"has":true,"none":null,"keys":["a","b","b","c"]}`,
			[]func(*Invocation){withBody("application/x-www-form-urlencoded", "a=1+2&b=x&b=y%26z&c=")}},
		{"formData multipart", `const f = await request.formData()
const file = f.get("upload")
return { titles: f.getAll("title"), name: file.name, type: file.type, size: file.size, text: await file.text(),
  isFile: file instanceof File, isBlob: file instanceof Blob }`,
			`{"titles":["héllo wörld","second"],"name":"notes.txt","type":"text/plain","size":9,"text":"file body","isFile":true,"isBlob":true}`,
			[]func(*Invocation){withBody("multipart/form-data; boundary=XyZ", multipart)}},
		{"formData wrong type", `try { await request.formData(); return "ok" } catch (e) { return e.name }`,
			`"TypeError"`, []func(*Invocation){withBody("application/json", "{}")}},
		{"clone", `const c = request.clone(); return { a: await c.text(), b: await request.text() }`,
			`{"a":"x","b":"x"}`, []func(*Invocation){withBody("text/plain", "x")}},
		{"incoming headers immutable", `try { request.headers.set("a", "b"); return "mutated" } catch (e) { return e.name }`,
			`"TypeError"`, nil},
		{"construct", `const r = new Request("https://api.example.com/v1?q=1", { method: "post", headers: { "X-Key": "k" }, body: JSON.stringify({ n: 1 }) })
return { method: r.method, url: r.url, key: r.headers.get("x-key"), ct: r.headers.get("content-type"), body: await r.json() }`,
			`{"method":"POST","url":"https://api.example.com/v1?q=1","key":"k","ct":"text/plain;charset=UTF-8","body":{"n":1}}`, nil},
		{"construct from request", `const r = new Request(request, { headers: { a: "1" } }); return { url: r.url, method: r.method, a: r.headers.get("a"), accept: r.headers.get("accept") }`,
			`{"url":"http://pi.local:8080/users/7?x=1&y=two","method":"GET","a":"1","accept":null}`, nil},
		{"construct errors", `const errs = []
for (const f of [() => new Request("/relative"), () => new Request("http://x/", { method: "GET", body: "x" }), () => new Request("http://x/", { method: "TRACE" })]) {
  try { f(); errs.push("none") } catch (e) { errs.push(e.name) }
}
return errs`, `["TypeError","TypeError","TypeError"]`, nil},
		{"body stream passthrough", `const r = new Response(request.body, { headers: { "content-type": "text/plain" } }); return { t: await r.text(), used: request.bodyUsed }`,
			`{"t":"stream me","used":true}`, []func(*Invocation){withBody("text/plain", "stream me")}},
		{"body stream reader", `const rd = request.body.getReader(); const a = await rd.read(); const b = await rd.read()
return { done1: a.done, text: new TextDecoder().decode(a.value), done2: b.done }`,
			`{"done1":false,"text":"chunk","done2":true}`, []func(*Invocation){withBody("text/plain", "chunk")}},
		{"expando", `request.foo = 1; return { foo: request.foo, keys: Object.keys(request) }`, `{"foo":1,"keys":["foo"]}`, nil},
	})
}

func TestResponse(t *testing.T) {
	runCases(t, []jsCase{
		{"string body", `const r = new Response("hi", { status: 201, statusText: "Created", headers: { "X-A": "1" } })
return { status: r.status, ok: r.ok, statusText: r.statusText, a: r.headers.get("x-a"), ct: r.headers.get("content-type"), text: await r.text(), used: r.bodyUsed }`,
			`{"status":201,"ok":true,"statusText":"Created","a":"1","ct":"text/plain;charset=UTF-8","text":"hi","used":true}`, nil},
		{"defaults", `const r = new Response(); return { status: r.status, ok: r.ok, body: r.body, text: await r.text(), type: r.type }`,
			`{"status":200,"ok":true,"body":null,"text":"","type":"default"}`, nil},
		{"null body", `const r = new Response(null, { status: 204 }); return { status: r.status, ct: r.headers.get("content-type") }`,
			`{"status":204,"ct":null}`, nil},
		{"arraybuffer body", `const r = new Response(new TextEncoder().encode("héllo").buffer); return { t: await r.text(), ct: r.headers.get("content-type") }`,
			`{"t":"héllo","ct":null}`, nil},
		{"uint8array body", `const r = new Response(new Uint8Array([104, 105])); const b = await r.arrayBuffer(); return { len: b.byteLength, t: new TextDecoder().decode(b) }`,
			`{"len":2,"t":"hi"}`, nil},
		{"view offset body", `const u = new Uint8Array([1, 104, 105, 2]).subarray(1, 3); return await new Response(u).text()`, `"hi"`, nil},
		{"params body", `const r = new Response(new URLSearchParams({ a: "1 2" })); return { t: await r.text(), ct: r.headers.get("content-type") }`,
			`{"t":"a=1+2","ct":"application/x-www-form-urlencoded;charset=UTF-8"}`, nil},
		{"formdata roundtrip", `const f = new FormData(); f.append("a", "1"); f.append("file", new Blob(["data"], { type: "text/csv" }), "d.csv")
const r = new Response(f); const g = await r.formData(); const file = g.get("file")
return { a: g.get("a"), name: file.name, type: file.type, text: await file.text(), ct: r.headers.get("content-type").split(";")[0] }`,
			`{"a":"1","name":"d.csv","type":"text/csv","text":"data","ct":"multipart/form-data"}`, nil},
		{"json", `const r = await new Response('{"a":[1]}').json(); return r`, `{"a":[1]}`, nil},
		{"not ok", `return new Response("x", { status: 404 }).ok`, `false`, nil},
		{"static json", `const r = Response.json({ a: 1 }, { status: 202, headers: { "x-b": "2" } })
return { status: r.status, ct: r.headers.get("content-type"), b: r.headers.get("x-b"), body: await r.json() }`,
			`{"status":202,"ct":"application/json","b":"2","body":{"a":1}}`, nil},
		{"static redirect", `const r = Response.redirect("https://example.com/next"); const r2 = Response.redirect("/login", 301)
return { status: r.status, loc: r.headers.get("location"), s2: r2.status, loc2: r2.headers.get("location") }`,
			`{"status":302,"loc":"https://example.com/next","s2":301,"loc2":"http://pi.local:8080/login"}`, nil},
		{"redirect bad status", `try { Response.redirect("http://x/", 200); return "ok" } catch (e) { return e.name }`, `"RangeError"`, nil},
		{"status range", `try { new Response("x", { status: 99 }); return "ok" } catch (e) { return e.name }`, `"RangeError"`, nil},
		{"null body status", `try { new Response("x", { status: 204 }); return "ok" } catch (e) { return e.name }`, `"TypeError"`, nil},
		{"clone", `const r = new Response("c"); const c = r.clone(); return [await r.text(), await c.text()]`, `["c","c"]`, nil},
		{"readonly status", `"use strict"; const r = new Response("x"); try { r.status = 500 } catch (e) {} return r.status`, `200`, nil},
		{"subclass", `class Mine extends Response { constructor(b) { super(b); } extra() { return "e" } }
const m = new Mine("sub"); return { isResp: m instanceof Response, isMine: m instanceof Mine, extra: m.extra(), t: await m.text() }`,
			`{"isResp":true,"isMine":true,"extra":"e","t":"sub"}`, nil},
	})
	res := run(t, `export default () => new Response("x", { headers: { "X-Bad": "a\r\nInjected: 1" } })`)
	if res.Error == nil || !strings.Contains(res.Error.Message, "Invalid header value") {
		t.Errorf("header injection: %+v", res.Error)
	}
}

func TestHeaders(t *testing.T) {
	runCases(t, []jsCase{
		{"case insensitive", `const h = new Headers(); h.set("Content-Type", "a"); h.append("X-Y", "1"); h.append("x-y", "2")
return { ct: h.get("content-type"), xy: h.get("X-Y"), has: h.has("CONTENT-TYPE"), no: h.has("z") }`,
			`{"ct":"a","xy":"1, 2","has":true,"no":false}`, nil},
		{"delete and set", `const h = new Headers([["a", "1"], ["a", "2"], ["b", "3"]]); h.delete("A"); h.set("b", "4"); return [...h]`,
			`[["b","4"]]`, nil},
		{"iteration sorted", `const h = new Headers({ zeta: "z", Alpha: "a", mid: " m " })
const fe = []; h.forEach((v, k) => fe.push(k + "=" + v))
return { entries: [...h.entries()], keys: [...h.keys()], values: [...h.values()], fe }`,
			`{"entries":[["alpha","a"],["mid","m"],["zeta","z"]],"keys":["alpha","mid","zeta"],"values":["a","m","z"],"fe":["alpha=a","mid=m","zeta=z"]}`, nil},
		{"from headers and map", `const a = new Headers({ x: "1" }); const b = new Headers(a); b.set("y", "2")
const c = new Headers(new Map([["m", "3"]])); return { a: [...a], b: [...b], c: [...c] }`,
			`{"a":[["x","1"]],"b":[["x","1"],["y","2"]],"c":[["m","3"]]}`, nil},
		{"set-cookie", `const h = new Headers(); h.append("Set-Cookie", "a=1"); h.append("Set-Cookie", "b=2")
return { list: h.getSetCookie(), entries: [...h] }`,
			`{"list":["a=1","b=2"],"entries":[["set-cookie","a=1"],["set-cookie","b=2"]]}`, nil},
		{"invalid", `const out = []
for (const f of [() => new Headers({ "bad name": "x" }), () => new Headers().set("a", "x\ny"), () => new Headers([["a"]])]) {
  try { f(); out.push("ok") } catch (e) { out.push(e.name) }
}
return out`, `["TypeError","TypeError","TypeError"]`, nil},
	})
}

func TestURL(t *testing.T) {
	runCases(t, []jsCase{
		{"parts", `const u = new URL("https://user:pw@Example.COM:8443/a/./b/../c?x=1&y=2#frag")
return { href: u.href, protocol: u.protocol, host: u.host, hostname: u.hostname, port: u.port, pathname: u.pathname,
  search: u.search, hash: u.hash, origin: u.origin, username: u.username, password: u.password, str: String(u), json: JSON.stringify({ u }) }`,
			`{"href":"https://user:pw@example.com:8443/a/c?x=1&y=2#frag","protocol":"https:","host":"example.com:8443",
			"hostname":"example.com","port":"8443","pathname":"/a/c","search":"?x=1&y=2","hash":"#frag",
			"origin":"https://example.com:8443","username":"user","password":"pw",
			"str":"https://user:pw@example.com:8443/a/c?x=1&y=2#frag","json":"{\"u\":\"https://user:pw@example.com:8443/a/c?x=1&y=2#frag\"}"}`, nil},
		{"defaults", `const u = new URL("HTTP://example.com:80"); return { href: u.href, port: u.port, path: u.pathname, search: u.search }`,
			`{"href":"http://example.com/","port":"","path":"/","search":""}`, nil},
		{"relative", `return [new URL("../x?q", "http://h/a/b/c").href, new URL("/abs", "https://h:1/p").href, new URL("//other/p", "https://h/").href, new URL("?only", "http://h/p").href]`,
			`["http://h/a/x?q","https://h:1/abs","https://other/p","http://h/p?only"]`, nil},
		{"encoding", `const u = new URL("http://h/a b/é?q=a b&c=é#x y"); return { path: u.pathname, search: u.search, hash: u.hash }`,
			`{"path":"/a%20b/%C3%A9","search":"?q=a%20b&c=%C3%A9","hash":"#x%20y"}`, nil},
		{"setters", `const u = new URL("http://h/p?a=1")
u.pathname = "new path"; u.search = "b=2"; u.hash = "h"; u.port = "8080"; u.hostname = "Other"; u.protocol = "https"
return u.href`, `"https://other:8080/new%20path?b=2#h"`, nil},
		{"searchParams linked", `const u = new URL("http://h/?a=1&b=2")
u.searchParams.append("c", "3 4"); u.searchParams.delete("a"); const sp = u.searchParams
u.search = "?z=9"; return { href: u.href, z: sp.get("z"), size: sp.size }`,
			`{"href":"http://h/?z=9","z":"9","size":1}`, nil},
		{"searchParams update href", `const u = new URL("http://h/p"); u.searchParams.set("q", "a&b"); return u.href`,
			`"http://h/p?q=a%26b"`, nil},
		{"invalid", `const out = []
for (const s of ["", "nope", "http://", "/relative"]) { try { new URL(s); out.push("ok") } catch (e) { out.push(e.name) } }
return { out, can: URL.canParse("http://x"), cannot: URL.canParse("x"), parsed: URL.parse("x") }`,
			`{"out":["TypeError","TypeError","TypeError","TypeError"],"can":true,"cannot":false,"parsed":null}`, nil},
		{"non special", `const u = new URL("mailto:someone@example.com"); return { p: u.protocol, path: u.pathname, origin: u.origin, href: u.href }`,
			`{"p":"mailto:","path":"someone@example.com","origin":"null","href":"mailto:someone@example.com"}`, nil},
		{"ipv6", `const u = new URL("http://[::1]:3000/x"); return { host: u.host, hostname: u.hostname }`,
			`{"host":"[::1]:3000","hostname":"[::1]"}`, nil},
	})
}

func TestURLSearchParams(t *testing.T) {
	runCases(t, []jsCase{
		{"methods", `const p = new URLSearchParams("?a=1&b=2&a=3&sp=x+y&enc=%26")
p.append("c", "é"); p.set("b", "two"); p.delete("nope")
const fe = []; p.forEach((v, k) => fe.push(k + ":" + v))
return { a: p.get("a"), all: p.getAll("a"), has: p.has("c"), hasNot: p.has("z"), sp: p.get("sp"), enc: p.get("enc"),
  str: p.toString(), size: p.size, entries: [...p], keys: [...p.keys()], values: [...p.values()], fe, missing: p.get("z") }`,
			`{"a":"1","all":["1","3"],"has":true,"hasNot":false,"sp":"x y","enc":"&",
			"str":"a=1&b=two&a=3&sp=x+y&enc=%26&c=%C3%A9","size":6,
			"entries":[["a","1"],["b","two"],["a","3"],["sp","x y"],["enc","&"],["c","é"]],
			"keys":["a","b","a","sp","enc","c"],"values":["1","two","3","x y","&","é"],
			"fe":["a:1","b:two","a:3","sp:x y","enc:&","c:é"],"missing":null}`, nil},
		{"inits", `return [new URLSearchParams({ x: 1, y: "a b" }).toString(), new URLSearchParams([["k", "v"], ["k", "w"]]).toString(),
  new URLSearchParams(new URLSearchParams("q=1")).toString(), new URLSearchParams().toString()]`,
			`["x=1&y=a+b","k=v&k=w","q=1",""]`, nil},
		{"delete value and sort", `const p = new URLSearchParams("b=2&a=1&b=3"); p.delete("b", "2"); p.sort(); return p.toString()`,
			`"a=1&b=3"`, nil},
		{"special chars", `return new URLSearchParams({ k: "*-._ ~!'()" }).toString()`, `"k=*-._+%7E%21%27%28%29"`, nil},
	})
}

func TestFormDataAndBlob(t *testing.T) {
	runCases(t, []jsCase{
		{"formdata", `const f = new FormData(); f.append("a", "1"); f.append("a", "2"); f.set("b", "x"); f.append("c", 3)
f.delete("c"); const fe = []; f.forEach((v, k) => fe.push(k + v))
return { a: f.get("a"), all: f.getAll("a"), has: f.has("b"), entries: [...f], fe }`,
			`{"a":"1","all":["1","2"],"has":true,"entries":[["a","1"],["a","2"],["b","x"]],"fe":["a1","a2","bx"]}`, nil},
		{"blob", `const b = new Blob(["ab", new Uint8Array([99]), new Blob(["d"])], { type: "Text/Plain" })
const s = b.slice(1, 3); return { size: b.size, type: b.type, text: await b.text(), slice: await s.text(), isBlob: b instanceof Blob }`,
			`{"size":4,"type":"text/plain","text":"abcd","slice":"bc","isBlob":true}`, nil},
		{"file", `const f = new File(["x"], "a.txt", { type: "text/plain", lastModified: 5 })
return { name: f.name, size: f.size, lm: f.lastModified, isBlob: f instanceof Blob, text: await f.text() }`,
			`{"name":"a.txt","size":1,"lm":5,"isBlob":true,"text":"x"}`, nil},
	})
}

func TestEncoding(t *testing.T) {
	runCases(t, []jsCase{
		{"text encoder", `const e = new TextEncoder(); const b = e.encode("hé€😀")
const into = new Uint8Array(4); const r = e.encodeInto("hé€", into)
return { enc: e.encoding, bytes: Array.from(b), back: new TextDecoder().decode(b), read: r.read, written: r.written }`,
			`{"enc":"utf-8","bytes":[104,195,169,226,130,172,240,159,152,128],"back":"hé€😀","read":2,"written":3}`, nil},
		{"text decoder", `const d = new TextDecoder("utf8")
const bad = new Uint8Array([0x61, 0xff, 0x62]); const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x41])
let fatal = "none"; try { new TextDecoder("utf-8", { fatal: true }).decode(bad) } catch (e) { fatal = e.name }
const s = new TextDecoder(); const euro = new TextEncoder().encode("€")
const part = s.decode(euro.subarray(0, 2), { stream: true }) + s.decode(euro.subarray(2))
let label = "none"; try { new TextDecoder("iso-2022-kr") } catch (e) { label = e.name }
return { bad: d.decode(bad), bom: d.decode(bom), fatal, part, label, empty: d.decode() }`,
			`{"bad":"a\ufffdb","bom":"A","fatal":"TypeError","part":"€","label":"RangeError","empty":""}`, nil},
		{"base64", `let bad = "none"; try { btoa("€") } catch (e) { bad = e.name }
let badA = "none"; try { atob("a") } catch (e) { badA = e.name }
return { b: btoa("hello\u00ff"), a: atob("aGVsbG8="), loose: atob(" aGVs bG8 "), bin: atob("/w==").charCodeAt(0), bad, badA }`,
			`{"b":"aGVsbG//","a":"hello","loose":"hello","bin":255,"bad":"InvalidCharacterError","badA":"InvalidCharacterError"}`, nil},
		{"crypto", `const id = crypto.randomUUID(); const a = crypto.getRandomValues(new Uint8Array(8))
return { uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), len: a.length }`,
			`{"uuid":true,"len":8}`, nil},
		{"globals exist", `return ["Request", "Response", "Headers", "URL", "URLSearchParams", "FormData", "Blob", "File", "TextEncoder",
  "TextDecoder", "console", "atob", "btoa", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "queueMicrotask", "crypto"]
  .filter((n) => typeof globalThis[n] === "undefined")`, `[]`, nil},
		{"assign global", `URL = class { constructor() { this.mine = true } }; return new URL("x").mine`, `true`, nil},
	})
}
