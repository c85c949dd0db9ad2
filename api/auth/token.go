package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

const (
	// SessionTokenPrefix starts every session token, so that a leaked token
	// is recognisable (by people and by secret scanners).
	SessionTokenPrefix = "pcs_"
	// APITokenPrefix starts every API token.
	APITokenPrefix = "pca_"
	// SetupTokenPrefix starts the single-use token that creates the first
	// owner.
	SetupTokenPrefix = "pci_"
	// AppSessionTokenPrefix starts the session tokens of app users (the
	// SDK's users.issueSession), never valid on the admin API.
	AppSessionTokenPrefix = "pcu_"
	// AppVerifyTokenPrefix starts app users' email verification tokens.
	AppVerifyTokenPrefix = "pcv_"
	// AppResetTokenPrefix starts app users' password reset tokens.
	AppResetTokenPrefix = "pcr_"

	tokenBytes = 32
	// tokenBodyLen is the length of 32 bytes in unpadded base64url.
	tokenBodyLen = (tokenBytes*8 + 5) / 6
)

// NewToken returns a new session token: SessionTokenPrefix followed by 32
// random bytes in unpadded base64url, and its HashToken hash. Store only the
// hash; hand the token to the client.
func NewToken() (token string, hash []byte, err error) {
	return newToken(SessionTokenPrefix)
}

// NewAPIToken is NewToken for long-lived API tokens (APITokenPrefix).
func NewAPIToken() (token string, hash []byte, err error) {
	return newToken(APITokenPrefix)
}

// NewSetupToken is NewToken for the first-start setup token
// (SetupTokenPrefix).
func NewSetupToken() (token string, hash []byte, err error) {
	return newToken(SetupTokenPrefix)
}

// NewAppToken is NewToken for the tokens of app users: prefix is one of
// AppSessionTokenPrefix, AppVerifyTokenPrefix and AppResetTokenPrefix.
func NewAppToken(prefix string) (token string, hash []byte, err error) {
	return newToken(prefix)
}

// WellFormedAppToken reports whether token is prefix followed by 32 bytes
// of unpadded base64url, as NewAppToken(prefix) makes them.
func WellFormedAppToken(token, prefix string) bool {
	body, ok := strings.CutPrefix(token, prefix)
	if !ok || len(body) != tokenBodyLen {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(body)
	return err == nil
}

func newToken(prefix string) (string, []byte, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("new token: %w", err)
	}
	token := prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken returns the SHA-256 of the whole token (prefix included), the
// form in which tokens are stored and looked up. A plain hash suffices:
// tokens carry 256 random bits, so there is nothing to brute-force.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// WellFormedToken reports whether token has a known prefix followed by 32
// bytes of unpadded base64url. Use it to refuse garbage before a lookup.
func WellFormedToken(token string) bool {
	var body string
	ok := false
	for _, p := range []string{SessionTokenPrefix, APITokenPrefix, SetupTokenPrefix} {
		if body, ok = strings.CutPrefix(token, p); ok {
			break
		}
	}
	if !ok || len(body) != tokenBodyLen {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(body)
	return err == nil
}
