package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSetupRace has many clients race to create the first owner with the
// setup token: exactly one wins, and the token is spent.
func TestSetupRace(t *testing.T) {
	var done atomic.Int32
	s := newStack(t, stackOptions{noUsers: true, setupDone: func() { done.Add(1) }})
	if res := s.do("GET", "/api/v1/admin/setup", nil, ""); res.status != 200 || res.json()["needed"] != true || res.json()["expires_at"] != nil {
		t.Fatalf("before the token: %d %s", res.status, res.body)
	}
	token, expires, err := s.mgr.PrepareSetup(context.Background(), time.Hour)
	if err != nil || !strings.HasPrefix(token, "pci_") || time.Until(expires) < 59*time.Minute {
		t.Fatalf("PrepareSetup = %q %v %v", token, expires, err)
	}
	res := s.do("GET", "/api/v1/admin/setup", nil, "")
	if res.status != 200 || res.json()["needed"] != true || res.json()["expires_at"] == nil {
		t.Fatalf("setup status: %d %s", res.status, res.body)
	}
	setup := func(token, user, password string) response {
		return s.do("POST", "/api/v1/admin/setup", nil, fmt.Sprintf(`{"token":%q,"username":%q,"password":%q}`, token, user, password))
	}
	// Refusals do not spend the token.
	if res := setup("pci_nope", "root", "a long password"); res.status != 401 || !strings.Contains(res.body, "not the setup token") {
		t.Fatalf("wrong token: %d %s", res.status, res.body)
	}
	if res := setup(token, "root", "short"); res.status != 400 {
		t.Fatalf("short password: %d %s", res.status, res.body)
	}
	if res := setup(token, "Root!", "a long password"); res.status != 400 {
		t.Fatalf("bad user name: %d %s", res.status, res.body)
	}
	if res := s.do("POST", "/api/v1/admin/setup", nil, `{"token":"`+token+`"}`); res.status != 400 {
		t.Fatalf("missing fields: %d %s", res.status, res.body)
	}

	const n = 24
	results := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// send, not setup (do): a failure must not end the test from
			// another goroutine.
			res, err := s.send("POST", "/api/v1/admin/setup", nil,
				fmt.Sprintf(`{"token":%q,"username":"owner%d","password":"a long password"}`, token, i))
			if err != nil {
				t.Errorf("client %d: %v", i, err)
			}
			results[i] = res
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, r := range results {
		switch r.status {
		case 201:
			if winner >= 0 {
				t.Fatalf("clients %d and %d both created the first owner", winner, i)
			}
			winner = i
		case 409:
		default:
			t.Errorf("client %d: %d %s", i, r.status, r.body)
		}
	}
	if winner < 0 {
		t.Fatal("nobody created the first owner")
	}
	var users int
	_ = s.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM users WHERE role = 'owner'`).Scan(&users)
	if users != 1 || done.Load() != 1 {
		t.Fatalf("%d owners, setup done %d times; want 1 and 1", users, done.Load())
	}
	// The winner is logged in, as a login would.
	won := results[winner].json()
	session := won["token"].(string)
	if me := s.as(session, "GET", "/api/v1/admin/auth/me", ""); me.status != 200 || !strings.Contains(me.body, fmt.Sprintf(`"username":"owner%d"`, winner)) || !strings.Contains(me.body, `"role":"owner"`) {
		t.Fatalf("the first owner's session: %d %s", me.status, me.body)
	}
	if !strings.Contains(results[winner].header.Get("Set-Cookie"), "picloud_session=") {
		t.Errorf("no session cookie: %v", results[winner].header)
	}
	if res := s.do("GET", "/api/v1/admin/setup", nil, ""); res.json()["needed"] != false {
		t.Fatalf("after setup: %s", res.body)
	}
	if res := setup(token, "late", "a long password"); res.status != 409 || !strings.Contains(res.body, "already done") {
		t.Fatalf("setup again: %d %s", res.status, res.body)
	}
	audit := s.as(session, "GET", "/api/v1/admin/audit", "").body
	if strings.Count(audit, `"action":"setup.complete"`) != 1 || strings.Contains(audit, token) || strings.Contains(audit, "a long password") {
		t.Fatalf("audit: %s", audit)
	}
	// With a user, no new token is made.
	if tok, _, err := s.mgr.PrepareSetup(context.Background(), time.Hour); tok != "" || err != nil {
		t.Fatalf("PrepareSetup with users = %q, %v", tok, err)
	}
}

func TestSetupExpiresAndIsReplaced(t *testing.T) {
	var done atomic.Int32
	s := newStack(t, stackOptions{noUsers: true, setupDone: func() { done.Add(1) }})
	ctx := context.Background()
	expired, _, _ := s.mgr.PrepareSetup(ctx, -time.Second)
	res := s.do("POST", "/api/v1/admin/setup", nil, `{"token":"`+expired+`","username":"root","password":"a long password"}`)
	if res.status != 401 || !strings.Contains(res.body, "expired") {
		t.Fatalf("expired token: %d %s", res.status, res.body)
	}
	old, _, _ := s.mgr.PrepareSetup(ctx, time.Hour)
	fresh, _, _ := s.mgr.PrepareSetup(ctx, time.Hour) // a restart makes a new one
	if res := s.do("POST", "/api/v1/admin/setup", nil, `{"token":"`+old+`","username":"root","password":"a long password"}`); res.status != 401 {
		t.Fatalf("replaced token: %d %s", res.status, res.body)
	}
	// A user made on the board makes the token moot.
	if _, err := s.mgr.AddUser(ctx, terminal, "admin", "a long password", "owner"); err != nil {
		t.Fatal(err)
	}
	if done.Load() != 1 {
		t.Fatalf("setup done %d times after user add, want 1", done.Load())
	}
	if res := s.do("POST", "/api/v1/admin/setup", nil, `{"token":"`+fresh+`","username":"root","password":"a long password"}`); res.status != 409 {
		t.Fatalf("token after user add: %d %s", res.status, res.body)
	}
}
