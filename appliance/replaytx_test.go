package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/engine"
)

// TestReplayScopeRollsBack: the data calls of a replay's execution see
// their own writes, inside and outside db.transaction, and leave nothing
// behind when the execution ends; a failed statement fails its call only;
// invoke and email.send are refused; the storage quota counts nothing.
func TestReplayScopeRollsBack(t *testing.T) {
	ctx := context.Background()
	st := store.New(pgtest.NewDatabase(t))
	app, err := st.CreateApp(ctx, "replay-tx", "")
	if err != nil {
		t.Fatal(err)
	}
	ds := data.New(st, nil).WithTransactions(txStore{st}, 2).WithStorageQuota(st, 1<<20).WithQueues(st, 1<<16)
	call := func(ctx context.Context, op string, tx uint64, args string) (string, error) {
		res, err := ds.Call(ctx, app.ID, engine.DataCall{Op: op, Collection: "c", Tx: tx, Args: []byte(args)})
		return string(res.Value), err
	}
	put := func(ctx context.Context, tx uint64, key, value string) error {
		_, err := call(ctx, "kv.put", tx, fmt.Sprintf(`{"key":%q,"type":"text","value":%q}`, key, value))
		return err
	}
	get := func(ctx context.Context, key string) string {
		t.Helper()
		v, err := call(ctx, "kv.get", 0, fmt.Sprintf(`{"key":%q,"type":"text"}`, key))
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		return v
	}
	if err := put(ctx, 0, "k", "before"); err != nil {
		t.Fatal(err)
	}
	before := ds.StorageUsage([]string{app.ID})

	rctx, cancel := context.WithCancel(engine.WithReplay(ctx))
	rctx, endScope := ds.OpenScope(rctx)
	var once sync.Once
	end := func() { cancel(); once.Do(endScope) }
	defer end() // a failed check must not leave the replay's connection busy
	if err := put(rctx, 0, "k", "replayed"); err != nil {
		t.Fatalf("a replay's put: %v", err)
	}
	if v := get(rctx, "k"); !strings.Contains(v, "replayed") {
		t.Errorf("the replay does not see its own write: %s", v)
	}
	// A statement that fails (a float overflow) fails its call only.
	if _, err := call(rctx, "kv.incr", 0, `{"key":"n","delta":1e308}`); err != nil {
		t.Fatal(err)
	}
	if _, err := call(rctx, "kv.incr", 0, `{"key":"n","delta":1e308}`); err == nil {
		t.Fatal("an overflowing incr succeeded")
	}
	if err := put(rctx, 0, "after-failure", "x"); err != nil {
		t.Fatalf("a call after a failed one: %v", err)
	}
	// db.transaction is a savepoint: its commit keeps its writes in the
	// replay, its rollback drops them.
	begin := func() uint64 {
		t.Helper()
		v, err := call(rctx, "tx.begin", 0, `{}`)
		if err != nil {
			t.Fatalf("tx.begin: %v", err)
		}
		var b struct{ Tx uint64 }
		if err := json.Unmarshal([]byte(v), &b); err != nil || b.Tx == 0 {
			t.Fatalf("tx.begin answered %s", v)
		}
		return b.Tx
	}
	tx := begin()
	if err := put(rctx, tx, "in-tx", "committed"); err != nil {
		t.Fatal(err)
	}
	if _, err := call(rctx, "tx.commit", tx, `{}`); err != nil {
		t.Fatalf("tx.commit: %v", err)
	}
	tx = begin()
	if err := put(rctx, tx, "in-tx-2", "rolled back"); err != nil {
		t.Fatal(err)
	}
	if _, err := call(rctx, "tx.rollback", tx, `{}`); err != nil {
		t.Fatalf("tx.rollback: %v", err)
	}
	if v := get(rctx, "in-tx"); !strings.Contains(v, "committed") {
		t.Errorf("a committed db.transaction's write is not seen in the replay: %s", v)
	}
	if v := get(rctx, "in-tx-2"); strings.Contains(v, "rolled back") {
		t.Errorf("a rolled back db.transaction's write is seen: %s", v)
	}
	// A queue send is a row of the replay's transaction.
	if _, err := ds.Call(rctx, app.ID, engine.DataCall{Op: "queue.send", Collection: "jobs", Args: []byte(`{"messages":[{"body":"\"1\""}]}`)}); err != nil {
		t.Fatalf("a replay's queue.send: %v", err)
	}
	for _, op := range []string{"invoke", "email.send"} {
		_, err := call(rctx, op, 0, `{}`)
		var de *engine.DataError
		if !asDataError(err, &de) || de.Code != engine.CodeReplayRefused {
			t.Errorf("%s in a replay: %v", op, err)
		}
	}
	cancel()
	end()

	if v := get(ctx, "k"); !strings.Contains(v, "before") {
		t.Errorf("the replay's write outlived it: %s", v)
	}
	for _, k := range []string{"after-failure", "in-tx", "n"} {
		if v := get(ctx, k); v != "null" {
			t.Errorf("key %s outlived the replay: %s", k, v)
		}
	}
	if msgs, err := st.QueueMessages(ctx, app.ID, "jobs", "", "", 10); err != nil || len(msgs) != 0 {
		t.Errorf("the replay's queue send outlived it: %d messages (%v)", len(msgs), err)
	}
	if open, _ := ds.Transactions(); open != 0 {
		t.Errorf("%d transactions left open", open)
	}
	after := ds.StorageUsage([]string{app.ID})
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the replay's writes counted towards the quota: %v, then %v", before, after)
	}
}

func asDataError(err error, de **engine.DataError) bool {
	if err == nil {
		return false
	}
	e, ok := err.(*engine.DataError)
	*de = e
	return ok
}
