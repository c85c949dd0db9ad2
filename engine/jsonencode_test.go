package engine

import (
	"encoding/json"
	"strings"
	"testing"
)

// The engine's JSON encoder writes what goja's JSON.stringify writes, for
// every kind of value: each case is serialized both ways in one runtime
// (Response.json uses the engine's encoder) and the texts compared.
func TestJSONEncoderMatchesStringify(t *testing.T) {
	got := evalJSON(t, `
const cyc = {}; cyc.self = cyc
const getter = { get g() { return { n: 1 } }, plain: 2 }
class Point { constructor() { this.x = 1; this.y = [2] } toString() { return "p" } }
const proto = Object.create({ inherited: 1 }); proto.own = 2
const noProto = Object.create(null); noProto.a = 1
const hidden = {}; Object.defineProperty(hidden, "secret", { value: 1, enumerable: false }); hidden.shown = 2
const sparse = [1, , 3]; sparse[6] = 7
const proxied = new Proxy({ a: 1, b: [1, 2] }, {})
const proxiedArr = new Proxy([1, 2, 3], {})
const withToJSON = { toJSON(key) { return { key, v: 1 } } }
const nested = { list: [withToJSON, { inner: withToJSON }] }
const cases = {
  null: null, true: true, false: false, zero: 0, negZero: -0, int: 42, neg: -7, float: 0.1, big: 1e21, small: 1e-7,
  maxSafe: 2 ** 53, nan: NaN, inf: Infinity, ninf: -Infinity,
  str: "héllo \"quoted\" \\ back", ctrl: "\u0000\u0001\b\f\n\r\t\u001f\u007f", lineSep: "\u2028\u2029", emoji: "😀 ✓",
  lone: "a\ud800b", loneLow: "\udc00", replacement: "\ufffd",
  empty: {}, emptyArr: [], arr: [1, "two", null, true, [], {}], sparse,
  undefs: { a: undefined, b: () => 1, c: Symbol("s"), d: 1 }, arrUndefs: [undefined, () => 1, Symbol("s")],
  order: { b: 1, a: 2, 10: 3, 2: 4, "-1": 5, z: 6 },
  date: new Date(0), badDate: new Date(NaN), boxed: [new Number(3), new String("s"), new Boolean(false), Object(1.5)],
  getter, point: new Point(), proto, noProto, hidden, map: new Map([[1, 2]]), set: new Set([1]), err: new Error("e"),
  re: /x/g, typed: new Uint8Array([1, 2]), buffer: new ArrayBuffer(2), proxied, proxiedArr,
  withToJSON, nested, fnOnly: function () {}, deep: JSON.parse("[".repeat(200) + "]".repeat(200)),
  promise: Promise.resolve(1), args: (function () { return arguments })(1, 2),
  keyWithLone: { ["k\ud800"]: 1 }, unicodeKey: { "clé": 1, "\n": 2 },
}
const out = {}
for (const [name, v] of Object.entries(cases)) {
  let engine
  try { engine = await Response.json(v).text() } catch (e) { engine = e.name + ": " + e.message }
  let goja = JSON.stringify(v)
  if (goja === undefined) goja = "TypeError: Response.json: the value cannot be serialized as JSON"
  out[name] = [engine, goja]
}
for (const [name, v] of Object.entries({ cyc, bigint: 1n, bigInObj: { n: 1n } })) {
  let a, b
  try { a = await Response.json(v).text() } catch (e) { a = e.name + ": " + e.message }
  try { b = JSON.stringify(v) } catch (e) { b = e.name + ": " + e.message }
  out[name] = [a, b]
}
return out`)
	var cases map[string][2]string
	if err := json.Unmarshal([]byte(got), &cases); err != nil {
		t.Fatal(got, err)
	}
	if len(cases) < 50 {
		t.Fatalf("only %d cases ran: %s", len(cases), got)
	}
	for name, c := range cases {
		if c[0] != c[1] {
			t.Errorf("%s: the engine wrote %s, JSON.stringify %s", name, c[0], c[1])
		}
	}
	if c := cases["cyc"]; !strings.Contains(c[0], "circular") {
		t.Errorf("a cycle: %s", c[0])
	}
}

// Nesting past maxJSONDepth is refused with a RangeError, at once.
func TestJSONEncoderDepth(t *testing.T) {
	got := evalJSON(t, `
let v = 1
for (let i = 0; i < 100000; i++) v = [v]
try { await Response.json(v).text(); return "serialized" } catch (e) { return e.name + ": " + e.message }`)
	if !strings.Contains(got, "RangeError") || !strings.Contains(got, "deeper than 1000") {
		t.Errorf("got %s", got)
	}
}
