package orchestrator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/engine"
)

// interceptingSource is a fakeSource whose app has interceptors.
type interceptingSource struct {
	*fakeSource
	interceptors []model.Interceptor
}

func (s interceptingSource) ListInterceptors(_ context.Context, appID string) ([]model.Interceptor, error) {
	return s.interceptors, nil
}

// guarded is shop with a guard script (g1, g2) in front of /hello.
func guarded(t *testing.T, exec *fakeExecutor) (*orchestrator.Orchestrator, orchestrator.Target) {
	t.Helper()
	d := shop("/hello")
	d.scripts = append(d.scripts,
		model.Script{ID: "g1", AppID: "shop", Name: "one.js", ActiveVersion: 1, Code: "g"},
		model.Script{ID: "g2", AppID: "shop", Name: "two.js", ActiveVersion: 1, Code: "g"})
	src := interceptingSource{newFakeSource(d), []model.Interceptor{
		{ID: "i1", AppID: "shop", ScriptID: "g1", Path: "/*rest", Order: 1},
		{ID: "i2", AppID: "shop", ScriptID: "g2", Path: "/hello", Order: 2},
		{ID: "i3", AppID: "shop", ScriptID: "g2", Path: "/elsewhere/*rest", Order: 0},
	}}
	lim := model.ScriptLimits{WallTimeMS: 1000}
	o := newOrchestrator(src, exec, nil, orchestrator.Config{MaxConcurrent: 4, LimitDefaults: lim, LimitCeilings: lim})
	target, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/hello")
	if !ok || err != nil {
		t.Fatalf("resolve: %v %v", ok, err)
	}
	return o, target
}

func TestChainResolvedInOrder(t *testing.T) {
	_, target := guarded(t, &fakeExecutor{})
	var ids []string
	for _, i := range target.Interceptors {
		ids = append(ids, i.ID+"="+i.Script.ID)
	}
	if strings.Join(ids, ",") != "i1=g1,i2=g2" {
		t.Errorf("chain %v, want i1=g1,i2=g2 (i3's pattern does not match)", ids)
	}
}

func TestChainPassesOnWithinOneBudget(t *testing.T) {
	exec := &fakeExecutor{result: func(inv *engine.Invocation) *engine.Result {
		switch inv.ScriptID {
		case "g1":
			return &engine.Result{Next: &engine.Next{Data: []byte(`{"by":"g1"}`)}}
		case "g2":
			return &engine.Result{Next: &engine.Next{Data: append(inv.Data, '!'),
				Request: &engine.Request{Method: "GET", URL: "http://shop.example.com/hello", Header: engine.Header{"X-User": {"ada"}}}}}
		}
		return &engine.Result{Response: &engine.Response{Status: 200}}
	}}
	o, target := guarded(t, exec)
	res, err := o.Run(ctx, target, orchestrator.Call{Request: engine.Request{Method: "GET", URL: "http://shop.example.com/hello"}})
	if err != nil || res.Response == nil || res.Response.Status != 200 {
		t.Fatalf("run: %+v %v", res, err)
	}
	invs := exec.invocations()
	if len(invs) != 3 || invs[0].ScriptID != "g1" || invs[1].ScriptID != "g2" || invs[2].ScriptID != "s1" {
		t.Fatalf("ran %d invocations, want g1, g2, s1", len(invs))
	}
	if !invs[0].Intercept || !invs[1].Intercept || invs[2].Intercept {
		t.Error("the interceptors must run as interceptors, the route's script as a fetch")
	}
	if invs[0].Data != nil || string(invs[1].Data) != `{"by":"g1"}` || string(invs[2].Data) != `{"by":"g1"}!` {
		t.Errorf("ctx.data passed: %q, %q, %q", invs[0].Data, invs[1].Data, invs[2].Data)
	}
	if invs[2].Request.Header["X-User"] == nil {
		t.Error("the request g2 passed on did not reach the route's script")
	}
	// One budget: each step gets what the ones before left of the
	// route's second, never its own whole second.
	budget := invs[0].Limits.WallTime
	if budget <= 0 || budget >= time.Second || invs[1].Limits.WallTime > budget || invs[2].Limits.WallTime > invs[1].Limits.WallTime {
		t.Errorf("wall times %v, %v, %v: each must be at most the one before, within the route's 1s",
			invs[0].Limits.WallTime, invs[1].Limits.WallTime, invs[2].Limits.WallTime)
	}
}

func TestChainEndsAtAnAnswerOrAFailure(t *testing.T) {
	for _, c := range []struct {
		name   string
		result *engine.Result
		want   string
	}{
		{"answer", &engine.Result{Response: &engine.Response{Status: 401}}, ""},
		{"throw", &engine.Result{Error: &engine.ExecError{Code: engine.CodeException, Message: "Error: boom"}}, `interceptor "one.js" (script g1) failed: Error: boom`},
	} {
		t.Run(c.name, func(t *testing.T) {
			exec := &fakeExecutor{result: func(inv *engine.Invocation) *engine.Result { return c.result }}
			o, target := guarded(t, exec)
			res, err := o.Run(ctx, target, orchestrator.Call{})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(exec.invocations()); n != 1 {
				t.Errorf("%d executions, want the first interceptor's only", n)
			}
			if c.want != "" && (res.Error == nil || res.Error.Message != c.want) {
				t.Errorf("error %+v, want %q", res.Error, c.want)
			}
		})
	}
}

func TestChainFailsClosedWithoutTheGuardsScript(t *testing.T) {
	src := interceptingSource{newFakeSource(shop("/hello")), []model.Interceptor{
		{ID: "i1", AppID: "shop", ScriptID: "gone", Path: "/*rest"},
	}}
	exec := &fakeExecutor{}
	o := newOrchestrator(src, exec, nil, orchestrator.Config{MaxConcurrent: 4})
	target, ok, err := o.Resolve(ctx, "shop.example.com", "GET", "/hello")
	if !ok || err != nil {
		t.Fatalf("resolve: %v %v", ok, err)
	}
	res, err := o.Run(ctx, target, orchestrator.Call{})
	if err != nil || res.Error == nil || !strings.Contains(res.Error.Message, "no active version") {
		t.Fatalf("run: %+v %v, want an error naming the missing script", res, err)
	}
	if n := len(exec.invocations()); n != 0 {
		t.Errorf("%d executions: the route's script ran past a guard that could not", n)
	}
}
