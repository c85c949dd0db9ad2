package engine

import (
	"testing"
)

func TestAbortAndEvents(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"controller", `export default () => {
  const c = new AbortController(); const seen = []
  c.signal.addEventListener("abort", (e) => seen.push(e.type))
  c.signal.onabort = () => seen.push("on")
  c.abort(); c.abort()
  return JSON.stringify({ aborted: c.signal.aborted, reason: c.signal.reason.name, seen })
}`, `{"aborted":true,"reason":"AbortError","seen":["on","abort"]}`},
		{"throwIfAborted", `export default () => {
  try { AbortSignal.abort(new Error("mine")).throwIfAborted() } catch (e) { return e.message }
}`, `mine`},
		{"timeout", `export default async () => {
  const s = AbortSignal.timeout(5)
  await new Promise((r) => s.addEventListener("abort", r))
  return s.reason.name + " " + (s.reason instanceof DOMException)
}`, `TimeoutError true`},
		{"any", `export default () => {
  const a = new AbortController(), b = new AbortController()
  const s = AbortSignal.any([a.signal, b.signal])
  b.abort("b")
  return String(s.aborted) + s.reason
}`, `trueb`},
		{"read-only state", `export default () => { "use strict"; const c = new AbortController()
  try { c.signal.aborted = true } catch (e) { return e.name + " " + c.signal.aborted } }`, `TypeError false`},
		{"illegal constructor", `export default () => { try { new AbortSignal() } catch (e) { return e.name } }`, `TypeError`},
		{"event target", `export default () => {
  const t = new EventTarget(); let n = 0
  const f = () => n++
  t.addEventListener("x", f); t.addEventListener("x", f); t.addEventListener("x", () => n += 10, { once: true })
  t.dispatchEvent(new Event("x")); t.dispatchEvent(new Event("x"))
  t.removeEventListener("x", f); t.dispatchEvent(new Event("x"))
  return String(n)
}`, `12`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := respBody(t, run(t, tt.src)); got != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestStructuredClone(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"deep copy", `export default () => {
  const o = { a: [1, { b: 2 }], d: new Date(0), m: new Map([["k", { v: 1 }]]), s: new Set([1, 2]), u: new Uint8Array([1, 2, 3]), r: /x+/gi }
  const c = structuredClone(o)
  c.a[1].b = 99; c.m.get("k").v = 99; c.u[0] = 9
  return JSON.stringify([o.a[1].b, o.m.get("k").v, o.u[0], c.d.getTime(), c.s.has(2), c.r.flags, c.u.length, c !== o])
}`, `[2,1,1,0,true,"gi",3,true]`},
		{"cycles", `export default () => { const o = { n: 1 }; o.self = o; const c = structuredClone(o); return String(c.self === c && c !== o) }`, `true`},
		{"errors", `export default () => { const c = structuredClone(new RangeError("r")); return c.name + ":" + c.message + ":" + (c instanceof RangeError) }`, `RangeError:r:true`},
		{"functions refused", `export default () => { try { structuredClone({ f() {} }) } catch (e) { return e.name } }`, `DataCloneError`},
		{"primitives", `export default () => JSON.stringify([structuredClone(1), structuredClone("s"), structuredClone(null), structuredClone(undefined) === undefined])`, `[1,"s",null,true]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := respBody(t, run(t, tt.src)); got != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
	// A structure deeper than the call depth ends with limit.stack, not a
	// crash.
	res := run(t, `export default () => { let o = {}; for (let i = 0; i < 100000; i++) o = { o }; structuredClone(o); return "x" }`)
	if res.Error == nil || res.Error.Code != CodeStackLimit {
		t.Errorf("deep clone: %+v", res.Error)
	}
}

func TestSubtleCrypto(t *testing.T) {
	tests := []struct{ name, src, want string }{
		// Known answers: SHA-256("abc") and HMAC-SHA256 of RFC 4231 test case 2.
		{"digest", `export default async () => {
  const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("")
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("abc"))
  const d1 = await crypto.subtle.digest({ name: "SHA-1" }, new TextEncoder().encode("abc"))
  return hex(d) + " " + hex(d1) + " " + (await crypto.subtle.digest("SHA-512", new Uint8Array(0))).byteLength
}`, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad a9993e364706816aba3e25717850c26c9cd0d89d 64"},
		{"hmac", `export default async () => {
  const enc = new TextEncoder(), hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("")
  const key = await crypto.subtle.importKey("raw", enc.encode("Jefe"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"])
  const sig = await crypto.subtle.sign("HMAC", key, enc.encode("what do ya want for nothing?"))
  const ok = await crypto.subtle.verify("HMAC", key, sig, enc.encode("what do ya want for nothing?"))
  const bad = await crypto.subtle.verify("HMAC", key, sig, enc.encode("tampered"))
  return [hex(sig), ok, bad, key.type, key.algorithm.hash.name, key.extractable].join(" ")
}`, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843 true false secret SHA-256 false"},
		{"generate and export", `export default async () => {
  const k = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-384" }, true, ["sign"])
  return String((await crypto.subtle.exportKey("raw", k)).byteLength)
}`, "128"},
		{"errors reject", `export default async () => {
  const out = []
  for (const f of [
    () => crypto.subtle.digest("MD5", new Uint8Array(1)),
    () => crypto.subtle.importKey("raw", new Uint8Array(4), { name: "AES-GCM" }, false, ["encrypt"]),
    () => crypto.subtle.importKey("raw", new Uint8Array(4), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]).then((k) => crypto.subtle.verify("HMAC", k, new Uint8Array(1), new Uint8Array(1))),
    () => crypto.subtle.importKey("raw", new Uint8Array(4), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]).then((k) => crypto.subtle.exportKey("raw", k)),
  ]) { try { await f(); out.push("ok") } catch (e) { out.push(e.name) } }
  return out.join(" ")
}`, "NotSupportedError NotSupportedError InvalidAccessError InvalidAccessError"},
		{"timingSafeEqual", `export default () => String(crypto.subtle.timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])))`, "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := respBody(t, run(t, tt.src)); got != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}
