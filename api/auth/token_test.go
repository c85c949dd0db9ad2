package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		tok, hash, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok, SessionTokenPrefix) || len(tok) != len(SessionTokenPrefix)+43 {
			t.Fatalf("token %q: want %s and 43 characters", tok, SessionTokenPrefix)
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, SessionTokenPrefix))
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q body: %d bytes, %v", tok, len(raw), err)
		}
		if want := sha256.Sum256([]byte(tok)); !bytes.Equal(hash, want[:]) || !bytes.Equal(HashToken(tok), hash) {
			t.Fatalf("hash of %q is not its SHA-256", tok)
		}
		if !WellFormedToken(tok) {
			t.Fatalf("WellFormedToken(%q) = false", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q repeated", tok)
		}
		seen[tok] = true
	}
	api, _, err := NewAPIToken()
	if err != nil || !strings.HasPrefix(api, APITokenPrefix) || !WellFormedToken(api) {
		t.Fatalf("NewAPIToken() = %q, %v", api, err)
	}
	setup, _, err := NewSetupToken()
	if err != nil || !strings.HasPrefix(setup, SetupTokenPrefix) || !WellFormedToken(setup) {
		t.Fatalf("NewSetupToken() = %q, %v", setup, err)
	}
}

func TestWellFormedToken(t *testing.T) {
	tok, _, _ := NewToken()
	body := strings.TrimPrefix(tok, SessionTokenPrefix)
	for _, bad := range []string{
		"", "pcs_", body, "pcx_" + body, tok + "A", tok[:len(tok)-1],
		"pcs_" + strings.Repeat("+", 43), "pcs_" + body[:42] + "=", "pcs_" + body[:42] + "B", // trailing bits set
	} {
		if WellFormedToken(bad) {
			t.Errorf("WellFormedToken(%q) = true", bad)
		}
	}
}

func TestAppTokens(t *testing.T) {
	for _, prefix := range []string{AppSessionTokenPrefix, AppVerifyTokenPrefix, AppResetTokenPrefix} {
		tok, hash, err := NewAppToken(prefix)
		if err != nil {
			t.Fatal(err)
		}
		if !WellFormedAppToken(tok, prefix) || string(hash) != string(HashToken(tok)) {
			t.Errorf("%s: %q not well formed or not hashed as itself", prefix, tok)
		}
		// An app user's token is never an admin's, nor one of another kind.
		if WellFormedToken(tok) {
			t.Errorf("%q passes as an admin token", tok)
		}
		for _, other := range []string{AppSessionTokenPrefix, AppVerifyTokenPrefix, AppResetTokenPrefix} {
			if other != prefix && WellFormedAppToken(tok, other) {
				t.Errorf("%q passes as a %s token", tok, other)
			}
		}
		if WellFormedAppToken(tok[:len(tok)-1], prefix) || WellFormedAppToken(tok+"A", prefix) {
			t.Errorf("%s: a truncated or lengthened token passes", prefix)
		}
	}
	admin, _, _ := NewToken()
	if WellFormedAppToken(admin, AppSessionTokenPrefix) {
		t.Error("an admin session token passes as an app user's")
	}
}
