package model

import "time"

// Channels through which admin actions arrive, as the audit log records them.
const (
	ChannelAPI       = "api"       // an API client: curl, CI, a script
	ChannelDashboard = "dashboard" // the browser dashboard
	ChannelTerminal  = "terminal"  // the terminal UI or a picloud command on the board
)

// Actor is who performs an admin action and how, as the audit log records it.
type Actor struct {
	UserID   string
	Username string
	TokenID  string // the API token acted through, if any
	Channel  string // ChannelAPI, ChannelDashboard or ChannelTerminal
	Remote   string // the client's address
}

// Principal is who a request acts as: a user, narrowed by the API token the
// request came with, if any.
type Principal struct {
	User  User
	Token *APIToken // nil for a logged-in session
}

// APIToken is a long-lived credential for scripts and CI, scoped to apps and
// capabilities. Only the token's hash is stored; the token itself is shown
// once, when it is made.
type APIToken struct {
	ID           string     `json:"id"`
	UserID       string     `json:"user_id"`
	Name         string     `json:"name"`
	Hint         string     `json:"hint"` // the token's first characters, to recognise it
	Apps         []string   `json:"apps"`
	Capabilities []string   `json:"capabilities"`
	CreatedAt    time.Time  `json:"created_at"`
	ExpiresAt    *time.Time `json:"expires_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
	TokenHash    []byte     `json:"-"`
}
