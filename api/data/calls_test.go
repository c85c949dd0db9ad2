package data

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

func TestCallFamily(t *testing.T) {
	for op, want := range map[string]string{
		"kv.get": FamilyKV, "kv.put": FamilyKV, "docs.find": FamilyDocs, "tx.begin": FamilyTx, "tx.commit": FamilyTx,
		"users.verify": FamilyUsers, "queue.send": FamilyQueue, "invoke": FamilyInvoke, "invoke.later": FamilyInvoke, "email.send": FamilyEmail,
		"": FamilyOther, "kv": FamilyKV, "invoke.x": FamilyOther, "KV.get": FamilyOther, "evil.op": FamilyOther,
		"users": FamilyUsers, "kvx.get": FamilyOther,
	} {
		if got := Family(op); got != want {
			t.Errorf("Family(%q) = %q, want %q", op, got, want)
		}
	}
}

func TestCallOutcome(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, CallOK},
		{&engine.DataError{Code: engine.CodeStorageLimit}, CallLimit},
		{fmt.Errorf("put: %w", &engine.DataError{Code: engine.CodeStorageLimit}), CallLimit},
		{&engine.DataError{Code: engine.CodeDataInvalid}, CallError},
		{&engine.DataError{Code: engine.CodeDataUnavailable}, CallError},
		{&engine.DataError{Code: CodeUsersThrottled}, CallError},
		{errors.New("limit.storage"), CallError},
	} {
		if got := CallOutcome(c.err); got != c.want {
			t.Errorf("CallOutcome(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestDataCallsBounded: whatever ops scripts send, the calls are counted
// by app under the fixed families and outcomes only.
func TestDataCallsBounded(t *testing.T) {
	s := New(nil, nil)
	s.SetInvoker(&recordingInvoker{})
	ctx := context.Background()
	good := `{"request":{"method":"GET","url":"http://x/","header":{},"body":""}}`
	for range 2 {
		if _, err := s.Call(ctx, "app-1", engine.DataCall{Op: "invoke", Collection: "b", Args: []byte(good)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 500 {
		// Unknown ops, and known ones with a bad collection: all refused.
		for _, op := range []string{fmt.Sprintf("op-%d", i), fmt.Sprintf("kv.x%d", i), "docs.find"} {
			if _, err := s.Call(ctx, "app-2", engine.DataCall{Op: op}); err == nil {
				t.Fatalf("%s answered", op)
			}
		}
	}
	got := map[model.DataCallCount]bool{}
	for _, c := range s.DataCalls() {
		got[c] = true
	}
	want := map[model.DataCallCount]bool{
		{AppID: "app-1", Family: FamilyInvoke, Outcome: CallOK, Count: 2}:     true,
		{AppID: "app-2", Family: FamilyOther, Outcome: CallError, Count: 500}: true,
		{AppID: "app-2", Family: FamilyKV, Outcome: CallError, Count: 500}:    true,
		{AppID: "app-2", Family: FamilyDocs, Outcome: CallError, Count: 500}:  true,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("counted %v, want %v", got, want)
	}
}

// TestCountingAllocatesNothing: counting a call of an app already seen
// allocates nothing, answered or failed.
func TestCountingAllocatesNothing(t *testing.T) {
	var c callCounts
	app := string([]byte("app-1")) // not a constant
	refused := &engine.DataError{Code: engine.CodeStorageLimit}
	c.add(app, "kv.get", nil)
	for _, err := range []error{nil, refused} {
		if n := testing.AllocsPerRun(1000, func() { c.add(app, "kv.put", err) }); n != 0 {
			t.Errorf("counting a call (err %v) allocates %v times", err, n)
		}
	}
}
