package data

import (
	"context"
	"encoding/json"
	"testing"

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
