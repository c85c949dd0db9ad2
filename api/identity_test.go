package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/picloud/picloud/api"
)

// connClient serves the stack's handler on a listener whose connections
// carry id, as the local admin socket and SSH sessions do, and returns a
// function that sends a request there with optional extra headers.
func connClient(t *testing.T, s *stack, id api.ConnIdentity) func(method, path, body string, header ...string) response {
	srv := httptest.NewUnstartedServer(s.handler)
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context { return api.WithIdentity(ctx, id) }
	srv.Start()
	t.Cleanup(srv.Close)
	return func(method, path, body string, header ...string) response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{t: t, status: res.StatusCode, header: res.Header, body: string(b)}
	}
}

// TestLocalOwnerIdentity checks who a request over the local admin socket
// acts as: the enabled owner created first, recorded in the audit log with
// the terminal channel and the socket's peer.
func TestLocalOwnerIdentity(t *testing.T) {
	s := newStack(t, stackOptions{})
	local := connClient(t, s, api.ConnIdentity{Remote: "local uid 1000"})
	if res := s.admin("POST", "/api/v1/admin/users", `{"username":"bob","password":"bob's long password","role":"owner"}`); res.status != 201 {
		t.Fatalf("create bob: %d %s", res.status, res.body)
	}
	if me := local("GET", "/api/v1/admin/auth/me", ""); me.status != 200 || me.json()["username"] != "alice" {
		t.Fatalf("local request acts as %d %s, want alice, the first owner", me.status, me.body)
	}
	if res := local("POST", "/api/v1/admin/scripts", `{"name":"local","source":"export default () => 1"}`); res.status != 201 {
		t.Fatalf("create over the socket: %d %s", res.status, res.body)
	}
	rec := lastAudit(t, s)
	if rec["action"] != "script.create" || rec["username"] != "alice" || rec["channel"] != "terminal" || rec["remote"] != "local uid 1000" {
		t.Errorf("audit record of a local change: %v", rec)
	}
	// Nothing to log out of: the connection is the credential.
	if res := local("POST", "/api/v1/admin/auth/logout", ""); res.status != 400 {
		t.Errorf("logout over the socket: %d %s, want 400", res.status, res.body)
	}
	// A token sent over the socket counts as usual.
	bob := s.login("bob", "bob's long password")
	if me := local("GET", "/api/v1/admin/auth/me", "", "Authorization", "Bearer "+bob); me.json()["username"] != "bob" {
		t.Errorf("with bob's token over the socket: %s", me.body)
	}
	if me := local("GET", "/api/v1/admin/auth/me", "", "Authorization", "Bearer pcs_wrong"); me.status != 401 {
		t.Errorf("a bad token over the socket: %d, want 401 rather than the local owner", me.status)
	}
	// Alice disabled: the next enabled owner.
	aliceID := s.admin("GET", "/api/v1/admin/auth/me", nil).json()["id"].(string)
	if res := s.as(bob, "PATCH", "/api/v1/admin/users/"+aliceID, `{"disabled":true}`); res.status != 200 {
		t.Fatalf("disable alice: %d %s", res.status, res.body)
	}
	if me := local("GET", "/api/v1/admin/auth/me", ""); me.json()["username"] != "bob" {
		t.Errorf("with alice disabled the local owner is %s, want bob", me.body)
	}
}

func TestLocalOwnerWithoutUsers(t *testing.T) {
	s := newStack(t, stackOptions{noUsers: true})
	local := connClient(t, s, api.ConnIdentity{Remote: "local uid 0"})
	res := local("GET", "/api/v1/admin/apps", "")
	if res.status != 401 || !strings.Contains(res.body, "picloud user add") {
		t.Fatalf("no owner yet: %d %s, want 401 saying how to make one", res.status, res.body)
	}
}

// TestUserIdentity checks a connection that authenticated a user (an SSH
// session): the requests have that user's role, and stop when the user is
// disabled.
func TestUserIdentity(t *testing.T) {
	s := newStack(t, stackOptions{})
	res := s.admin("POST", "/api/v1/admin/users", `{"username":"carol","password":"carol's long password"}`)
	if res.status != 201 {
		t.Fatalf("create carol: %d %s", res.status, res.body)
	}
	carol := res.json()["id"].(string)
	ssh := connClient(t, s, api.ConnIdentity{UserID: carol, Remote: "ssh 192.0.2.7:50000"})
	if me := ssh("GET", "/api/v1/admin/auth/me", ""); me.json()["username"] != "carol" {
		t.Fatalf("acts as %s, want carol", me.body)
	}
	if res := ssh("GET", "/api/v1/admin/users", ""); res.status != 403 {
		t.Errorf("a member listing users: %d, want 403", res.status)
	}
	if res := ssh("POST", "/api/v1/admin/scripts", `{"name":"x","source":"export default () => 1"}`); res.status != 404 {
		t.Errorf("a member writing the default app: %d, want 404", res.status)
	}
	if res := s.admin("PATCH", "/api/v1/admin/users/"+carol, `{"disabled":true}`); res.status != 200 {
		t.Fatal(res.body)
	}
	if res := ssh("GET", "/api/v1/admin/auth/me", ""); res.status != 401 {
		t.Errorf("disabled user's connection: %d, want 401", res.status)
	}
	gone := connClient(t, s, api.ConnIdentity{UserID: "00000000-0000-0000-0000-00000000dead"})
	if res := gone("GET", "/api/v1/admin/auth/me", ""); res.status != 401 {
		t.Errorf("unknown user's connection: %d, want 401", res.status)
	}
}

// lastAudit returns the newest audit record.
func lastAudit(t *testing.T, s *stack) map[string]any {
	t.Helper()
	res := s.admin("GET", "/api/v1/admin/audit?limit=1", nil)
	var out struct {
		Audit []map[string]any `json:"audit"`
	}
	if err := json.Unmarshal([]byte(res.body), &out); err != nil || len(out.Audit) != 1 {
		t.Fatalf("audit: %v %s", err, res.body)
	}
	return out.Audit[0]
}
