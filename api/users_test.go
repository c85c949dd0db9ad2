package api_test

import (
	"fmt"
	"sync"
	"testing"
)

// newUser creates a user as alice and returns its id.
func (s *stack) newUser(name, password, role string) string {
	s.t.Helper()
	res := s.admin("POST", "/api/v1/admin/users", fmt.Sprintf(`{"username":%q,"password":%q,"role":%q}`, name, password, role))
	if res.status != 201 {
		s.t.Fatalf("create user %s: %d %s", name, res.status, res.body)
	}
	return res.json()["id"].(string)
}

func TestDisabledUser(t *testing.T) {
	s := newStack(t, stackOptions{})
	bob := s.newUser("bob", "bob's password", "admin")
	session := s.login("bob", "bob's password")
	if res := s.as(session, "GET", "/api/v1/admin/apps", ""); res.status != 200 {
		t.Fatalf("bob before: %d", res.status)
	}
	res := s.admin("PATCH", "/api/v1/admin/users/"+bob, `{"disabled":true}`)
	if res.status != 200 || res.json()["disabled"] != true {
		t.Fatalf("disable: %d %s", res.status, res.body)
	}
	// At once: the session is refused and so is a new login.
	if res := s.as(session, "GET", "/api/v1/admin/apps", ""); res.status != 401 {
		t.Fatalf("disabled user's session: %d, want 401", res.status)
	}
	if res := s.do("POST", "/api/v1/admin/auth/login", nil, `{"username":"bob","password":"bob's password"}`); res.status != 401 {
		t.Fatalf("disabled user's login: %d, want 401", res.status)
	}
	if res := s.admin("PATCH", "/api/v1/admin/users/"+bob, `{"disabled":false}`); res.status != 200 {
		t.Fatalf("enable: %d %s", res.status, res.body)
	}
	// Enabled again, bob logs in anew; the old session stays dead.
	fresh := s.login("bob", "bob's password")
	if res := s.as(fresh, "GET", "/api/v1/admin/apps", ""); res.status != 200 {
		t.Fatalf("re-enabled user: %d", res.status)
	}
	if res := s.as(session, "GET", "/api/v1/admin/apps", ""); res.status != 401 {
		t.Fatalf("session from before the disable: %d, want 401", res.status)
	}
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{}`, 400},
		{`{"role":"root"}`, 400},
		{`{"disabled":"yes"}`, 400},
		{`{"role":"member"}`, 200},
	} {
		if res := s.admin("PATCH", "/api/v1/admin/users/"+bob, tc.body); res.status != tc.want {
			t.Errorf("PATCH %s: %d %s, want %d", tc.body, res.status, res.body, tc.want)
		}
	}
	if res := s.admin("PATCH", "/api/v1/admin/users/00000000-0000-0000-0000-00000000abcd", `{"disabled":true}`); res.status != 404 {
		t.Errorf("unknown user: %d", res.status)
	}
}

func TestLastOwner(t *testing.T) {
	s := newStack(t, stackOptions{})
	me := s.admin("GET", "/api/v1/admin/auth/me", nil).json()["id"].(string)
	for _, body := range []string{`{"disabled":true}`, `{"role":"admin"}`, `{"role":"member","disabled":true}`} {
		if res := s.admin("PATCH", "/api/v1/admin/users/"+me, body); res.status != 409 {
			t.Fatalf("last owner %s: %d %s, want 409", body, res.status, res.body)
		}
	}
	// A disabled owner does not count.
	idle := s.newUser("idle", "idle's password", "owner")
	if res := s.admin("PATCH", "/api/v1/admin/users/"+idle, `{"disabled":true}`); res.status != 200 {
		t.Fatalf("disable the other owner: %d %s", res.status, res.body)
	}
	if res := s.admin("PATCH", "/api/v1/admin/users/"+me, `{"role":"admin"}`); res.status != 409 {
		t.Fatalf("last enabled owner demoted: %d %s", res.status, res.body)
	}

	// Two owners disable each other at the same moment: one wins.
	carol := s.newUser("carol", "carol's password", "owner")
	carolSession := s.login("carol", "carol's password")
	var wg sync.WaitGroup
	results := make([]int, 2)
	for i, tc := range []struct{ token, target string }{{s.token, carol}, {carolSession, me}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.as(tc.token, "PATCH", "/api/v1/admin/users/"+tc.target, `{"disabled":true}`).status
		}()
	}
	wg.Wait()
	won := 0
	for _, st := range results {
		switch st {
		case 200:
			won++
		case 409, 401: // refused as the last owner, or already disabled
		default:
			t.Errorf("status %d", st)
		}
	}
	if won != 1 {
		t.Fatalf("results %v: want exactly one owner disabled", results)
	}
	var enabled int
	_ = s.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM users WHERE role = 'owner' AND NOT disabled`).Scan(&enabled)
	if enabled != 1 {
		t.Fatalf("%d enabled owners left, want 1", enabled)
	}
}

func TestPasswords(t *testing.T) {
	s := newStack(t, stackOptions{})
	bob := s.newUser("bob", "bob's password", "member")
	first, second := s.login("bob", "bob's password"), s.login("bob", "bob's password")

	// Bob changes his own password: the session he uses stays, the other ends.
	change := func(token, current, next string) response {
		return s.as(token, "POST", "/api/v1/admin/auth/password", fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, current, next))
	}
	if res := change(first, "wrong password", "bob's new password"); res.status != 400 {
		t.Fatalf("wrong current password: %d %s", res.status, res.body)
	}
	if res := change(first, "bob's password", "short"); res.status != 400 {
		t.Fatalf("too short: %d %s", res.status, res.body)
	}
	if res := s.as(first, "POST", "/api/v1/admin/auth/password", `{"new_password":"x"}`); res.status != 400 {
		t.Fatalf("without the current password: %d", res.status)
	}
	if res := change(first, "bob's password", "bob's new password"); res.status != 204 {
		t.Fatalf("change: %d %s", res.status, res.body)
	}
	if res := s.as(first, "GET", "/api/v1/admin/auth/me", ""); res.status != 200 {
		t.Fatalf("the session that changed it: %d", res.status)
	}
	if res := s.as(second, "GET", "/api/v1/admin/auth/me", ""); res.status != 401 {
		t.Fatalf("the other session: %d, want 401", res.status)
	}
	if res := s.do("POST", "/api/v1/admin/auth/login", nil, `{"username":"bob","password":"bob's password"}`); res.status != 401 {
		t.Fatalf("old password: %d, want 401", res.status)
	}

	// An owner resets it: every session of bob's ends.
	if res := s.admin("POST", "/api/v1/admin/users/"+bob+"/password", `{"password":"reset by alice"}`); res.status != 204 {
		t.Fatalf("reset: %d %s", res.status, res.body)
	}
	if res := s.as(first, "GET", "/api/v1/admin/auth/me", ""); res.status != 401 {
		t.Fatalf("session after reset: %d, want 401", res.status)
	}
	s.login("bob", "reset by alice")
	if res := s.admin("POST", "/api/v1/admin/users/"+bob+"/password", `{"password":"short"}`); res.status != 400 {
		t.Fatalf("short reset: %d", res.status)
	}
	if res := s.admin("POST", "/api/v1/admin/users/00000000-0000-0000-0000-00000000abcd/password", `{"password":"long enough password"}`); res.status != 404 {
		t.Fatalf("reset of unknown user: %d", res.status)
	}

	// Wrong current passwords are rate-limited like logins.
	last := s.login("bob", "reset by alice")
	var res response
	for range 6 {
		res = change(last, "not it at all", "whatever it is")
	}
	if res.status != 429 || res.header.Get("Retry-After") == "" {
		t.Fatalf("after six wrong tries: %d %s", res.status, res.body)
	}
}
