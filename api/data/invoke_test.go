package data

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/engine"
)

// recordingInvoker answers every invoke with 200 "ok" and keeps what it
// was asked.
type recordingInvoker struct {
	app, script string
	req         engine.Request
	calls       int
}

func (r *recordingInvoker) Invoke(_ context.Context, appID, script string, req engine.Request) (*engine.Response, error) {
	r.app, r.script, r.req = appID, script, req
	r.calls++
	return &engine.Response{Status: 200, Body: []byte("ok")}, nil
}

// TestInvokeArguments checks that the data service passes a well-formed
// invoke on for the execution's app, and refuses bad ones without
// running anything.
func TestInvokeArguments(t *testing.T) {
	s := New(nil, nil)
	call := func(script, args string) (engine.DataResult, error) {
		return s.Call(context.Background(), "app-1", engine.DataCall{Op: "invoke", Collection: script, Args: []byte(args)})
	}
	good := `{"request":{"method":"GET","url":"http://x/","header":{},"body":""}}`
	if _, err := call("b", good); dataCode(err) != engine.CodeDataUnavailable {
		t.Errorf("invoke without an invoker: %v, want data.unavailable", err)
	}
	inv := &recordingInvoker{}
	s.SetInvoker(inv)
	for _, c := range []struct{ script, args, code string }{
		{"", good, engine.CodeDataInvalid},
		{"b", `{"request":{"method":"GET","url":"http://x/"},"app_id":"app-2"}`, engine.CodeDataInvalid},
		{"b", `{"request":{"url":"http://x/"}}`, engine.CodeDataInvalid},
		{"b", `not json`, engine.CodeDataInvalid},
	} {
		if _, err := call(c.script, c.args); dataCode(err) != c.code {
			t.Errorf("invoke %q %s: %v, want %s", c.script, c.args, err, c.code)
		}
	}
	if inv.calls != 0 {
		t.Fatalf("refused invoke calls reached the invoker %d times", inv.calls)
	}
	res, err := call("b", `{"request":{"method":"POST","url":"http://x/p","header":{"X-A":["1"]},"body":"aGk="}}`)
	if err != nil {
		t.Fatal(err)
	}
	if inv.app != "app-1" || inv.script != "b" || inv.req.Method != "POST" || string(inv.req.Body) != "hi" || inv.req.Header["X-A"][0] != "1" {
		t.Errorf("the invoker got %q %q %+v", inv.app, inv.script, inv.req)
	}
	var resp engine.Response
	if err := json.Unmarshal(res.Value, &resp); err != nil || resp.Status != 200 || string(resp.Body) != "ok" {
		t.Errorf("result %s (%v), want status 200 and body ok", res.Value, err)
	}
}

// recordingPlanner plans every invoke.later as run "7" and keeps what it
// was asked.
type recordingPlanner struct {
	app, script, body string
	delay             time.Duration
	calls             int
}

func (r *recordingPlanner) InvokeLater(_ context.Context, appID, script, body string, delay time.Duration) (string, error) {
	r.app, r.script, r.body, r.delay = appID, script, body, delay
	r.calls++
	return "7", nil
}

// TestInvokeLaterArguments checks that the data service passes a
// well-formed invoke.later on for the execution's app, and refuses bad
// ones (which a worker, not trusted, may send past the SDK's checks)
// without planning anything.
func TestInvokeLaterArguments(t *testing.T) {
	s := New(nil, nil).WithQueues(nil, 64)
	call := func(script, args string) (engine.DataResult, error) {
		return s.Call(context.Background(), "app-1", engine.DataCall{Op: "invoke.later", Collection: script, Args: []byte(args)})
	}
	if _, err := call("b", `{"body":"1"}`); dataCode(err) != engine.CodeDataUnavailable {
		t.Errorf("invoke.later without a planner: %v, want data.unavailable", err)
	}
	p := &recordingPlanner{}
	s.SetLaterPlanner(p)
	for _, c := range []struct{ script, args, code string }{
		{"", `{"body":"1"}`, engine.CodeDataInvalid},
		{"b", `{"body":"1","app_id":"app-2"}`, engine.CodeDataInvalid},
		{"b", `{"body":"not json"}`, engine.CodeDataInvalid},
		{"b", `{"body":{"a":1}}`, engine.CodeDataInvalid},
		{"b", `{"body":"1","delaySeconds":-1}`, engine.CodeDataInvalid},
		{"b", `{"body":"1","delaySeconds":604801}`, engine.CodeDataInvalid},
		{"b", `{"body":"1","delaySeconds":"soon"}`, engine.CodeDataInvalid},
		{"b", `{"body":"\"` + strings.Repeat("x", 63) + `\""}`, engine.CodeDataTooLarge},
	} {
		if _, err := call(c.script, c.args); dataCode(err) != c.code {
			t.Errorf("invoke.later %q %s: %v, want %s", c.script, c.args, err, c.code)
		}
	}
	if p.calls != 0 {
		t.Fatalf("refused calls reached the planner %d times", p.calls)
	}
	res, err := call("b", `{"body":"{\"a\":[1,2]}","delaySeconds":1.5}`)
	if err != nil {
		t.Fatal(err)
	}
	if p.app != "app-1" || p.script != "b" || p.body != `{"a":[1,2]}` || p.delay != 1500*time.Millisecond {
		t.Errorf("the planner got %q %q %q %v", p.app, p.script, p.body, p.delay)
	}
	if string(res.Value) != `{"id":"7"}` {
		t.Errorf("result %s, want {\"id\":\"7\"}", res.Value)
	}
}
