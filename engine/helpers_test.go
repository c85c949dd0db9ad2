package engine

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// testExecutor is shared by tests that need no special options.
var testExecutor = NewInProcess(Options{})

// baseInvocation is a GET request with a few headers.
func baseInvocation(code string) *Invocation {
	return &Invocation{
		ScriptID: "", Code: code,
		Request: Request{Method: "GET", URL: "http://pi.local:8080/users/7?x=1&y=two",
			Header: Header{"Accept": {"*/*"}, "X-Multi": {"a", "b"}}},
		Limits: Limits{WallTime: 2 * time.Second},
	}
}

// transpile transpiles or fails the test.
func transpile(t testing.TB, lang Language, src string) string {
	t.Helper()
	code, err := Transpile(src, lang)
	if err != nil {
		t.Fatalf("Transpile: %v", err)
	}
	return code
}

// run transpiles src as JavaScript and executes it.
func run(t testing.TB, src string, mod ...func(*Invocation)) *Result {
	t.Helper()
	return runWith(t, testExecutor, JavaScript, src, mod...)
}

func runWith(t testing.TB, x *InProcess, lang Language, src string, mod ...func(*Invocation)) *Result {
	t.Helper()
	inv := baseInvocation(transpile(t, lang, src))
	for _, m := range mod {
		m(inv)
	}
	res, err := x.Execute(context.Background(), inv)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return res
}

// respBody returns the response body or fails with the execution error.
func respBody(t testing.TB, res *Result) string {
	t.Helper()
	if res.Error != nil {
		t.Fatalf("execution failed: %+v", res.Error)
	}
	return string(res.Response.Body)
}

// evalJSON runs BODY as an async handler (request, env, ctx in scope) and
// returns what it returned as JSON.
func evalJSON(t testing.TB, fnBody string, mod ...func(*Invocation)) string {
	t.Helper()
	res := run(t, "export default async (request, env, ctx) => {\nconst v = await (async () => {\n"+fnBody+
		"\n})()\nreturn new Response(JSON.stringify(v))\n}", mod...)
	return respBody(t, res)
}

func withBody(ctype, b string) func(*Invocation) {
	return func(inv *Invocation) {
		inv.Request.Method = "POST"
		inv.Request.Header = Header{"Content-Type": {ctype}}
		inv.Request.Body = []byte(b)
	}
}

// jsonEq compares JSON texts semantically.
func jsonEq(t testing.TB, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("bad JSON %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
