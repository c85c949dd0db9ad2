package model

import "time"

// MaxCaptureRequests bounds how many requests a script's capture keeps.
const MaxCaptureRequests = 200

// CaptureSetting is a script's request capture, while it is on.
type CaptureSetting struct {
	ScriptID    string `json:"script_id"`
	MaxRequests int    `json:"max_requests"`
	// RedactHeaders are header names, canonical, redacted besides the
	// credentials' (Authorization, Cookie, Proxy-Authorization,
	// Set-Cookie) before a request is stored.
	RedactHeaders []string  `json:"redact_headers"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// CapturedRequest is one public HTTP request that a script's active
// version answered, kept with its response, headers redacted.
type CapturedRequest struct {
	ID       int64  `json:"id"`
	ScriptID string `json:"script_id"`
	// Version is the version that answered.
	Version         int                 `json:"version"`
	Method          string              `json:"method"`
	URL             string              `json:"url"`
	RequestHeaders  map[string][]string `json:"request_headers"`
	RequestBody     []byte              `json:"request_body"`
	Status          int                 `json:"status"`
	ResponseHeaders map[string][]string `json:"response_headers"`
	ResponseBody    []byte              `json:"response_body"`
	CreatedAt       time.Time           `json:"created_at"`
}
