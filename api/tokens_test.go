package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAPITokens follows a token's life: made by an editor within their own
// rights, shown once, used in the Authorization header only, narrowed by
// its scope and by its user's roles, revoked with immediate effect.
func TestAPITokens(t *testing.T) {
	s := newStack(t, stackOptions{})
	app := func(name string) string {
		return s.admin("POST", "/api/v1/admin/apps", fmt.Sprintf(`{"name":%q}`, name)).json()["id"].(string)
	}
	a, b := app("a"), app("b")
	ed := s.newUser("ed", "ed's password", "member")
	if res := s.admin("POST", "/api/v1/admin/users/"+ed+"/roles", fmt.Sprintf(`{"app_id":%q,"role":"editor"}`, a)); res.status != 204 {
		t.Fatal(res.body)
	}
	session := s.login("ed", "ed's password")

	// Never more than the creator may do.
	for _, tc := range []struct {
		body string
		want int
	}{
		{fmt.Sprintf(`{"name":"x","apps":[%q],"capabilities":["app.write"]}`, b), 404},   // an app ed cannot see
		{fmt.Sprintf(`{"name":"x","apps":[%q],"capabilities":["apps.manage"]}`, a), 403}, // a role ed lacks
		{`{"name":"x","capabilities":["users.manage"]}`, 403},
		{fmt.Sprintf(`{"name":"x","apps":[%q],"capabilities":["app.delete"]}`, a), 400}, // no such capability
		{fmt.Sprintf(`{"name":"x","apps":[%q],"capabilities":[]}`, a), 400},
		{`{"name":"x","capabilities":["app.read"]}`, 400}, // an app capability without apps
		{fmt.Sprintf(`{"apps":[%q],"capabilities":["app.read"]}`, a), 400},
		{`{"name":"x","apps":["nope"],"capabilities":["app.read"]}`, 400},
		{fmt.Sprintf(`{"name":"x","apps":[%q],"capabilities":["app.read"],"expires_at":"2001-01-01T00:00:00Z"}`, a), 400},
	} {
		if res := s.as(session, "POST", "/api/v1/admin/tokens", tc.body); res.status != tc.want {
			t.Errorf("token %s: %d %s, want %d", tc.body, res.status, res.body, tc.want)
		}
	}
	res := s.as(session, "POST", "/api/v1/admin/tokens", fmt.Sprintf(`{"name":"ci deploy","apps":[%q],"capabilities":["app.write"]}`, a))
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	token, id := res.json()["token"].(string), res.json()["id"].(string)
	if !strings.HasPrefix(token, "pca_") || !strings.HasPrefix(token, res.json()["hint"].(string)) {
		t.Fatalf("token %q, hint %v", token, res.json()["hint"])
	}
	// Shown once: never again, nor its hash.
	list := s.as(session, "GET", "/api/v1/admin/tokens", "")
	if list.status != 200 || !strings.Contains(list.body, id) || strings.Contains(list.body, token) || strings.Contains(list.body, "hash") {
		t.Fatalf("list: %d %s", list.status, list.body)
	}
	bearer := func(method, path, body string) response { return s.as(token, method, path, body) }

	// What the scope and ed's role allow.
	if res := bearer("POST", "/api/v1/admin/scripts", fmt.Sprintf(`{"app_id":%q,"name":"deployed","source":"export default () => 1"}`, a)); res.status != 201 {
		t.Fatalf("write in scope: %d %s", res.status, res.body)
	}
	if res := bearer("GET", "/api/v1/admin/scripts?app_id="+a, ""); res.status != 200 || !strings.Contains(res.body, "deployed") {
		t.Fatalf("read in scope: %d %s", res.status, res.body)
	}
	if res := bearer("GET", "/api/v1/admin/auth/me", ""); res.status != 200 || !strings.Contains(res.body, `"username":"ed"`) || !strings.Contains(res.body, `"token":{"id":"`+id) {
		t.Fatalf("me with a token: %d %s", res.status, res.body)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/v1/admin/scripts?app_id=" + b, ""},
		{"POST", "/api/v1/admin/apps", `{"name":"c"}`},
		{"POST", "/api/v1/admin/tokens", fmt.Sprintf(`{"name":"more","apps":[%q],"capabilities":["app.read"]}`, a)},
		{"GET", "/api/v1/admin/tokens", ""},
		{"POST", "/api/v1/admin/auth/password", `{"current_password":"ed's password","new_password":"taken over"}`},
		{"POST", "/api/v1/admin/auth/logout", ""},
	} {
		if res := bearer(tc.method, tc.path, tc.body); res.status != 403 && res.status != 404 {
			t.Errorf("%s %s with the token: %d %s, want 403 or 404", tc.method, tc.path, res.status, res.body)
		}
	}
	// The audit log names the token.
	if audit := s.admin("GET", "/api/v1/admin/audit?app_id="+a+"&limit=1", nil).body; !strings.Contains(audit, `"token_id":"`+id) || !strings.Contains(audit, `"username":"ed"`) {
		t.Errorf("audit of a token's action: %s", audit)
	}

	// Only in the Authorization header.
	for _, path := range []string{
		"/api/v1/admin/apps?access_token=" + token,
		"/api/v1/admin/apps?x=" + token,
		"/api/v1/admin/apps?token=whatever",
		"/api/v1/admin/setup?token=" + token,
	} {
		res := s.do("GET", path, map[string]string{"Authorization": "Bearer " + token}, "")
		if res.status != 400 || !strings.Contains(res.body, "never accepted in the URL") {
			t.Errorf("GET %s: %d %s, want 400", path, res.status, res.body)
		}
	}
	if res := s.do("GET", "/api/v1/admin/apps", map[string]string{"Cookie": "picloud_session=" + token}, ""); res.status != 401 || !strings.Contains(res.body, "Authorization") {
		t.Errorf("token in a cookie: %d %s", res.status, res.body)
	}

	// The token shrinks with its user: a role revoked, the user disabled.
	if res := s.admin("DELETE", "/api/v1/admin/users/"+ed+"/roles/"+a, nil); res.status != 204 {
		t.Fatal(res.body)
	}
	if res := bearer("GET", "/api/v1/admin/scripts?app_id="+a, ""); res.status != 404 {
		t.Fatalf("after ed lost the app: %d %s", res.status, res.body)
	}
	_ = s.admin("POST", "/api/v1/admin/users/"+ed+"/roles", fmt.Sprintf(`{"app_id":%q,"role":"editor"}`, a))
	_ = s.admin("PATCH", "/api/v1/admin/users/"+ed, `{"disabled":true}`)
	if res := bearer("GET", "/api/v1/admin/scripts?app_id="+a, ""); res.status != 401 {
		t.Fatalf("token of a disabled user: %d %s", res.status, res.body)
	}
	_ = s.admin("PATCH", "/api/v1/admin/users/"+ed, `{"disabled":false}`)
	if res := bearer("GET", "/api/v1/admin/scripts?app_id="+a, ""); res.status != 200 {
		t.Fatalf("token of the user enabled again: %d %s", res.status, res.body)
	}
	session = s.login("ed", "ed's password")

	// Expiry.
	if _, err := s.store.Pool().Exec(context.Background(), `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if res := bearer("GET", "/api/v1/admin/auth/me", ""); res.status != 401 {
		t.Fatalf("expired token: %d", res.status)
	}
	_, _ = s.store.Pool().Exec(context.Background(), `UPDATE api_tokens SET expires_at = NULL WHERE id = $1`, id)

	// Revocation: another member cannot, an owner or ed can, at once.
	_ = s.newUser("eve", "eve's password", "member")
	if res := s.as(s.login("eve", "eve's password"), "DELETE", "/api/v1/admin/tokens/"+id, ""); res.status != 404 {
		t.Fatalf("another member revokes: %d", res.status)
	}
	if res := s.admin("GET", "/api/v1/admin/tokens?all=true", nil); res.status != 200 || !strings.Contains(res.body, id) {
		t.Fatalf("owner lists all: %d %s", res.status, res.body)
	}
	if res := s.as(session, "GET", "/api/v1/admin/tokens?all=true", ""); res.status != 403 {
		t.Fatalf("member lists all: %d", res.status)
	}
	if res := bearer("GET", "/api/v1/admin/auth/me", ""); res.status != 200 {
		t.Fatalf("before revocation: %d", res.status)
	}
	if res := s.as(session, "DELETE", "/api/v1/admin/tokens/"+id, ""); res.status != 204 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	if res := bearer("GET", "/api/v1/admin/auth/me", ""); res.status != 401 {
		t.Fatalf("revoked token: %d", res.status)
	}
	if res := s.as(session, "DELETE", "/api/v1/admin/tokens/"+id, ""); res.status != 404 {
		t.Fatalf("revoke twice: %d", res.status)
	}

	// An expiring token, and an owner's instance-wide one.
	soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	res = s.admin("POST", "/api/v1/admin/tokens", `{"name":"users","capabilities":["users.manage"],"expires_at":"`+soon+`"}`)
	if res.status != 201 || res.json()["expires_at"] == nil {
		t.Fatalf("expiring token: %d %s", res.status, res.body)
	}
	owners := res.json()["token"].(string)
	if res := s.as(owners, "GET", "/api/v1/admin/users", ""); res.status != 200 {
		t.Fatalf("users with a users.manage token: %d", res.status)
	}
	if res := s.as(owners, "GET", "/api/v1/admin/apps/"+a, ""); res.status != 404 {
		t.Fatalf("an app with a users.manage token: %d", res.status)
	}
}
