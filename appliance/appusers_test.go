package appliance

import (
	"context"
	"encoding/json"
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
