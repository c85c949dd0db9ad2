package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

// TestKVAdmin checks the administrators' view of kv data: collections with
// their live keys and bytes, and browsing by prefix, substring and
// cursor, never reaching another app's keys or expired ones.
func TestKVAdmin(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	ctx := context.Background()
	a, err := s.CreateApp(ctx, "kva-a", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateApp(ctx, "kva-b", "")
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	for _, p := range []model.KVPut{
		{AppID: a.ID, Collection: "c", Key: "user:1", Type: "text", Value: []byte("12345")},
		{AppID: a.ID, Collection: "c", Key: "user:2", Type: "json", Value: []byte(`{"n":1}`), Metadata: []byte(`{"m":1}`)},
		{AppID: a.ID, Collection: "c", Key: "order:1/user:1", Type: "bytes", Value: []byte{0, 1}},
		{AppID: a.ID, Collection: "c", Key: "user:gone", Type: "text", Value: []byte("x"), ExpiresAt: &past},
		{AppID: a.ID, Collection: "expired", Key: "k", Type: "text", Value: []byte("x"), ExpiresAt: &past},
		{AppID: b.ID, Collection: "c", Key: "user:b", Type: "text", Value: []byte("b")},
	} {
		if _, err := s.PutKV(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	cs, err := s.KVCollections(ctx, a.ID)
	// user:1 6+5, user:2 6+7+8 ({"m": 1} as jsonb text), order:1/user:1 14+2
	if err != nil || len(cs) != 1 || cs[0] != (model.KVCollection{Name: "c", Keys: 3, Bytes: 11 + 21 + 16}) {
		t.Errorf("collections of a: %+v %v", cs, err)
	}
	keys := func(q model.KVBrowseQuery) []string {
		t.Helper()
		q.AppID, q.Collection = a.ID, "c"
		if q.Limit == 0 {
			q.Limit = 10
		}
		ks, err := s.BrowseKV(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(ks))
		for i, k := range ks {
			out[i] = k.Key
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    model.KVBrowseQuery
		want string
	}{
		{"all", model.KVBrowseQuery{}, "order:1/user:1 user:1 user:2"},
		{"prefix", model.KVBrowseQuery{Prefix: "user:"}, "user:1 user:2"},
		{"substring", model.KVBrowseQuery{Contains: "user:1"}, "order:1/user:1 user:1"},
		{"prefix and substring", model.KVBrowseQuery{Prefix: "user", Contains: ":2"}, "user:2"},
		{"after", model.KVBrowseQuery{After: "user:1"}, "user:2"},
		{"limit", model.KVBrowseQuery{Limit: 1}, "order:1/user:1"},
		{"a substring with LIKE's characters", model.KVBrowseQuery{Contains: "%"}, ""},
	} {
		if got := strings.Join(keys(tc.q), " "); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	ks, err := s.BrowseKV(ctx, model.KVBrowseQuery{AppID: a.ID, Collection: "c", Prefix: "user:2", Limit: 1})
	if err != nil || len(ks) != 1 || ks[0].Type != "json" || ks[0].Size != 7 || string(ks[0].Metadata) != `{"m": 1}` ||
		ks[0].Version == 0 || ks[0].UpdatedAt.IsZero() || ks[0].ExpiresAt != nil {
		t.Errorf("user:2: %+v %v", ks, err)
	}
}
