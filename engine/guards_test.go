package engine

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Built-ins that allocate in one native call throw a RangeError instead of
// ending the process.
func TestAllocationGuards(t *testing.T) {
	for _, src := range []string{
		`'x'.repeat(2**40)`,
		`'abc'.repeat(2**28)`,
		`''.padStart(2**40, 'x')`,
		`'x'.padEnd(2**31)`,
		`new Array(2**32 - 1).fill(0)`,
		`Array(2**30)`,
		`new ArrayBuffer(2**40)`,
		`new Float64Array(2**30)`,
		`Uint8Array.of(1) && new Uint8Array(2**31)`,
		`const s = 'y'.repeat(2**24); [s, s, s, s].join()`,
		`globalThis['Array' + 'Buffer'] && new globalThis['Array' + 'Buffer'](2**40)`,
		`const k = 're' + 'peat'; 'x'[k](2**40)`,
	} {
		res := run(t, `export default { fetch() { `+src+`; return "survived" } }`)
		if res.Error == nil || res.Error.Code != CodeException || !strings.Contains(res.Error.Message, "RangeError") {
			t.Errorf("%s: %+v", src, res.Error)
		}
	}
}

// Guarded built-ins still work for ordinary sizes.
func TestGuardedBuiltinsStillWork(t *testing.T) {
	res := run(t, `export default { fetch() {
		const a = new Array(3).fill(1)
		const b = new Uint8Array([1, 2, 3])
		const ok = [] instanceof Array && b instanceof Uint8Array && Array.isArray(Array(2)) &&
			new ArrayBuffer(8).byteLength === 8 && Array.from([1]).length === 1 && Array(1, 2).length === 2
		return ['x'.repeat(3), 'a'.padStart(3, '-'), 'a'.padEnd(2, '+'), a.join(''), b.join('.'), ok, Array.prototype.fill.name].join(' ')
	} }`)
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	if got := respBody(t, res); got != "xxx --a a+ 111 1.2.3 true fill" {
		t.Fatalf("got %q", got)
	}
}

func TestCatastrophicRegexpTimesOut(t *testing.T) {
	start := time.Now()
	res := run(t, `export default { fetch() { return String(/^(a+)+(?=b)$/.test('a'.repeat(40) + 'c')) } }`,
		func(inv *Invocation) { inv.Limits.WallTime = 10 * time.Second })
	// The backtracking engine gives up after RegexpMatchTimeout; goja
	// reports that as no match. Without the guard the match, native code
	// that goja cannot interrupt, runs on for ages: no bound on the time
	// taken is needed to tell.
	if res.Error != nil || respBody(t, res) != "false" {
		t.Fatalf("%+v after %v, want the answer false", res.Error, time.Since(start))
	}
}

// JSON leaving a script is depth-checked as it is written: 1000 levels
// pass, one more is a RangeError (caught by the script, or an invalid
// response when returned), and a toJSON method stringifying again does not
// reset the count of the outer call.
func TestJSONOutDepth(t *testing.T) {
	deep := func(n int) string { return "let v = 1; for (let i = 0; i < " + strconv.Itoa(n) + "; i++) v = [v];" }
	if got := respBody(t, run(t, "export default () => { "+deep(maxJSONDepth)+" return v }")); len(got) != 2*maxJSONDepth+1 {
		t.Fatalf("%d levels: %d bytes", maxJSONDepth, len(got))
	}
	res := run(t, "export default () => { "+deep(maxJSONDepth+1)+" return v }")
	if res.Error == nil || res.Error.Code != CodeInvalidResponse || !strings.Contains(res.Error.Message, "RangeError") {
		t.Fatalf("%d levels returned: %+v", maxJSONDepth+1, res.Error)
	}
	got := respBody(t, run(t, "export default () => { "+deep(5000)+` try { Response.json(v); return "no error" } catch (e) { return e.name } }`))
	if got != "RangeError" {
		t.Fatalf("Response.json of 5000 levels: %s", got)
	}
	// Every 100 levels a toJSON that stringifies something small.
	got = respBody(t, run(t, `export default () => {
		let v = 1
		for (let i = 0; i < 5000; i++) {
			v = [v]
			if (i % 100 == 0) { const inner = v; v = { toJSON() { Response.json({ x: 1 }); return inner } } }
		}
		try { Response.json(v); return "no error" } catch (e) { return e.name }
	}`))
	if got != "RangeError" {
		t.Fatalf("nested stringify reset the depth: %s", got)
	}
	// console.log of a deep value logs a placeholder rather than failing.
	res = run(t, "export default () => { "+deep(5000)+` console.log(v); return "ok" }`)
	if respBody(t, res) != "ok" || len(res.Logs) != 1 {
		t.Fatalf("console.log of a deep value: %+v", res.Logs)
	}
}
