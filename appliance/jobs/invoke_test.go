package jobs

import (
	"strings"
	"testing"

	"github.com/picloud/picloud/engine"
)

func TestInvokeFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  engine.Result
		want string // "" succeeded, else a part of the failure
	}{
		{"answered", engine.Result{Response: &engine.Response{Status: 200}}, ""},
		{"no response", engine.Result{}, ""},
		{"a 4xx is an answer", engine.Result{Response: &engine.Response{Status: 404}}, ""},
		{"a 5xx is retried", engine.Result{Response: &engine.Response{Status: 503}}, "answered 503"},
		{"a throw", engine.Result{Error: &engine.ExecError{Code: engine.CodeException, Message: "boom"}}, "script.exception: boom"},
		{"a limit", engine.Result{Error: &engine.ExecError{Code: "limit.time", Message: "too slow"}}, "limit.time"},
	} {
		got := invokeFailure(&tc.res)
		if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: failure %q, want %q", tc.name, got, tc.want)
		}
	}
}
