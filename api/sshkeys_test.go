package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/picloud/picloud/api/model"
)

// newPublicKey makes a fresh ed25519 key and returns its public half as an
// authorized_keys line.
func newPublicKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " someone@laptop"
}

// addKey registers a fresh key for a user, straight in the store, and
// returns its id.
func addKey(t *testing.T, s *stack, userID string) string {
	t.Helper()
	k, err := s.mgr.AddSSHKey(context.Background(), terminal, userID, newPublicKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

func TestSSHKeys(t *testing.T) {
	s := newStack(t, stackOptions{})
	line := newPublicKey(t)
	res := s.admin("POST", "/api/v1/admin/auth/keys", map[string]string{"public_key": line})
	if res.status != 201 {
		t.Fatalf("add own key: %d %s", res.status, res.body)
	}
	k := res.json()
	if !strings.HasPrefix(k["fingerprint"].(string), "SHA256:") || k["type"] != "ssh-ed25519" || k["comment"] != "someone@laptop" ||
		!strings.HasPrefix(line, k["public_key"].(string)) {
		t.Errorf("key as stored: %v", k)
	}
	rec := lastAudit(t, s)
	if rec["action"] != "sshkey.add" || rec["details"].(map[string]any)["fingerprint"] != k["fingerprint"] {
		t.Errorf("audit: %v", rec)
	}
	// One user per key: not again, not for another.
	bob := s.admin("POST", "/api/v1/admin/users", `{"username":"bob","password":"bob's long password"}`).json()["id"].(string)
	if res := s.admin("POST", "/api/v1/admin/users/"+bob+"/keys", map[string]string{"public_key": line}); res.status != 409 ||
		!strings.Contains(res.body, "this key ("+k["fingerprint"].(string)+") is already registered") {
		t.Errorf("a key of alice's for bob: %d %s", res.status, res.body)
	}
	for _, bad := range []string{"", "ssh-ed25519", "not a key at all", `command="x" ` + line, line + "\n" + newPublicKey(t)} {
		if res := s.admin("POST", "/api/v1/admin/auth/keys", map[string]string{"public_key": bad}); res.status != 400 {
			t.Errorf("key %q: %d %s, want 400", bad, res.status, res.body)
		}
	}
	if res := s.admin("POST", "/api/v1/admin/users/"+bob+"/keys", map[string]string{"public_key": newPublicKey(t)}); res.status != 201 {
		t.Fatalf("add bob's key: %d %s", res.status, res.body)
	}
	list := s.admin("GET", "/api/v1/admin/users/"+bob+"/keys", nil)
	if list.status != 200 || strings.Count(list.body, `"fingerprint"`) != 1 {
		t.Fatalf("bob's keys: %d %s", list.status, list.body)
	}
	// Bob sees his own keys, and cannot delete alice's through his own path.
	bobToken := s.login("bob", "bob's long password")
	if res := s.as(bobToken, "GET", "/api/v1/admin/auth/keys", ""); res.status != 200 || strings.Count(res.body, `"fingerprint"`) != 1 {
		t.Errorf("bob's own keys: %d %s", res.status, res.body)
	}
	if res := s.as(bobToken, "DELETE", "/api/v1/admin/auth/keys/"+k["id"].(string), ""); res.status != 404 {
		t.Errorf("bob deleting alice's key: %d, want 404", res.status)
	}
	// The key names its user until deleted; a disabled user's key names nobody.
	u, _, err := s.mgr.SSHKeyUser(context.Background(), k["fingerprint"].(string))
	if err != nil || u.Username != "alice" {
		t.Fatalf("key user: %v %v", u, err)
	}
	if res := s.admin("DELETE", "/api/v1/admin/auth/keys/"+k["id"].(string), nil); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	if _, _, err := s.mgr.SSHKeyUser(context.Background(), k["fingerprint"].(string)); err != model.ErrUnauthorized {
		t.Errorf("deleted key: %v, want unauthorized", err)
	}
	bobKey := newPublicKey(t)
	bk, err := s.mgr.AddSSHKey(context.Background(), terminal, bob, bobKey)
	if err != nil {
		t.Fatal(err)
	}
	if res := s.admin("PATCH", "/api/v1/admin/users/"+bob, `{"disabled":true}`); res.status != 200 {
		t.Fatal(res.body)
	}
	if _, _, err := s.mgr.SSHKeyUser(context.Background(), bk.Fingerprint); err != model.ErrUnauthorized {
		t.Errorf("disabled user's key: %v, want unauthorized", err)
	}
}
