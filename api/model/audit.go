package model

import "time"

// AuditRecord is one admin action: who did what, through which channel and
// from where. It never holds passwords, tokens or secret values.
type AuditRecord struct {
	ID       int64          `json:"id"`
	At       time.Time      `json:"at"`
	UserID   string         `json:"user_id,omitempty"`
	Username string         `json:"username,omitempty"`
	TokenID  string         `json:"token_id,omitempty"`
	Channel  string         `json:"channel"`
	Remote   string         `json:"remote"`
	Action   string         `json:"action"` // e.g. script.create, user.disable
	AppID    string         `json:"app_id,omitempty"`
	Target   string         `json:"target,omitempty"` // the id or name acted on
	Details  map[string]any `json:"details,omitempty"`
}

// AuditQuery selects audit records, newest first.
type AuditQuery struct {
	AppID    string
	UserID   string
	Since    time.Time // records at or after; zero for no bound
	Until    time.Time // records before; zero for no bound
	BeforeID int64     // records with id < BeforeID; 0 for the newest
	Limit    int
}
