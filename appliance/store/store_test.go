package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

func TestUsersAndSessions(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	u, err := s.CreateUser(ctx, "alice", "hash1", model.RoleOwner)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, "alice", "hash2", model.RoleMember); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("duplicate user: %v, want ErrConflict", err)
	}
	if _, err := s.UserByName(ctx, "bob"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("unknown user: %v, want ErrNotFound", err)
	}

	now := time.Now().UTC().Truncate(time.Microsecond)
	ttl := time.Hour
	tok := []byte("token-hash")
	if err := s.CreateSession(ctx, model.Session{TokenHash: tok, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(ttl)}); err != nil {
		t.Fatal(err)
	}
	// Within a minute the expiry is not rewritten; later it slides.
	got, exp, err := s.TouchSession(ctx, tok, now.Add(30*time.Second), ttl)
	if err != nil || got.ID != u.ID || !exp.Equal(now.Add(ttl)) {
		t.Fatalf("touch soon: %v %v %v", got, exp, err)
	}
	_, exp, err = s.TouchSession(ctx, tok, now.Add(30*time.Minute), ttl)
	if err != nil || !exp.Equal(now.Add(30*time.Minute+ttl)) {
		t.Fatalf("touch later: exp %v err %v, want slid to %v", exp, err, now.Add(30*time.Minute+ttl))
	}
	if _, _, err := s.TouchSession(ctx, tok, now.Add(3*time.Hour), ttl); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("expired session: %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteExpiredSessions(ctx, now.Add(3*time.Hour)); err != nil || n != 1 {
		t.Fatalf("delete expired: %d %v", n, err)
	}

	// A new password ends the user's sessions.
	_ = s.CreateSession(ctx, model.Session{TokenHash: tok, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(ttl)})
	if err := s.SetPassword(ctx, "alice", "hash3"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TouchSession(ctx, tok, now, ttl); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("session after password change: %v", err)
	}
	if err := s.SetPassword(ctx, "nobody", "h"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("set password of unknown user: %v", err)
	}
}

func TestScriptVersions(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	sc, err := s.CreateScript(ctx, model.DefaultAppID, "hello", "js", model.NewVersion{Source: "src1", Code: "code1"})
	if err != nil {
		t.Fatal(err)
	}
	if sc.ActiveVersion != 1 || sc.LatestVersion != 1 || sc.Source != "src1" || sc.Code != "code1" {
		t.Fatalf("created: %+v", sc)
	}
	if _, err := s.CreateScript(ctx, model.DefaultAppID, "hello", "js", model.NewVersion{Source: "x", Code: "x"}); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := s.CreateScript(ctx, "00000000-0000-0000-0000-00000000abcd", "x", "js", model.NewVersion{Source: "x", Code: "x"}); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("unknown app: %v, want ErrInvalid", err)
	}
	alice, err := s.CreateUser(ctx, "alice", "h", model.RoleOwner)
	if err != nil {
		t.Fatal(err)
	}
	sc, err = s.AddVersion(ctx, sc.ID, "", model.NewVersion{Source: "src2", Code: "code2", CreatedBy: alice.ID})
	if err != nil || sc.ActiveVersion != 2 || sc.Source != "src2" || sc.Name != "hello" {
		t.Fatalf("add version: %+v %v", sc, err)
	}
	sc, err = s.ActivateVersion(ctx, sc.ID, 1)
	if err != nil || sc.ActiveVersion != 1 || sc.LatestVersion != 2 || sc.Code != "code1" {
		t.Fatalf("activate 1: %+v %v", sc, err)
	}
	if _, err := s.ActivateVersion(ctx, sc.ID, 3); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("activate missing version: %v", err)
	}
	// A save after a rollback is numbered after the latest, not the active.
	sc, err = s.AddVersion(ctx, sc.ID, "renamed", model.NewVersion{Source: "src3", Code: "code3"})
	if err != nil || sc.ActiveVersion != 3 || sc.Name != "renamed" {
		t.Fatalf("save after rollback: %+v %v", sc, err)
	}
	vs, err := s.ListVersions(ctx, sc.ID)
	if err != nil || len(vs) != 3 || vs[0].Version != 3 || !vs[0].Active || vs[2].Active {
		t.Fatalf("versions: %+v %v", vs, err)
	}
	if vs[1].CreatedBy != alice.ID || vs[1].CreatedByName != "alice" || vs[0].CreatedBy != "" || vs[0].CreatedByName != "" {
		t.Fatalf("who saved the versions: %+v", vs)
	}
	v, err := s.Version(ctx, sc.ID, 2)
	if err != nil || v.Source != "src2" || v.Active || v.CreatedByName != "alice" {
		t.Fatalf("version 2: %+v %v", v, err)
	}
	list, err := s.ListScripts(ctx, model.DefaultAppID)
	if err != nil || len(list) != 1 || list[0].Source != "" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := s.DeleteScript(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListVersions(ctx, sc.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("versions of deleted script: %v", err)
	}
	if err := s.DeleteScript(ctx, sc.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestRoutes(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	sc, _ := s.CreateScript(ctx, model.DefaultAppID, "a", "js", model.NewVersion{Source: "x", Code: "x"})
	r, err := s.CreateRoute(ctx, model.Route{ScriptID: sc.ID, Method: "GET", Path: "/users/:id", Shape: "/users/:"})
	if err != nil || r.AppID != model.DefaultAppID {
		t.Fatalf("create route: %+v %v", r, err)
	}
	if _, err := s.CreateRoute(ctx, model.Route{ScriptID: sc.ID, Method: "GET", Path: "/users/:name", Shape: "/users/:"}); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("same shape: %v, want ErrConflict", err)
	}
	if _, err := s.CreateRoute(ctx, model.Route{ScriptID: sc.ID, Method: "*", Path: "/users/:name", Shape: "/users/:"}); err != nil {
		t.Fatalf("same shape, other method: %v", err)
	}
	if _, err := s.CreateRoute(ctx, model.Route{ScriptID: "00000000-0000-0000-0000-00000000abcd", Method: "GET", Path: "/x", Shape: "/x"}); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("route of unknown script: %v, want ErrNotFound", err)
	}
	all, _ := s.AllRoutes(ctx)
	if len(all) != 2 {
		t.Fatalf("all routes: %+v", all)
	}
	if err := s.DeleteRoute(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteScript(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.AllRoutes(ctx); len(all) != 0 {
		t.Fatalf("routes outlived their script: %+v", all)
	}
}

func TestExecutionLog(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	script := "00000000-0000-0000-0000-0000000000aa"
	old := time.Now().Add(-48 * time.Hour)
	var recs []model.ExecutionRecord
	for i := 0; i < 10; i++ {
		at := time.Now()
		if i < 3 {
			at = old
		}
		recs = append(recs, model.ExecutionRecord{AppID: model.DefaultAppID, ScriptID: script, ScriptVersion: 1,
			RequestID: fmt.Sprint("r", i), Method: "GET", Path: "/x", Status: 200, DurationUS: int64(i),
			Console: json.RawMessage(`[{"level":"info","message":"hi"}]`), CreatedAt: at})
	}
	recs[9].Console = nil
	recs[8].ErrorCode, recs[8].Error, recs[8].ErrorLine, recs[8].ErrorColumn = "script.exception", "TypeError: x is undefined", 7, 19
	if err := s.InsertExecutions(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListExecutions(ctx, model.LogQuery{ScriptID: script, Limit: 4})
	if err != nil || len(got) != 4 || got[0].RequestID != "r9" || string(got[0].Console) != "[]" {
		t.Fatalf("newest 4: %+v %v", got, err)
	}
	if e := got[1]; e.Error != "TypeError: x is undefined" || e.ErrorLine != 7 || e.ErrorColumn != 19 || got[0].ErrorLine != 0 {
		t.Fatalf("where the error was raised: %+v", got[:2])
	}
	page, _ := s.ListExecutions(ctx, model.LogQuery{BeforeID: got[3].ID, Limit: 100})
	if len(page) != 6 || page[0].RequestID != "r5" {
		t.Fatalf("next page: %d records, first %+v", len(page), page)
	}
	// Three are too old; of the other seven, keep the newest five.
	n, err := s.PruneExecutions(ctx, time.Now().Add(-24*time.Hour), 5)
	if err != nil || n != 5 {
		t.Fatalf("prune: %d %v, want 5", n, err)
	}
	left, _ := s.ListExecutions(ctx, model.LogQuery{})
	if len(left) != 5 || left[4].RequestID != "r5" {
		t.Fatalf("after prune: %+v", left)
	}
	// All of them too old.
	if n, err := s.PruneExecutions(ctx, time.Now().Add(time.Hour), 100); err != nil || n != 5 {
		t.Fatalf("prune everything: %d %v, want 5", n, err)
	}
}

// Deleting an app deletes its execution records; a record of an app deleted
// while it was in flight does not fail its batch.
func TestDeleteAppDeletesItsExecutions(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	app, err := s.CreateApp(ctx, "gone", "")
	if err != nil {
		t.Fatal(err)
	}
	rec := func(appID, reqID string) model.ExecutionRecord {
		return model.ExecutionRecord{AppID: appID, ScriptID: "00000000-0000-0000-0000-0000000000bb", ScriptVersion: 1,
			RequestID: reqID, Method: "GET", Path: "/", Status: 200, CreatedAt: time.Now()}
	}
	if err := s.InsertExecutions(ctx, []model.ExecutionRecord{rec(app.ID, "a1"), rec(model.DefaultAppID, "d1")}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteApp(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListExecutions(ctx, model.LogQuery{AppID: app.ID}); len(got) != 0 {
		t.Fatalf("records of the deleted app: %+v", got)
	}
	if err := s.InsertExecutions(ctx, []model.ExecutionRecord{rec(app.ID, "a2"), rec(model.DefaultAppID, "d2")}); err != nil {
		t.Fatalf("a batch with a late record of a deleted app: %v", err)
	}
	if got, _ := s.ListExecutions(ctx, model.LogQuery{AppID: model.DefaultAppID}); len(got) != 2 {
		t.Fatalf("the default app's records: %+v", got)
	}
	// A view across apps: any of AppIDs; none when it is empty.
	if got, err := s.ListExecutions(ctx, model.LogQuery{AppIDs: []string{model.DefaultAppID, app.ID}}); err != nil || len(got) != 3 {
		t.Fatalf("records of two apps: %d %v", len(got), err)
	}
	if got, err := s.ListExecutions(ctx, model.LogQuery{AppIDs: []string{}}); err != nil || len(got) != 0 {
		t.Fatalf("records of no app: %d %v", len(got), err)
	}
}
