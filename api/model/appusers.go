package model

import (
	"encoding/json"
	"time"
)

// AppUser is a user of an app built on PiCloud (the SDK's users module),
// not an administrator of the board. PasswordHash never leaves the board.
type AppUser struct {
	ID           string          `json:"id"`
	AppID        string          `json:"app_id"`
	Email        string          `json:"email"`
	PasswordHash string          `json:"-"` // "" when the user has no password
	Data         json.RawMessage `json:"data"`
	Verified     bool            `json:"verified"`
	Disabled     bool            `json:"disabled"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// Kinds of app user tokens.
const (
	AppTokenSession = "session" // a log-in session (users.issueSession)
	AppTokenVerify  = "verify"  // a single-use email verification token
	AppTokenReset   = "reset"   // a single-use password reset token
)

// AppUserToken is a token of an app user as stored: its hash only.
type AppUserToken struct {
	Hash      []byte
	AppID     string
	UserID    string
	Kind      string
	ExpiresAt time.Time
	// SlidingTTL, for a sliding session only, is the lifetime it is
	// renewed to when used once less than half of it is left, never past
	// MaxExpiresAt; 0 for a fixed expiry.
	SlidingTTL   time.Duration
	MaxExpiresAt time.Time
}

// AppUserTokenBytes is what a live token of an app user counts against the
// app's storage quota: its row, roughly.
const AppUserTokenBytes = 128

// AppUserPatch is a change to an app user; nil fields stay as they are.
type AppUserPatch struct {
	Email        *string
	Data         json.RawMessage // nil: unchanged
	PasswordHash *string
	Verified     *bool
	Disabled     *bool
}
