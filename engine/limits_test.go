package engine

import (
	"strings"
	"testing"
)

// Each limit ends the execution with its own code, and an invocation's
// limits override the executor's defaults.
func TestLimitsEndExecutions(t *testing.T) {
	tests := []struct {
		name, src, code string
		lim             Limits
		line            int
	}{
		{"call depth", "function f(n) { return f(n + 1) + 1 }\nexport default () => f(0)", CodeStackLimit, Limits{}, 1},
		{"call depth through native calls", "const f = (n) => [n].map(f)\nexport default () => f(0)", CodeStackLimit, Limits{}, 1},
		{"lower call depth", "function f(n) { return n === 0 ? 0 : f(n - 1) + 1 }\nexport default () => String(f(100))", CodeStackLimit, Limits{MaxCallDepth: 50}, 1},
		{"timer flood", "export default () => { for (;;) setTimeout(() => {}, 1000) }", CodeTimersLimit, Limits{}, 1},
		{"interval flood", "export default () => { for (let i = 0; i < 20; i++) setInterval(() => {}, 1000); return 'x' }", CodeTimersLimit, Limits{MaxTimers: 10}, 1},
		{"console flood", "export default () => { for (;;) console.log('spam spam spam') }", CodeConsoleLimit, Limits{}, 1},
		{"response size", "export default () => 'x'.repeat(2000)", CodeOutputLimit, Limits{MaxResponseBytes: 1000}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, tt.src, func(inv *Invocation) { inv.Limits = tt.lim })
			if res.Error == nil || res.Error.Code != tt.code || res.Response != nil {
				t.Fatalf("want %s, got %+v %+v", tt.code, res.Error, res.Response)
			}
			if tt.line != 0 && res.Error.Line != tt.line {
				t.Errorf("line %d, want %d", res.Error.Line, tt.line)
			}
		})
	}
	// Under the limits, the same shapes run.
	ok := []string{
		"function f(n) { return n === 0 ? 0 : f(n - 1) + 1 }\nexport default () => String(f(400))",
		"export default () => new Promise((r) => { let n = 0; const tick = () => ++n === 2000 ? r(String(n)) : setTimeout(tick, 0); tick() })",
	}
	for _, src := range ok {
		if res := run(t, src); res.Error != nil {
			t.Errorf("%s: %+v", src, res.Error)
		}
	}
}

// JSON bodies read by a script are bounded in depth with a clear error,
// never a crash.
func TestRequestJSONDepth(t *testing.T) {
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	res := run(t, `export default async (req) => { try { await req.json(); return "parsed" } catch (e) { return e.name + ": " + e.message } }`,
		func(inv *Invocation) { inv.Request.Method = "POST"; inv.Request.Body = []byte(deep) })
	if got := respBody(t, res); got != "SyntaxError: JSON nested deeper than 1000 levels" {
		t.Errorf("got %q", got)
	}
	ok := strings.Repeat("[", 900) + strings.Repeat("]", 900)
	res = run(t, `export default async (req) => String(Array.isArray(await req.json()))`,
		func(inv *Invocation) { inv.Request.Method = "POST"; inv.Request.Body = []byte(ok) })
	if got := respBody(t, res); got != "true" {
		t.Errorf("900 levels: %q", got)
	}
}
