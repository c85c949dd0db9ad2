// Package model holds PiCloud's domain types and the errors that cross
// package boundaries. It is a leaf: it imports nothing of the project.
package model

import (
	"encoding/json"
	"time"
)

// DefaultAppID is the id of the app that exists from the first migration.
const DefaultAppID = "00000000-0000-0000-0000-000000000001"

// User is an administrator of the instance.
type User struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	Role         string    `json:"role"` // owner, admin or member
	PasswordHash string    `json:"-"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	// AppRoles maps app ids to the user's role there (editor or viewer).
	AppRoles map[string]string `json:"app_roles,omitempty"`
}

// Session is a logged-in user's session; only the token's hash is stored.
type Session struct {
	TokenHash []byte
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Script is a named handler with its versions; Source and Code are those of
// the active version.
type Script struct {
	ID            string    `json:"id"`
	AppID         string    `json:"app_id"`
	Name          string    `json:"name"`
	Language      string    `json:"language"`
	ActiveVersion int       `json:"active_version"`
	LatestVersion int       `json:"latest_version"`
	Source        string    `json:"source,omitempty"`
	Code          string    `json:"-"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// ScriptVersion is one immutable saved version of a script.
type ScriptVersion struct {
	ScriptID  string    `json:"script_id"`
	Version   int       `json:"version"`
	Source    string    `json:"source,omitempty"`
	Code      string    `json:"-"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Active    bool      `json:"active"`
}

// Route binds a method and path pattern of an app to a script.
type Route struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id"`
	ScriptID  string    `json:"script_id"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Shape     string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// ExecutionRecord is the log record of one script execution.
type ExecutionRecord struct {
	ID            int64           `json:"id"`
	AppID         string          `json:"app_id"`
	ScriptID      string          `json:"script_id"`
	ScriptVersion int             `json:"script_version"`
	RequestID     string          `json:"request_id"`
	Method        string          `json:"method"`
	Path          string          `json:"path"`
	Status        int             `json:"status"`
	DurationUS    int64           `json:"duration_us"`
	Console       json.RawMessage `json:"console"`
	ErrorCode     string          `json:"error_code,omitempty"`
	Error         string          `json:"error,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
}

// LogQuery selects execution records, newest first.
type LogQuery struct {
	AppID    string
	ScriptID string
	BeforeID int64 // records with id < BeforeID; 0 for the newest
	Limit    int
}

// NewVersion is the content of a script version being saved.
type NewVersion struct {
	Source    string
	Code      string // transpiled, ready for the engine
	CreatedBy string // user id, or "" when not known (e.g. the command line)
}
