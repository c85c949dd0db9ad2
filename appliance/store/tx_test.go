package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

func TestSerializableTx(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	ctx := context.Background()
	app, err := s.CreateApp(ctx, "tx", "")
	if err != nil {
		t.Fatal(err)
	}
	put := func(ctx context.Context, key, v string) error {
		_, err := s.PutKV(ctx, model.KVPut{AppID: app.ID, Collection: "c", Key: key, Type: "json", Value: []byte(v)})
		return err
	}
	get := func(ctx context.Context, key string) string {
		t.Helper()
		e, err := s.GetKV(ctx, app.ID, "c", key)
		if errors.Is(err, model.ErrNotFound) {
			return "absent"
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(e.Value)
	}
	begin := func() *store.Tx {
		t.Helper()
		tx, err := s.BeginSerializable(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback(ctx) })
		return tx
	}

	t.Run("bound calls run in it", func(t *testing.T) {
		tx := begin()
		if err := put(tx.Bind(ctx), "a", "1"); err != nil {
			t.Fatal(err)
		}
		if got := get(ctx, "a"); got != "absent" {
			t.Errorf("outside the transaction a is %s before the commit", got)
		}
		if got := get(tx.Bind(ctx), "a"); got != "1" {
			t.Errorf("inside the transaction a is %s", got)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if got := get(ctx, "a"); got != "1" {
			t.Errorf("after the commit a is %s", got)
		}
	})

	t.Run("rollback leaves nothing", func(t *testing.T) {
		tx := begin()
		if err := put(tx.Bind(ctx), "b", "1"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if got := get(ctx, "b"); got != "absent" {
			t.Errorf("after the rollback b is %s", got)
		}
	})

	t.Run("a concurrent update is a conflict", func(t *testing.T) {
		tx := begin()
		if got := get(tx.Bind(ctx), "a"); got != "1" {
			t.Fatalf("a is %s", got)
		}
		if err := put(ctx, "a", "2"); err != nil {
			t.Fatal(err)
		}
		if err := put(tx.Bind(ctx), "a", "3"); !errors.Is(err, model.ErrTxConflict) {
			t.Fatalf("writing a row updated since the snapshot: %v, want a conflict", err)
		}
		if err := put(tx.Bind(ctx), "c", "1"); !errors.Is(err, model.ErrTxAborted) {
			t.Errorf("a call after the conflict: %v, want aborted", err)
		}
		if err := tx.Commit(ctx); !errors.Is(err, model.ErrTxAborted) {
			t.Errorf("commit after the conflict: %v, want aborted", err)
		}
		if got := get(ctx, "a"); got != "2" {
			t.Errorf("a is %s, want the concurrent write's 2", got)
		}
	})
}

// TestRollbackOfABrokenConnectionEndsTheTransaction: when pgx can no longer
// use a transaction's connection, Rollback fails, but the server process
// holding the transaction is ended before Rollback returns.
func TestRollbackOfABrokenConnectionEndsTheTransaction(t *testing.T) {
	pool := pgtest.NewDatabase(t)
	s := store.New(pool)
	ctx := context.Background()
	app, err := s.CreateApp(ctx, "broken", "")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := s.BeginSerializable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutKV(tx.Bind(ctx), model.KVPut{AppID: app.ID, Collection: "c", Key: "k", Type: "json", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	pid, closeSocket, err := tx.BreakConnection(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSocket()
	state := func() string {
		var st string
		err := pool.QueryRow(ctx, `SELECT coalesce(state, '') FROM pg_stat_activity WHERE pid = $1`, int32(pid)).Scan(&st)
		if errors.Is(err, pgx.ErrNoRows) {
			return "gone"
		}
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := state(); st != "idle in transaction" {
		t.Fatalf("before the rollback the process is %q", st)
	}
	if err := tx.Rollback(ctx); err == nil {
		t.Fatal("the rollback of a broken connection succeeded")
	}
	if st := state(); st != "gone" {
		t.Fatalf("after the rollback the process is %q, want gone", st)
	}
	if _, err := s.GetKV(ctx, app.ID, "c", "k"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("the write of the ended transaction: %v", err)
	}
}
