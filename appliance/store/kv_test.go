package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

func TestKV(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	ctx := context.Background()
	a, err := s.CreateApp(ctx, "kv-a", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateApp(ctx, "kv-b", "")
	if err != nil {
		t.Fatal(err)
	}
	put := func(p model.KVPut) int64 {
		t.Helper()
		v, err := s.PutKV(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	v1 := put(model.KVPut{AppID: a.ID, Collection: "c", Key: "k", Type: "text", Value: []byte("one"),
		Metadata: []byte(`{"m":1}`)})
	if _, err := s.GetKV(ctx, b.ID, "c", "k"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("app B reads app A's key: %v", err)
	}
	e, err := s.GetKV(ctx, a.ID, "c", "k")
	if err != nil || string(e.Value) != "one" || e.Version != v1 || string(e.Metadata) != `{"m": 1}` || e.ExpiresAt != nil {
		t.Errorf("get: %+v %v", e, err)
	}

	// ifVersion: a stale version and "only if absent" change nothing.
	stale := v1 + 1000
	if _, err := s.PutKV(ctx, model.KVPut{AppID: a.ID, Collection: "c", Key: "k", Type: "text", Value: []byte("two"),
		CheckVersion: true, IfVersion: &stale}); !errors.Is(err, model.ErrConflict) {
		t.Errorf("a stale ifVersion: %v", err)
	}
	if _, err := s.PutKV(ctx, model.KVPut{AppID: a.ID, Collection: "c", Key: "k", Type: "text", Value: []byte("two"),
		CheckVersion: true}); !errors.Is(err, model.ErrConflict) {
		t.Errorf("ifVersion null over a key: %v", err)
	}
	v2 := put(model.KVPut{AppID: a.ID, Collection: "c", Key: "k", Type: "text", Value: []byte("two"), CheckVersion: true, IfVersion: &v1})
	if _, err := s.DeleteKV(ctx, a.ID, "c", "k", &v1); !errors.Is(err, model.ErrConflict) {
		t.Errorf("delete at a stale version: %v", err)
	}
	// A version never comes back, even for a key deleted and written again.
	if ok, err := s.DeleteKV(ctx, a.ID, "c", "k", &v2); !ok || err != nil {
		t.Errorf("delete: %v %v", ok, err)
	}
	if v3 := put(model.KVPut{AppID: a.ID, Collection: "c", Key: "k", Type: "text", Value: []byte("three"), CheckVersion: true}); v3 <= v2 {
		t.Errorf("version %d after %d", v3, v2)
	}

	// incr: from nothing, over a number, never over anything else.
	for i := 1; i <= 3; i++ {
		n, _, err := s.IncrKV(ctx, a.ID, "c", "n", 2.5)
		if err != nil || n != 2.5*float64(i) {
			t.Errorf("incr %d: %v %v", i, n, err)
		}
	}
	if _, _, err := s.IncrKV(ctx, a.ID, "c", "k", 1); !errors.Is(err, model.ErrInvalid) {
		t.Errorf("incr of text: %v", err)
	}
	put(model.KVPut{AppID: a.ID, Collection: "c", Key: "obj", Type: "json", Value: []byte(`{"n":1}`)})
	if _, _, err := s.IncrKV(ctx, a.ID, "c", "obj", 1); !errors.Is(err, model.ErrInvalid) {
		t.Errorf("incr of an object: %v", err)
	}
	if e, _ := s.GetKV(ctx, a.ID, "c", "k"); string(e.Value) != "three" {
		t.Errorf("a refused incr changed the key: %q", e.Value)
	}

	// Expired keys are absent at once, and purged.
	past := time.Now().Add(-time.Second)
	put(model.KVPut{AppID: a.ID, Collection: "c", Key: "old", Type: "text", Value: []byte("x"), ExpiresAt: &past})
	if _, err := s.GetKV(ctx, a.ID, "c", "old"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("an expired key reads: %v", err)
	}
	if n, _, err := s.IncrKV(ctx, a.ID, "c", "old", 1); err != nil || n != 1 {
		t.Errorf("incr of an expired key: %v %v", n, err)
	}
	put(model.KVPut{AppID: a.ID, Collection: "c", Key: "old2", Type: "text", Value: []byte("x"), ExpiresAt: &past})
	if n, err := s.PurgeExpiredKV(ctx, 100); err != nil || n != 1 {
		t.Errorf("purge: %d %v", n, err)
	}

	// Listing: prefix, order, paging after a key, reverse, other apps apart.
	for i := range 5 {
		put(model.KVPut{AppID: a.ID, Collection: "l", Key: fmt.Sprintf("p:%d", i), Type: "json", Value: []byte("1")})
		put(model.KVPut{AppID: b.ID, Collection: "l", Key: fmt.Sprintf("p:%d", i), Type: "json", Value: []byte("2")})
	}
	put(model.KVPut{AppID: a.ID, Collection: "l", Key: "q", Type: "json", Value: []byte("1")})
	keys := func(q model.KVListQuery) string {
		t.Helper()
		q.AppID, q.Collection = a.ID, "l"
		es, err := s.ListKV(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, e := range es {
			if e.Value != nil && !q.Values {
				t.Errorf("a listing without values has %s's", e.Key)
			}
			out += e.Key + " "
		}
		return out
	}
	if got := keys(model.KVListQuery{Prefix: "p:", Limit: 10}); got != "p:0 p:1 p:2 p:3 p:4 " {
		t.Errorf("prefix: %s", got)
	}
	if got := keys(model.KVListQuery{Prefix: "p:", After: "p:1", Limit: 2}); got != "p:2 p:3 " {
		t.Errorf("after: %s", got)
	}
	if got := keys(model.KVListQuery{Reverse: true, After: "p:3", Limit: 10, Values: true}); got != "p:2 p:1 p:0 " {
		t.Errorf("reverse: %s", got)
	}
	if got := keys(model.KVListQuery{Start: "p:3", End: "q", Limit: 10}); got != "p:3 p:4 " {
		t.Errorf("range: %s", got)
	}
}
