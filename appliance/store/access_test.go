package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/appliance/testkit"
)

func audit(action, app string) model.AuditRecord {
	return model.AuditRecord{Channel: model.ChannelAPI, Remote: "192.0.2.1", Action: action, AppID: app, Username: "alice"}
}

func countAudit(t *testing.T, s *store.Store) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAtomically checks that an action and its audit record are written in
// one transaction: both, or neither.
func TestAtomically(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))

	// The action fails after its record was written: no record stays.
	boom := errors.New("boom")
	err := s.Atomically(ctx, func(ctx context.Context) error {
		if err := s.InsertAudit(ctx, audit("app.create", "")); err != nil {
			return err
		}
		if _, err := s.CreateApp(ctx, "first", ""); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Atomically = %v, want the function's error", err)
	}
	if n := countAudit(t, s); n != 0 {
		t.Fatalf("%d audit records after a failed action, want 0", n)
	}
	if apps, _ := s.ListApps(ctx); len(apps) != 1 {
		t.Fatalf("apps after rollback: %+v", apps)
	}

	// The record cannot be written: the action is undone.
	err = s.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.CreateApp(ctx, "second", ""); err != nil {
			return err
		}
		return s.InsertAudit(ctx, audit("Not An Action", ""))
	})
	if !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("bad audit record: %v, want ErrInvalid", err)
	}
	if apps, _ := s.ListApps(ctx); len(apps) != 1 {
		t.Fatalf("app kept without its audit record: %+v", apps)
	}

	// Nested calls join the outer transaction, AddVersion's own included.
	sc, _ := s.CreateScript(ctx, model.DefaultAppID, "a", "js", model.NewVersion{Source: "1", Code: "1"})
	err = s.Atomically(ctx, func(ctx context.Context) error {
		return s.Atomically(ctx, func(ctx context.Context) error {
			if _, err := s.AddVersion(ctx, sc.ID, "", model.NewVersion{Source: "2", Code: "2"}); err != nil {
				return err
			}
			return boom
		})
	})
	if got, _ := s.ScriptByID(ctx, sc.ID); !errors.Is(err, boom) || got.ActiveVersion != 1 {
		t.Fatalf("nested: %v, active version %d; want the version rolled back", err, got.ActiveVersion)
	}

	// Success writes both.
	var app model.App
	err = s.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if app, err = s.CreateApp(ctx, "third", ""); err != nil {
			return err
		}
		return s.InsertAudit(ctx, audit("app.create", app.ID))
	})
	if err != nil || countAudit(t, s) != 1 {
		t.Fatalf("success: %v, %d records", err, countAudit(t, s))
	}
}

func TestAuditQuery(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	u, _ := s.CreateUser(ctx, "bob", "h", model.RoleOwner)
	a, _ := s.CreateApp(ctx, "a", "")
	recs := []model.AuditRecord{
		{Channel: "api", Action: "app.create", AppID: a.ID, Target: a.ID},
		{Channel: "terminal", Action: "user.create", UserID: u.ID, Username: "bob", Target: "x"},
		{Channel: "dashboard", Action: "script.create", AppID: a.ID, UserID: u.ID, Username: "bob", Details: map[string]any{"name": "s"}},
	}
	for _, r := range recs {
		if err := s.InsertAudit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListAudit(ctx, model.AuditQuery{})
	if err != nil || len(all) != 3 || all[0].Action != "script.create" || all[0].Details["name"] != "s" || all[0].Channel != "dashboard" {
		t.Fatalf("all: %+v %v", all, err)
	}
	if got, _ := s.ListAudit(ctx, model.AuditQuery{AppID: a.ID}); len(got) != 2 {
		t.Errorf("by app: %+v", got)
	}
	if got, _ := s.ListAudit(ctx, model.AuditQuery{UserID: u.ID}); len(got) != 2 {
		t.Errorf("by user: %+v", got)
	}
	if got, _ := s.ListAudit(ctx, model.AuditQuery{BeforeID: all[0].ID, Limit: 1}); len(got) != 1 || got[0].ID != all[1].ID {
		t.Errorf("page: %+v", got)
	}
	if got, _ := s.ListAudit(ctx, model.AuditQuery{Since: time.Now().Add(time.Hour)}); len(got) != 0 {
		t.Errorf("since the future: %+v", got)
	}
	if got, _ := s.ListAudit(ctx, model.AuditQuery{Until: time.Now().Add(time.Hour), Since: time.Now().Add(-time.Hour)}); len(got) != 3 {
		t.Errorf("within the hour: %+v", got)
	}
}

func TestAPITokens(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	u, _ := s.CreateUser(ctx, "ci", "h", model.RoleMember)
	now := time.Now().UTC().Truncate(time.Microsecond)
	past := now.Add(-time.Hour)
	tok, err := s.CreateAPIToken(ctx, model.APIToken{UserID: u.ID, Name: "deploy", Hint: "pca_abc", TokenHash: []byte("h1"),
		Apps: []string{model.DefaultAppID}, Capabilities: []string{"app.read"}})
	if err != nil || tok.ID == "" || len(tok.Apps) != 1 || tok.Apps[0] != model.DefaultAppID || tok.ExpiresAt != nil {
		t.Fatalf("create: %+v %v", tok, err)
	}
	if _, err := s.CreateAPIToken(ctx, model.APIToken{UserID: u.ID, Name: "old", Hint: "pca_def", TokenHash: []byte("h2"),
		Capabilities: []string{"app.read"}, ExpiresAt: &past}); err != nil {
		t.Fatal(err)
	}
	got, user, err := s.TouchAPIToken(ctx, []byte("h1"), now)
	if err != nil || got.ID != tok.ID || user.ID != u.ID || got.Capabilities[0] != "app.read" {
		t.Fatalf("touch: %+v %+v %v", got, user, err)
	}
	if got, _, _ := s.TouchAPIToken(ctx, []byte("h1"), now.Add(30*time.Second)); got.LastUsedAt == nil || !got.LastUsedAt.Equal(now) {
		t.Fatalf("last use within a minute rewritten: %v", got.LastUsedAt)
	}
	if _, _, err := s.TouchAPIToken(ctx, []byte("h2"), now); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("expired token: %v, want ErrNotFound", err)
	}
	if list, _ := s.ListAPITokens(ctx, u.ID); len(list) != 2 {
		t.Fatalf("list: %+v", list)
	}
	if list, _ := s.ListAPITokens(ctx, "00000000-0000-0000-0000-00000000abcd"); len(list) != 0 {
		t.Fatalf("list of another user: %+v", list)
	}
	if err := s.DeleteAPIToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TouchAPIToken(ctx, []byte("h1"), now); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("revoked token: %v, want ErrNotFound", err)
	}
	if err := s.DeleteAPIToken(ctx, tok.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("revoke twice: %v", err)
	}
}

func TestVariables(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	a, _ := s.CreateApp(ctx, "a", "")
	v, created, err := s.PutVariable(ctx, model.Variable{AppID: a.ID, Name: "GREETING", Value: "hi"})
	if err != nil || !created || v.Value != "hi" || v.Secret {
		t.Fatalf("put plain: %+v %v %v", v, created, err)
	}
	v, created, err = s.PutVariable(ctx, model.Variable{AppID: a.ID, Name: "GREETING", Secret: true, Sealed: []byte{1, 2, 3}})
	if err != nil || created || !v.Secret || v.Value != "" || !bytes.Equal(v.Sealed, []byte{1, 2, 3}) {
		t.Fatalf("replace with a secret: %+v %v %v", v, created, err)
	}
	var plain *string
	if err := s.Pool().QueryRow(ctx, `SELECT value FROM app_variables WHERE name = 'GREETING'`).Scan(&plain); err != nil || plain != nil {
		t.Fatalf("a secret's row keeps a plain value: %v %v", plain, err)
	}
	if _, _, err := s.PutVariable(ctx, model.Variable{AppID: a.ID, Name: "X", Secret: true}); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("secret without a sealed value: %v, want ErrInvalid", err)
	}
	_, _, _ = s.PutVariable(ctx, model.Variable{AppID: model.DefaultAppID, Name: "GREETING", Value: "other"})
	if list, _ := s.ListVariables(ctx, a.ID); len(list) != 1 {
		t.Fatalf("list of one app: %+v", list)
	}
	if list, _ := s.ListVariables(ctx, ""); len(list) != 2 {
		t.Fatalf("list of all apps: %+v", list)
	}
	if n, _ := s.CountVariables(ctx, a.ID); n != 1 {
		t.Fatalf("count: %d", n)
	}
	if got, err := s.VariableByName(ctx, model.DefaultAppID, "GREETING"); err != nil || got.Value != "other" {
		t.Fatalf("by name: %+v %v", got, err)
	}
	if err := s.DeleteVariable(ctx, model.DefaultAppID, "GREETING"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVariable(ctx, model.DefaultAppID, "GREETING"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	_ = s.DeleteApp(ctx, a.ID)
	if list, _ := s.ListVariables(ctx, ""); len(list) != 0 {
		t.Fatalf("variables outlived their app: %+v", list)
	}
}

// TestSetupTokenTakenOnce races many transactions for one setup token:
// exactly one gets it. The winner keeps its transaction open until every
// other one has either lost or is waiting for its lock, so that they
// really contend.
func TestSetupTokenTakenOnce(t *testing.T) {
	const n = 16
	pool := poolOf(t, pgtest.NewDatabaseURL(t), n+2) // every contender, and the watcher
	s := store.New(pool)
	if _, err := s.SetupToken(ctx); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("fresh database: %v", err)
	}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	if err := s.ReplaceSetupToken(ctx, []byte("old"), exp); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceSetupToken(ctx, []byte("new"), exp); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeSetupToken(ctx, []byte("old")); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("replaced token: %v, want ErrNotFound", err)
	}
	var wg sync.WaitGroup
	var won, lost atomic.Int32
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Atomically(ctx, func(ctx context.Context) error {
				if _, err := s.TakeSetupToken(ctx, []byte("new")); err != nil {
					return err
				}
				// Hold the token's lock until the others have lost or wait.
				return testkit.Poll(10*time.Second, func() error {
					if w, l := waitingOnLocks(pool), int(lost.Load()); w+l < n-1 {
						return fmt.Errorf("%d transactions wait for a lock and %d lost, want %d in all", w, l, n-1)
					}
					return nil
				})
			})
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, model.ErrNotFound):
				lost.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d callers took the setup token, want 1", won.Load())
	}
}

// poolOf opens a pool of up to max connections on the database at url.
func poolOf(t *testing.T, url string, max int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = max
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// waitingOnLocks counts the other sessions of pool's database that wait
// for a lock.
func waitingOnLocks(pool *pgxpool.Pool) int {
	var n int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
	return n
}

// TestLastOwnerRace has two transactions each disable one of two owners if
// another enabled owner remains: only one may succeed. The first keeps its
// lock until the second waits for it (or, were there no lock, has read the
// owners), so that the two overlap whatever the scheduling.
func TestLastOwnerRace(t *testing.T) {
	pool := poolOf(t, pgtest.NewDatabaseURL(t), 4)
	s := store.New(pool)
	a, _ := s.CreateUser(ctx, "a", "h", model.RoleOwner)
	b, _ := s.CreateUser(ctx, "b", "h", model.RoleOwner)
	errLast := errors.New("last owner")
	locked, secondRead := make(chan struct{}), make(chan struct{})
	disable := func(id string, first bool) error {
		return s.Atomically(ctx, func(ctx context.Context) error {
			if !first {
				<-locked
			}
			owners, err := s.LockEnabledOwners(ctx)
			if err != nil {
				return err
			}
			if first {
				close(locked)
				err := testkit.Poll(10*time.Second, func() error {
					select {
					case <-secondRead:
						return nil
					default:
					}
					if waitingOnLocks(pool) == 0 {
						return errors.New("the second transaction neither waits for the lock nor has read")
					}
					return nil
				})
				if err != nil {
					return err
				}
			} else {
				close(secondRead)
			}
			if len(owners) < 2 {
				return errLast
			}
			yes := true
			_, err = s.UpdateUser(ctx, id, nil, &yes)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- disable(a.ID, true) }()
	go func() { errs <- disable(b.ID, false) }()
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) || !(errors.Is(e1, errLast) || errors.Is(e2, errLast)) {
		t.Fatalf("results %v and %v, want exactly one refused as the last owner", e1, e2)
	}
	owners, _ := s.LockEnabledOwners(ctx)
	if len(owners) != 1 {
		t.Fatalf("enabled owners: %v", owners)
	}
}

func TestUserUpdatesAndSessions(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	u, _ := s.CreateUser(ctx, "carol", "h", model.RoleMember)
	role, yes := model.RoleAdmin, true
	got, err := s.UpdateUser(ctx, u.ID, &role, nil)
	if err != nil || got.Role != model.RoleAdmin || got.Disabled {
		t.Fatalf("promote: %+v %v", got, err)
	}
	if got, err = s.UpdateUser(ctx, u.ID, nil, &yes); err != nil || got.Role != model.RoleAdmin || !got.Disabled {
		t.Fatalf("disable: %+v %v", got, err)
	}
	if _, err := s.UpdateUser(ctx, "00000000-0000-0000-0000-00000000abcd", &role, nil); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	bad := "root"
	if _, err := s.UpdateUser(ctx, u.ID, &bad, nil); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("unknown role: %v", err)
	}
	now := time.Now()
	for _, h := range []string{"s1", "s2", "s3"} {
		_ = s.CreateSession(ctx, model.Session{TokenHash: []byte(h), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	}
	if n, err := s.DeleteSessions(ctx, u.ID, []byte("s2")); err != nil || n != 2 {
		t.Fatalf("end all but one: %d %v", n, err)
	}
	if n, _ := s.DeleteSessions(ctx, u.ID, nil); n != 1 {
		t.Fatalf("end the rest: %d", n)
	}
	if err := s.SetPasswordByID(ctx, u.ID, "h2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UserByID(ctx, u.ID); got.PasswordHash != "h2" {
		t.Fatalf("password hash %q", got.PasswordHash)
	}
	if n, _ := s.CountUsers(ctx); n != 1 {
		t.Fatalf("count: %d", n)
	}
}

// TestConcurrentSavesFromOneBase has two transactions save a new version of
// one script from the same base: one saves, the other is refused with a
// *model.VersionConflictError. The first keeps its transaction open until
// the second waits for its lock (or has finished), so that they overlap.
func TestConcurrentSavesFromOneBase(t *testing.T) {
	pool := poolOf(t, pgtest.NewDatabaseURL(t), 4)
	s := store.New(pool)
	sc, err := s.CreateScript(ctx, model.DefaultAppID, "greet", "js", model.NewVersion{Source: "v1", Code: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	saved, secondDone := make(chan struct{}), make(chan struct{})
	save := func(src string, first bool) error {
		if !first {
			<-saved
			defer close(secondDone)
			_, err := s.AddVersion(ctx, sc.ID, "", model.NewVersion{Source: src, Code: src, Base: 1})
			return err
		}
		return s.Atomically(ctx, func(ctx context.Context) error {
			if _, err := s.AddVersion(ctx, sc.ID, "", model.NewVersion{Source: src, Code: src, Base: 1}); err != nil {
				return err
			}
			close(saved)
			return testkit.Poll(10*time.Second, func() error {
				select {
				case <-secondDone:
					return nil
				default:
				}
				if waitingOnLocks(pool) == 0 {
					return errors.New("the second save neither waits for the lock nor has finished")
				}
				return nil
			})
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- save("alice", true) }()
	go func() { errs <- save("bob", false) }()
	e1, e2 := <-errs, <-errs
	var stale *model.VersionConflictError
	if (e1 == nil) == (e2 == nil) || !(errors.As(e1, &stale) || errors.As(e2, &stale)) {
		t.Fatalf("results %v and %v, want one save and one *model.VersionConflictError", e1, e2)
	}
	if stale.BaseVersion != 1 || stale.LatestVersion != 2 {
		t.Fatalf("conflict %+v, want base 1 and latest 2", stale)
	}
	got, err := s.ScriptByID(ctx, sc.ID)
	if err != nil || got.LatestVersion != 2 || got.Source != "alice" {
		t.Fatalf("script after the race: %+v %v, want version 2 with alice's source", got, err)
	}
	if _, err := s.AddVersion(ctx, sc.ID, "", model.NewVersion{Source: "v3", Code: "v3"}); err != nil {
		t.Fatalf("save without a base: %v", err)
	}
}
