package engine

import (
	"strings"
	"testing"
)

func intercepting(data string) func(*Invocation) {
	return func(inv *Invocation) {
		inv.Intercept = true
		if data != "" {
			inv.Data = []byte(data)
		}
	}
}

func TestInterceptPassesOnWithData(t *testing.T) {
	res := run(t, `export default {
		fetch() { throw new Error("fetch must not run") },
		async intercept(req, env, ctx) { ctx.data.seen = (ctx.data.seen ?? 0) + 1; ctx.data.path = new URL(req.url).pathname },
	}`, intercepting(`{"seen":1}`))
	if res.Error != nil || res.Response != nil || res.Next == nil {
		t.Fatalf("got %+v %+v %+v, want a pass", res.Error, res.Response, res.Next)
	}
	jsonEq(t, string(res.Next.Data), `{"seen":2,"path":"/users/7"}`)
	if res.Next.Request != nil {
		t.Errorf("the request was replaced: %+v", res.Next.Request)
	}
}

func TestInterceptNextReplacesTheRequest(t *testing.T) {
	res := run(t, `export default { intercept(req, env, ctx) {
		const h = new Headers(req.headers); h.set("X-User", "ada")
		return ctx.next(new Request(req.url, { method: "POST", headers: h, body: "hi" }))
	} }`, intercepting(""))
	if res.Error != nil || res.Next == nil || res.Next.Request == nil {
		t.Fatalf("got %+v %+v, want a pass with a request", res.Error, res.Next)
	}
	r := res.Next.Request
	if r.Method != "POST" || string(r.Body) != "hi" || r.Header["X-User"][0] != "ada" {
		t.Errorf("passed on %+v", r)
	}
	if res.Next.Data != nil {
		t.Errorf("data %s without ctx.data being touched", res.Next.Data)
	}
}

func TestInterceptAnswers(t *testing.T) {
	res := run(t, `export default { intercept() { return new Response("no", { status: 401 }) } }`, intercepting(""))
	if res.Error != nil || res.Next != nil || res.Response == nil || res.Response.Status != 401 {
		t.Fatalf("got %+v %+v %+v, want a 401", res.Error, res.Next, res.Response)
	}
}

func TestInterceptFailures(t *testing.T) {
	res := run(t, `export default { intercept() { throw new Error("guard broke") } }`, intercepting(""))
	if res.Error == nil || res.Error.Code != CodeException || res.Next != nil {
		t.Errorf("a throwing interceptor: %+v %+v", res.Error, res.Next)
	}
	res = run(t, `export default { fetch() { return "x" } }`, intercepting(""))
	if res.Error == nil || res.Error.Code != CodeNoHandler || !strings.Contains(res.Error.Message, "intercept") {
		t.Errorf("no intercept handler: %+v", res.Error)
	}
	res = run(t, `export default (req, env, ctx) => ctx.next()`)
	if res.Error == nil || !strings.Contains(res.Error.Message, "only an interceptor") {
		t.Errorf("ctx.next in a fetch handler: %+v", res.Error)
	}
}

func TestFetchSeesCtxData(t *testing.T) {
	res := run(t, `export default (req, env, ctx) => Response.json(ctx.data)`, func(inv *Invocation) { inv.Data = []byte(`{"user":"ada"}`) })
	jsonEq(t, respBody(t, res), `{"user":"ada"}`)
}
