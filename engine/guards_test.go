package engine

import (
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
	// reports that as no match.
	if res.Error == nil && respBody(t, res) != "false" || time.Since(start) > 3*time.Second {
		t.Fatalf("%+v after %v", res.Error, time.Since(start))
	}
}
