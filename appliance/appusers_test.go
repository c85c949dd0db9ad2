package appliance

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/engine"
)

// countingHasher counts the password verifications of a real hasher,
// real ones and dummy ones apart.
type countingHasher struct {
	*auth.Hasher
	real, dummy atomic.Int32
}

func (h *countingHasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	h.real.Add(1)
	return h.Hasher.Verify(ctx, password, encoded)
}

func (h *countingHasher) VerifyDummy(ctx context.Context, password string) error {
	h.dummy.Add(1)
	return h.Hasher.VerifyDummy(ctx, password)
}

// usersCall makes one users call of app and returns its result as JSON.
func usersCall(t *testing.T, ds *data.Service, app, op string, args any) string {
	t.Helper()
	b, _ := json.Marshal(args)
	res, err := ds.Call(context.Background(), app, engine.DataCall{Op: "users." + op, Args: b})
	if err != nil {
		t.Fatalf("users.%s: %v", op, err)
	}
	return string(res.Value)
}

// TestAppUserVerifyHashesForUnknownEmails checks the constant-time
// property by its cause: an unknown email, or a user without a password,
// costs one argon2 verification (of the dummy hash), as a wrong password
// does.
func TestAppUserVerifyHashesForUnknownEmails(t *testing.T) {
	st := store.New(pgtest.NewDatabase(t))
	ctx := context.Background()
	app, err := st.CreateApp(ctx, "users-verify", "")
	if err != nil {
		t.Fatal(err)
	}
	h := &countingHasher{Hasher: auth.NewHasher(auth.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32})}
	ds := data.New(st, nil).WithUsers(st, h, auth.NewThrottle(auth.ThrottleConfig{}))
	usersCall(t, ds, app.ID, "create", map[string]string{"email": "known@example.org", "password": "the password"})
	usersCall(t, ds, app.ID, "create", map[string]string{"email": "nopass@example.org"})

	for _, c := range []struct {
		email, password, want string
		real, dummy           int32
	}{
		{"known@example.org", "the password", "known@example.org", 1, 0},
		{"known@example.org", "a wrong one", "null", 1, 0},
		{"unknown@example.org", "the password", "null", 0, 1},
		{"nopass@example.org", "any password", "null", 0, 1},
	} {
		h.real.Store(0)
		h.dummy.Store(0)
		got := usersCall(t, ds, app.ID, "verify", map[string]string{"email": c.email, "password": c.password})
		if (c.want == "null") != (got == "null") || (c.want != "null" && !json.Valid([]byte(got))) {
			t.Errorf("verify %s: %s, want %s", c.email, got, c.want)
		}
		if h.real.Load() != c.real || h.dummy.Load() != c.dummy {
			t.Errorf("verify %s: %d verifications and %d dummy ones, want %d and %d",
				c.email, h.real.Load(), h.dummy.Load(), c.real, c.dummy)
		}
	}
}

// TestAppUserTokensStore checks the store's tokens: named by their app,
// single use, refused once expired.
func TestAppUserTokensStore(t *testing.T) {
	st := store.New(pgtest.NewDatabase(t))
	ctx := context.Background()
	a, err := st.CreateApp(ctx, "tokens-a", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.CreateApp(ctx, "tokens-b", "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateAppUser(ctx, a.ID, "u@example.org", "", json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	hash := auth.HashToken("t1")
	if err := st.CreateAppUserToken(ctx, model.AppUserToken{Hash: hash, AppID: a.ID, UserID: u.ID, Kind: model.AppTokenReset, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// A token cannot be made for another app's user.
	other := auth.HashToken("t2")
	if err := st.CreateAppUserToken(ctx, model.AppUserToken{Hash: other, AppID: b.ID, UserID: u.ID, Kind: model.AppTokenSession, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppUserBySession(ctx, b.ID, other, now); err == nil {
		t.Error("a session was made for another app's user")
	}
	if _, err := st.UseAppUserToken(ctx, b.ID, model.AppTokenReset, hash, now); err == nil {
		t.Error("app b used app a's reset token")
	}
	if _, err := st.UseAppUserToken(ctx, a.ID, model.AppTokenVerify, hash, now); err == nil {
		t.Error("a reset token was used as a verification token")
	}
	if id, err := st.UseAppUserToken(ctx, a.ID, model.AppTokenReset, hash, now); err != nil || id != u.ID {
		t.Fatalf("use the token: %q, %v", id, err)
	}
	if _, err := st.UseAppUserToken(ctx, a.ID, model.AppTokenReset, hash, now); err == nil {
		t.Error("the token was used twice")
	}
	late := auth.HashToken("t3")
	if err := st.CreateAppUserToken(ctx, model.AppUserToken{Hash: late, AppID: a.ID, UserID: u.ID, Kind: model.AppTokenVerify, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UseAppUserToken(ctx, a.ID, model.AppTokenVerify, late, now.Add(2*time.Minute)); err == nil {
		t.Error("an expired token was used")
	}
}

// TestAppUserPasswordRehashed checks that a right password hashed with
// older parameters is hashed again with the board's.
func TestAppUserPasswordRehashed(t *testing.T) {
	st := store.New(pgtest.NewDatabase(t))
	ctx := context.Background()
	app, err := st.CreateApp(ctx, "users-rehash", "")
	if err != nil {
		t.Fatal(err)
	}
	old := auth.NewHasher(auth.Params{Memory: 32, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32})
	now := auth.NewHasher(auth.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32})
	usersCall(t, data.New(st, nil).WithUsers(st, old, auth.NewThrottle(auth.ThrottleConfig{})), app.ID, "create",
		map[string]string{"email": "old@example.org", "password": "the password"})
	ds := data.New(st, nil).WithUsers(st, now, auth.NewThrottle(auth.ThrottleConfig{}))
	if got := usersCall(t, ds, app.ID, "verify", map[string]string{"email": "old@example.org", "password": "the password"}); got == "null" {
		t.Fatal("the old hash no longer verifies")
	}
	u, err := st.AppUserByEmail(ctx, app.ID, "old@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if now.NeedsRehash(u.PasswordHash) {
		t.Errorf("the hash %q was not made again with the board's parameters", u.PasswordHash)
	}
	if got := usersCall(t, ds, app.ID, "verify", map[string]string{"email": "old@example.org", "password": "the password"}); got == "null" {
		t.Fatal("the new hash does not verify")
	}
}

// TestAppUsersStorageQuota checks that app users count against their
// app's storage quota: users.create, users.update and token-issuing calls
// reserve their size and are refused with limit.storage past it, changing
// nothing; a deleted user frees its room.
func TestAppUsersStorageQuota(t *testing.T) {
	st := store.New(pgtest.NewDatabase(t))
	ctx := context.Background()
	app, err := st.CreateApp(ctx, "users-quota", "")
	if err != nil {
		t.Fatal(err)
	}
	h := auth.NewHasher(auth.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32})
	ds := data.New(st, nil).WithUsers(st, h, auth.NewThrottle(auth.ThrottleConfig{})).WithStorageQuota(st, 1<<20)
	setQuota := func(bytes int64) {
		t.Helper()
		if err := st.SetAppStorageQuota(ctx, app.ID, &bytes); err != nil {
			t.Fatal(err)
		}
		ds.ForgetUsage(app.ID)
	}
	// call makes a users call: its JSON result, or the code of its error.
	call := func(op string, args any) (string, string) {
		t.Helper()
		b, _ := json.Marshal(args)
		res, err := ds.Call(ctx, app.ID, engine.DataCall{Op: "users." + op, Args: b})
		var de *engine.DataError
		if errors.As(err, &de) {
			return "", de.Code
		}
		if err != nil {
			t.Fatalf("users.%s: %v", op, err)
		}
		return string(res.Value), ""
	}
	userID := func(res string) string {
		var u struct{ ID string }
		if err := json.Unmarshal([]byte(res), &u); err != nil || u.ID == "" {
			t.Fatalf("not a user: %s", res)
		}
		return u.ID
	}
	bio := map[string]string{"bio": strings.Repeat("x", 600)}

	// A user takes about 720 bytes here: two fit in 2000, a third not.
	setQuota(2000)
	res, code := call("create", map[string]any{"email": "a@example.org", "password": "a's password", "data": bio})
	if code != "" {
		t.Fatalf("the first user: %s", code)
	}
	a := userID(res)
	res, code = call("create", map[string]any{"email": "b@example.org", "password": "b's password", "data": bio})
	if code != "" {
		t.Fatalf("the second user: %s", code)
	}
	b := userID(res)
	if _, code := call("create", map[string]any{"email": "c@example.org", "password": "c's password", "data": bio}); code != engine.CodeStorageLimit {
		t.Errorf("a third user past the quota: %q, want limit.storage", code)
	}
	if res, _ := call("findByEmail", map[string]string{"email": "c@example.org"}); res != "null" {
		t.Errorf("the refused user was made: %s", res)
	}

	// Room for one token, not two; nor for new data.
	used := usedBytes(t, st, app.ID)
	setQuota(used + model.AppUserTokenBytes + model.AppUserTokenBytes/2)
	if _, code := call("issueSession", map[string]any{"id": a, "sliding": true}); code != "" {
		t.Fatalf("a session within the quota: %s", code)
	}
	if _, code := call("issueSession", map[string]any{"id": a}); code != engine.CodeStorageLimit {
		t.Errorf("a session past the quota: %q, want limit.storage", code)
	}
	if _, code := call("issueToken", map[string]any{"id": a, "purpose": "reset"}); code != engine.CodeStorageLimit {
		t.Errorf("a reset token past the quota: %q, want limit.storage", code)
	}
	if _, code := call("update", map[string]any{"id": a, "data": map[string]string{"bio": strings.Repeat("y", 100)}}); code != engine.CodeStorageLimit {
		t.Errorf("new data past the quota: %q, want limit.storage", code)
	}
	if res, _ := call("get", map[string]string{"id": a}); !strings.Contains(res, strings.Repeat("x", 600)) {
		t.Errorf("the refused update changed the user: %.80s", res)
	}
	if got := usedBytes(t, st, app.ID); got != used+model.AppUserTokenBytes {
		t.Errorf("the usage after one session: %d, want %d", got, used+model.AppUserTokenBytes)
	}

	// A delete frees the user's room at once.
	if res, _ := call("delete", map[string]string{"id": b}); res != `{"deleted":true}` {
		t.Fatalf("delete: %s", res)
	}
	if _, code := call("create", map[string]any{"email": "c@example.org", "password": "c's password", "data": bio}); code != "" {
		t.Errorf("a user in the room of a deleted one: %s", code)
	}
}

// usedBytes is what an app's data takes, counted by the store.
func usedBytes(t *testing.T, st *store.Store, app string) int64 {
	t.Helper()
	u, err := st.AppDataUsage(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, s := range u {
		n += s.Bytes
	}
	return n
}
