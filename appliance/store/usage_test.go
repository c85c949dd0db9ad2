package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

func TestDataUsage(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	ctx := context.Background()
	a, err := s.CreateApp(ctx, "usage-a", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateApp(ctx, "usage-b", "")
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	for _, p := range []model.KVPut{
		{AppID: a.ID, Collection: "c1", Key: "k", Type: "text", Value: []byte("12345")},                      // 6
		{AppID: a.ID, Collection: "c2", Key: "kk", Type: "json", Value: []byte(`1`), Metadata: []byte(`{}`)}, // 5
		{AppID: b.ID, Collection: "c1", Key: "k", Type: "text", Value: []byte("1234567890")},                 // 11
	} {
		if _, err := s.PutKV(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// Expired keys do not count, though the purge has not run yet.
	if _, err := s.PutKV(ctx, model.KVPut{AppID: a.ID, Collection: "c3", Key: "gone", Type: "text", Value: []byte("xxxx")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE kv_entries SET expires_at = $1 WHERE key = 'gone'`, past); err != nil {
		t.Fatal(err)
	}

	// A document counts as its JSON text: {"n": 1} is 8 bytes.
	if _, err := s.InsertDoc(ctx, a.ID, "posts", "01900000-0000-7000-8000-000000000001", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}

	u, err := s.AppDataUsage(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(u) != 3 || u[0] != (model.StoreUsage{Kind: "kv", Collections: 2, Items: 2, Bytes: 11}) ||
		u[1] != (model.StoreUsage{Kind: "docs", Collections: 1, Items: 1, Bytes: 8}) {
		t.Errorf("app A's usage: %+v", u)
	}
	all, err := s.AppsStorage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, x := range all {
		got[x.App] = x.UsedBytes
	}
	if got["usage-a"] != 19 || got["usage-b"] != 11 || got["default"] != 0 {
		t.Errorf("every app's usage: %v", got)
	}

	if q, err := s.AppStorageQuota(ctx, a.ID); q != nil || err != nil {
		t.Errorf("a new app's own quota: %v %v", q, err)
	}
	n := int64(4096)
	if err := s.SetAppStorageQuota(ctx, a.ID, &n); err != nil {
		t.Fatal(err)
	}
	if q, err := s.AppStorageQuota(ctx, a.ID); q == nil || *q != n || err != nil {
		t.Errorf("app A's own quota: %v %v", q, err)
	}
	if err := s.SetAppStorageQuota(ctx, a.ID, nil); err != nil {
		t.Fatal(err)
	}
	if q, err := s.AppStorageQuota(ctx, a.ID); q != nil || err != nil {
		t.Errorf("app A's quota back to the default: %v %v", q, err)
	}
	if err := s.SetAppStorageQuota(ctx, "00000000-0000-0000-0000-00000000abcd", &n); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the quota of an unknown app: %v", err)
	}
}

// TestDataUsageCountsAppUsers checks that an app's users count against
// its storage quota: email, password hash and data, and a fixed size per
// live token.
func TestDataUsageCountsAppUsers(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	ctx := context.Background()
	a, err := s.CreateApp(ctx, "users-usage", "")
	if err != nil {
		t.Fatal(err)
	}
	const hash = "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA"                        // 44 bytes
	ann, err := s.CreateAppUser(ctx, a.ID, "ann@example.org", hash, []byte(`{"n":1}`)) // 15 + 44 + 8 ({"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAppUser(ctx, a.ID, "bo@example.org", "", []byte(`{}`)); err != nil { // 14 + 0 + 2
		t.Fatal(err)
	}
	now := time.Now()
	for i, exp := range []time.Time{now.Add(time.Hour), now.Add(time.Hour), now.Add(-time.Hour)} { // the last is expired
		h := make([]byte, 32)
		h[0] = byte(i + 1)
		if err := s.CreateAppUserToken(ctx, model.AppUserToken{Hash: h, AppID: a.ID, UserID: ann.ID, Kind: model.AppTokenSession, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	want := int64(15+44+8+14+0+2) + 2*model.AppUserTokenBytes
	u, err := s.AppDataUsage(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(u) != 3 || u[2] != (model.StoreUsage{Kind: "users", Items: 2, Bytes: want}) {
		t.Errorf("the usage of two users and two live tokens: %+v, want users of %d bytes", u, want)
	}
	all, err := s.AppsStorage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range all {
		if x.App == "users-usage" && x.UsedBytes != want {
			t.Errorf("every app's usage: %+v, want %d bytes", x, want)
		}
	}
}
