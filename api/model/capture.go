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

// ReplayFailure is why a replayed execution failed.
type ReplayFailure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ReplayResult is the comparison of one captured request's response with its
// replay's: Same, or what differs.
type ReplayResult struct {
	ID     int64  `json:"id"`
	Method string `json:"method"`
	URL    string `json:"url"`
	Same   bool   `json:"same"`
	// Status is set when the status differs.
	Status *ReplayStatusChange `json:"status,omitempty"`
	// Headers are the response headers that differ, by name.
	Headers []ReplayHeaderChange `json:"headers,omitempty"`
	// Body is set when the body differs.
	Body *ReplayBodyChange `json:"body,omitempty"`
	// Error is the replay's failure, when it failed.
	Error *ReplayFailure `json:"error,omitempty"`
}

// ReplayStatusChange is a status that differs.
type ReplayStatusChange struct {
	Captured int `json:"captured"`
	Replayed int `json:"replayed"`
}

// ReplayHeaderChange is a response header that differs; a side without it is
// null.
type ReplayHeaderChange struct {
	Name     string   `json:"name"`
	Captured []string `json:"captured"`
	Replayed []string `json:"replayed"`
}

// ReplayBodyChange is how bodies differ: JSON bodies by path (Changes, such as
// "$.total: 3 → 4"), text as a unified diff (Diff), other bodies by
// size.
type ReplayBodyChange struct {
	Kind    string   `json:"kind"` // "json", "text" or "binary"
	Changes []string `json:"changes,omitempty"`
	Diff    string   `json:"diff,omitempty"`
	// Sizes of the bodies, in bytes.
	CapturedBytes int `json:"captured_bytes"`
	ReplayedBytes int `json:"replayed_bytes"`
}

// ReplayReport is a replay of a version against a script's captured requests.
type ReplayReport struct {
	ScriptID string `json:"script_id"`
	// Version is the version replayed.
	Version int `json:"version"`
	// CaptureEnabled is false when the script's capture is off: there
	// was nothing to replay.
	CaptureEnabled bool           `json:"capture_enabled"`
	Summary        ReplaySummary  `json:"summary"`
	Requests       []ReplayResult `json:"requests"`
}

// ReplaySummary counts a report's requests: those answered the same, those
// answered otherwise, and those whose replay failed (ReplayResult.Error).
type ReplaySummary struct {
	Total     int `json:"total"`
	Same      int `json:"same"`
	Different int `json:"different"`
	Failed    int `json:"failed"`
}

// Add adds a request's result to the report.
func (r *ReplayReport) Add(res ReplayResult) {
	r.Requests = append(r.Requests, res)
	r.Summary.Total++
	switch {
	case res.Error != nil:
		r.Summary.Failed++
	case res.Same:
		r.Summary.Same++
	default:
		r.Summary.Different++
	}
}
