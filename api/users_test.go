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

// login is the scenario of a login that must succeed; the session token
// is kept in vars[name].
func login(name, username, password string) apiScenario {
	return apiScenario{name: name, method: "POST", url: "/api/v1/admin/auth/login",
		body: fmt.Sprintf(`{"username":%q,"password":%q}`, username, password), expectedStatus: 200, after: save(name, "token")}
}

func TestDisabledUser(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.vars["bob"] = s.newUser("bob", "bob's password", "admin")
	patch := func(name, body string, status int) apiScenario {
		return apiScenario{name: name, method: "PATCH", url: "/api/v1/admin/users/{bob}", headers: asAlice, body: body, expectedStatus: status}
	}
	disable := patch("disable", `{"disabled":true}`, 200)
	disable.expectedJSON = map[string]any{"disabled": true}
	s.runScenarios(t, []apiScenario{
		login("session", "bob", "bob's password"),
		{name: "bob before", method: "GET", url: "/api/v1/admin/apps", headers: bearer("session"), expectedStatus: 200},
		disable,
		// At once: the session is refused and so is a new login.
		{name: "disabled user's session", method: "GET", url: "/api/v1/admin/apps", headers: bearer("session"), expectedStatus: 401},
		{name: "disabled user's login", method: "POST", url: "/api/v1/admin/auth/login", body: `{"username":"bob","password":"bob's password"}`,
			expectedStatus: 401},
		patch("enable", `{"disabled":false}`, 200),
		// Enabled again, bob logs in anew; the old session stays dead.
		login("fresh", "bob", "bob's password"),
		{name: "re-enabled user", method: "GET", url: "/api/v1/admin/apps", headers: bearer("fresh"), expectedStatus: 200},
		{name: "session from before the disable", method: "GET", url: "/api/v1/admin/apps", headers: bearer("session"), expectedStatus: 401},
		patch("empty change", `{}`, 400),
		patch("unknown role", `{"role":"root"}`, 400),
		patch("disabled not a boolean", `{"disabled":"yes"}`, 400),
		patch("new role", `{"role":"member"}`, 200),
		{name: "unknown user", method: "PATCH", url: "/api/v1/admin/users/00000000-0000-0000-0000-00000000abcd", headers: asAlice,
			body: `{"disabled":true}`, expectedStatus: 404},
	})
}

func TestLastOwner(t *testing.T) {
	s := newStack(t, stackOptions{})
	lastOwner := func(body string) apiScenario {
		return apiScenario{name: "last owner " + body, method: "PATCH", url: "/api/v1/admin/users/{me}", headers: asAlice, body: body,
			expectedStatus: 409}
	}
	s.runScenarios(t, []apiScenario{
		{name: "me", method: "GET", url: "/api/v1/admin/auth/me", headers: asAlice, expectedStatus: 200, after: save("me", "id")},
		lastOwner(`{"disabled":true}`),
		lastOwner(`{"role":"admin"}`),
		lastOwner(`{"role":"member","disabled":true}`),
		// A disabled owner does not count.
		{name: "disable the other owner", method: "PATCH", url: "/api/v1/admin/users/{idle}", headers: asAlice, body: `{"disabled":true}`,
			expectedStatus: 200, before: func(t *testing.T, s *stack) { s.vars["idle"] = s.newUser("idle", "idle's password", "owner") }},
		{name: "last enabled owner demoted", method: "PATCH", url: "/api/v1/admin/users/{me}", headers: asAlice, body: `{"role":"admin"}`,
			expectedStatus: 409},
	})

	// Two owners disable each other at the same moment: one wins.
	me := s.vars["me"]
	carol := s.newUser("carol", "carol's password", "owner")
	carolSession := s.login("carol", "carol's password")
	var wg sync.WaitGroup
	results := make([]int, 2)
	for i, tc := range []struct{ token, target string }{{s.token, carol}, {carolSession, me}} {
		wg.Go(func() {
			res, err := s.send("PATCH", "/api/v1/admin/users/"+tc.target, map[string]string{"Authorization": "Bearer " + tc.token}, `{"disabled":true}`)
			if err != nil {
				t.Error(err) // not Fatal: off the test goroutine
				return
			}
			results[i] = res.status
		})
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
	if err := s.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM users WHERE role = 'owner' AND NOT disabled`).Scan(&enabled); err != nil {
		t.Fatal(err)
	}
	if enabled != 1 {
		t.Fatalf("%d enabled owners left, want 1", enabled)
	}
}

func TestPasswords(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.vars["bob"] = s.newUser("bob", "bob's password", "member")
	change := func(name, session, current, next string, status int) apiScenario {
		return apiScenario{name: name, method: "POST", url: "/api/v1/admin/auth/password", headers: bearer(session),
			body: fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, current, next), expectedStatus: status}
	}
	me := func(name, session string, status int) apiScenario {
		return apiScenario{name: name, method: "GET", url: "/api/v1/admin/auth/me", headers: bearer(session), expectedStatus: status}
	}
	reset := func(name, user, password string, status int) apiScenario {
		return apiScenario{name: name, method: "POST", url: "/api/v1/admin/users/" + user + "/password", headers: asAlice,
			body: fmt.Sprintf(`{"password":%q}`, password), expectedStatus: status}
	}
	// Wrong current passwords are rate-limited like logins.
	limited := change("after six wrong tries", "last", "not it at all", "whatever it is", 429)
	limited.tries = 6
	limited.expectedHeaders = map[string]string{"Retry-After": ""}
	s.runScenarios(t, []apiScenario{
		login("first", "bob", "bob's password"),
		login("second", "bob", "bob's password"),
		// Bob changes his own password: the session he uses stays, the other ends.
		change("wrong current password", "first", "wrong password", "bob's new password", 400),
		change("too short", "first", "bob's password", "short", 400),
		{name: "without the current password", method: "POST", url: "/api/v1/admin/auth/password", headers: bearer("first"),
			body: `{"new_password":"x"}`, expectedStatus: 400},
		change("change", "first", "bob's password", "bob's new password", 204),
		me("the session that changed it", "first", 200),
		me("the other session", "second", 401),
		{name: "old password", method: "POST", url: "/api/v1/admin/auth/login", body: `{"username":"bob","password":"bob's password"}`,
			expectedStatus: 401},
		// An owner resets it: every session of bob's ends.
		reset("reset", "{bob}", "reset by alice", 204),
		me("session after reset", "first", 401),
		login("after reset", "bob", "reset by alice"),
		reset("short reset", "{bob}", "short", 400),
		reset("reset of unknown user", "00000000-0000-0000-0000-00000000abcd", "long enough password", 404),
		login("last", "bob", "reset by alice"),
		limited,
	})
}
