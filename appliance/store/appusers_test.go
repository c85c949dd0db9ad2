package store_test

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

// TestSlidingAppUserSessions checks the renewal of sliding sessions by
// their lookups, at times the test gives: not while more than half of the
// lifetime is left (no write at all), then to the lifetime from the
// lookup, never past the limit; fixed sessions never move, and expired
// ones are no one's.
func TestSlidingAppUserSessions(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	app, err := s.CreateApp(ctx, "sliding", "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateApp(ctx, "sliding-other", "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateAppUser(ctx, app.ID, "slide@example.org", "", json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	hashOf := func(token string) []byte { h := sha256.Sum256([]byte(token)); return h[:] }
	now := time.Now().UTC().Truncate(time.Microsecond)
	const ttl, limit = time.Hour, 3 * time.Hour
	slide, fixed, brief := hashOf("slide"), hashOf("fixed"), hashOf("brief")
	for _, tok := range []model.AppUserToken{
		{Hash: slide, AppID: app.ID, UserID: u.ID, Kind: model.AppTokenSession, ExpiresAt: now.Add(ttl), SlidingTTL: ttl, MaxExpiresAt: now.Add(limit)},
		{Hash: fixed, AppID: app.ID, UserID: u.ID, Kind: model.AppTokenSession, ExpiresAt: now.Add(ttl)},
		{Hash: brief, AppID: app.ID, UserID: u.ID, Kind: model.AppTokenSession, ExpiresAt: now.Add(ttl), SlidingTTL: ttl, MaxExpiresAt: now.Add(30 * 24 * time.Hour)},
	} {
		if err := s.CreateAppUserToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	// row is a token's expiry and its row version: a write, even of the
	// same expiry, changes the version.
	type row struct {
		expires time.Time
		version string
	}
	rowOf := func(hash []byte) row {
		t.Helper()
		var r row
		if err := s.Pool().QueryRow(ctx, `SELECT expires_at, xmin::text FROM app_user_tokens WHERE token_hash = $1`, hash).Scan(&r.expires, &r.version); err != nil {
			t.Fatal(err)
		}
		return r
	}
	// use looks the session up at at and checks that it is u's (or no
	// one's) and its expiry after.
	use := func(what string, hash []byte, at time.Time, live bool, wantExpires time.Time) row {
		t.Helper()
		got, err := s.AppUserBySession(ctx, app.ID, hash, at)
		switch {
		case live && (err != nil || got.ID != u.ID):
			t.Errorf("%s: %+v, %v; want the user", what, got, err)
		case !live && !errors.Is(err, model.ErrNotFound):
			t.Errorf("%s: %+v, %v; want not found", what, got, err)
		}
		r := rowOf(hash)
		if !r.expires.Equal(wantExpires) {
			t.Errorf("%s: expires at %v after the lookup, want %v", what, r.expires.Sub(now), wantExpires.Sub(now))
		}
		return r
	}

	// More than half of the hour left: nothing is written.
	before := rowOf(slide)
	if r := use("at 29 min", slide, now.Add(29*time.Minute), true, now.Add(ttl)); r.version != before.version {
		t.Error("a lookup with more than half of the lifetime left wrote the row")
	}
	// Less than half left: renewed to an hour from the lookup, once.
	at := now.Add(31 * time.Minute)
	renewed := use("at 31 min", slide, at, true, at.Add(ttl))
	if r := use("a minute later", slide, at.Add(time.Minute), true, at.Add(ttl)); r.version != renewed.version {
		t.Error("a lookup right after a renewal wrote the row again")
	}
	// Another app's lookup neither finds it nor renews it.
	if _, err := s.AppUserBySession(ctx, other.ID, slide, now.Add(85*time.Minute)); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("another app's lookup: %v", err)
	}
	if r := rowOf(slide); r.version != renewed.version {
		t.Error("another app's lookup renewed the session")
	}
	// Renewed again, then only up to the limit, then not past it.
	use("at 1 h 20 min", slide, now.Add(80*time.Minute), true, now.Add(140*time.Minute))
	use("at 2 h 10 min", slide, now.Add(130*time.Minute), true, now.Add(limit))
	atLimit := rowOf(slide)
	if r := use("at 2 h 50 min", slide, now.Add(170*time.Minute), true, now.Add(limit)); r.version != atLimit.version {
		t.Error("a session at its limit was written again")
	}
	use("at the limit", slide, now.Add(limit), false, now.Add(limit))

	// A fixed session never moves, and ends at its expiry.
	fixedBefore := rowOf(fixed)
	if r := use("fixed at 59 min", fixed, now.Add(59*time.Minute), true, now.Add(ttl)); r.version != fixedBefore.version {
		t.Error("a lookup wrote a fixed session")
	}
	use("fixed at 1 h", fixed, now.Add(ttl), false, now.Add(ttl))

	// An expired sliding session is not revived, however far its limit.
	use("sliding, expired", brief, now.Add(ttl+time.Second), false, now.Add(ttl))
	use("sliding, expired, before", brief, now.Add(ttl-time.Second), true, now.Add(2*ttl-time.Second))

	// Only sessions slide, and a sliding one has its limit, at or after
	// its expiry.
	if err := s.CreateAppUserToken(ctx, model.AppUserToken{Hash: hashOf("verify"), AppID: app.ID, UserID: u.ID, Kind: model.AppTokenVerify,
		ExpiresAt: now.Add(ttl), SlidingTTL: ttl, MaxExpiresAt: now.Add(limit)}); err == nil {
		t.Error("a sliding verification token was stored")
	}
	if err := s.CreateAppUserToken(ctx, model.AppUserToken{Hash: hashOf("past"), AppID: app.ID, UserID: u.ID, Kind: model.AppTokenSession,
		ExpiresAt: now.Add(limit), SlidingTTL: limit, MaxExpiresAt: now.Add(ttl)}); err == nil {
		t.Error("a sliding session expiring after its limit was stored")
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO app_user_tokens (token_hash, app_id, user_id, kind, expires_at, sliding_ttl)
VALUES ($1, $2, $3, 'session', $4, interval '1 hour')`, hashOf("nolimit"), app.ID, u.ID, now.Add(ttl)); err == nil {
		t.Error("a sliding session without a limit was stored")
	}
}

// TestSlidingSessionRenewedOnce checks that lookups of a sliding session
// made at once, at a time it is due, renew it once: a trigger the test
// adds counts the writes of the row.
func TestSlidingSessionRenewedOnce(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	app, err := s.CreateApp(ctx, "sliding-once", "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateAppUser(ctx, app.ID, "once@example.org", "", json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `CREATE TABLE token_writes (n int);
CREATE FUNCTION count_token_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO token_writes VALUES (1); RETURN NEW; END $$;
CREATE TRIGGER token_writes AFTER UPDATE ON app_user_tokens FOR EACH ROW EXECUTE FUNCTION count_token_write();`); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("once"))
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.CreateAppUserToken(ctx, model.AppUserToken{Hash: h[:], AppID: app.ID, UserID: u.ID, Kind: model.AppTokenSession,
		ExpiresAt: now.Add(time.Hour), SlidingTTL: time.Hour, MaxExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	at := now.Add(45 * time.Minute)
	const n = 8
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			_, err := s.AppUserBySession(ctx, app.ID, h[:], at)
			errs <- err
		}()
	}
	close(start)
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	var writes int
	var expires time.Time
	if err := s.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM token_writes), (SELECT expires_at FROM app_user_tokens)`).Scan(&writes, &expires); err != nil {
		t.Fatal(err)
	}
	if writes != 1 || !expires.Equal(at.Add(time.Hour)) {
		t.Errorf("%d lookups at once: %d writes, expiry %v; want 1 write, to an hour from the lookup", n, writes, expires.Sub(now))
	}
}
