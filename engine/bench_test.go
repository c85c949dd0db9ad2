package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

func benchInvocation(b *testing.B, src string, req Request) (*InProcess, *Invocation) {
	b.Helper()
	code, err := Transpile(src, JavaScript)
	if err != nil {
		b.Fatal(err)
	}
	return NewInProcess(Options{}), &Invocation{ScriptID: "bench", Version: 1, Code: code, Request: req}
}

func runBench(b *testing.B, x *InProcess, inv *Invocation) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := x.Execute(ctx, inv)
		if err != nil || res.Error != nil {
			b.Fatal(err, res.Error)
		}
	}
}

// BenchmarkGojaNew is the floor: a bare goja runtime.
func BenchmarkGojaNew(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = goja.New()
	}
}

func BenchmarkExecuteHello(b *testing.B) {
	x, inv := benchInvocation(b, `export default { fetch() { return new Response("hi") } }`,
		Request{Method: "GET", URL: "http://pi.local/hello", Header: Header{"Accept": {"*/*"}}})
	runBench(b, x, inv)
}

// BenchmarkExecuteHelloAllArgs is hello with an async handler that
// declares (request, env, ctx), so all three are built.
func BenchmarkExecuteHelloAllArgs(b *testing.B) {
	x, inv := benchInvocation(b, `export default { async fetch(request, env, ctx) { return new Response("hi") } }`,
		Request{Method: "GET", URL: "http://pi.local/hello", Header: Header{"Accept": {"*/*"}}})
	inv.Env = map[string]string{"TOKEN": "x"}
	runBench(b, x, inv)
}

func BenchmarkExecuteHelloString(b *testing.B) {
	x, inv := benchInvocation(b, `export default function () { return "hi" }`,
		Request{Method: "GET", URL: "http://pi.local/hello"})
	runBench(b, x, inv)
}

func BenchmarkExecuteJSONEcho(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"items":[`)
	for i := 0; sb.Len() < 1000; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"id":12345,"name":"item name","ok":true}`)
	}
	sb.WriteString(`]}`)
	x, inv := benchInvocation(b, `export default { async fetch(request) { const data = await request.json(); return Response.json(data) } }`,
		Request{Method: "POST", URL: "http://pi.local/echo", Header: Header{"Content-Type": {"application/json"}}, Body: []byte(sb.String())})
	runBench(b, x, inv)
}

// BenchmarkExecuteURL is the common URL path of a handler: the request's
// URL parsed, its path and a query parameter read.
func BenchmarkExecuteURL(b *testing.B) {
	x, inv := benchInvocation(b, `export default { fetch(request) {
  const u = new URL(request.url)
  return new Response(u.pathname + " " + u.searchParams.get("q"))
} }`, Request{Method: "GET", URL: "http://pi.local/users/7?q=two&x=1"})
	runBench(b, x, inv)
}

// BenchmarkExecuteURLRelative resolves a path against the request's URL,
// as a redirect or an upstream call does.
func BenchmarkExecuteURLRelative(b *testing.B) {
	x, inv := benchInvocation(b, `export default { fetch(request) {
  return new Response(new URL("/thanks?from=form", request.url).href)
} }`, Request{Method: "GET", URL: "http://pi.local/users/7?q=two&x=1"})
	runBench(b, x, inv)
}

// BenchmarkExecuteHelloParallel runs the hello handler on every core.
func BenchmarkExecuteHelloParallel(b *testing.B) {
	x, inv := benchInvocation(b, `export default { fetch() { return new Response("hi") } }`,
		Request{Method: "GET", URL: "http://pi.local/hello", Header: Header{"Accept": {"*/*"}}})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if res, err := x.Execute(ctx, inv); err != nil || res.Error != nil {
				b.Error(err, res.Error)
				return
			}
		}
	})
}

// BenchmarkTranspile is the once-per-version cost of a small TS handler.
func BenchmarkTranspile(b *testing.B) {
	src := "interface Env { A: string }\nexport default { async fetch(req: Request, env: Env) { return new Response(env.A) } }\n"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Transpile(src, TypeScript); err != nil {
			b.Fatal(err)
		}
	}
}

// benchData answers every data call at once with one stored JSON value.
type benchData struct{}

func (benchData) Call(ctx context.Context, app string, c DataCall) (DataResult, error) {
	return DataResult{Value: []byte(`{"type":"json","value":"{\"n\":1,\"name\":\"bench\",\"tags\":[\"a\",\"b\"]}","version":3}`)}, nil
}

// BenchmarkExecuteKVGet is a kv read with the data service answering at
// once: the engine's side of a data call (the SDK, the promise, decoding).
func BenchmarkExecuteKVGet(b *testing.B) {
	code, err := Transpile(`import { kv } from "picloud"
export default { async fetch(request) { const v = await kv.collection("bench").get("k1"); return Response.json(v) } }`, JavaScript)
	if err != nil {
		b.Fatal(err)
	}
	x := NewInProcess(Options{Data: benchData{}})
	inv := &Invocation{ScriptID: "bench", Version: 1, Code: code, AppID: "a",
		Request: Request{Method: "GET", URL: "http://pi.local/kv"}}
	runBench(b, x, inv)
}
