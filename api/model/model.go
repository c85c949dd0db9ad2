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
	ID            string       `json:"id"`
	AppID         string       `json:"app_id"`
	Name          string       `json:"name"`
	Language      string       `json:"language"`
	ActiveVersion int          `json:"active_version"`
	LatestVersion int          `json:"latest_version"`
	Source        string       `json:"source,omitempty"`
	Code          string       `json:"-"`
	Limits        ScriptLimits `json:"limits"`
	CreatedAt     time.Time    `json:"created_at"`
	UpdatedAt     time.Time    `json:"updated_at"`
}

// ScriptLimits are a script's own limits; a zero field means the daemon's
// default. None may pass the administrator's ceiling.
type ScriptLimits struct {
	WallTimeMS    int `json:"wall_time_ms,omitempty"`
	ResponseBytes int `json:"response_bytes,omitempty"`
	ConsoleBytes  int `json:"console_bytes,omitempty"`
	CallDepth     int `json:"call_depth,omitempty"`
	Timers        int `json:"timers,omitempty"`
	Subrequests   int `json:"subrequests,omitempty"`
	DataCalls     int `json:"data_calls,omitempty"`
}

// Apply returns the limits that hold for a script with these own limits:
// each own value where set, else the default, and never above the ceiling
// (a ceiling lowered after a script set its limits still holds).
func (l ScriptLimits) Apply(defaults, ceilings ScriptLimits) ScriptLimits {
	pick := func(own, def, ceil int) int {
		v := def
		if own > 0 {
			v = own
		}
		if ceil > 0 && v > ceil {
			v = ceil
		}
		return v
	}
	return ScriptLimits{
		WallTimeMS:    pick(l.WallTimeMS, defaults.WallTimeMS, ceilings.WallTimeMS),
		ResponseBytes: pick(l.ResponseBytes, defaults.ResponseBytes, ceilings.ResponseBytes),
		ConsoleBytes:  pick(l.ConsoleBytes, defaults.ConsoleBytes, ceilings.ConsoleBytes),
		CallDepth:     pick(l.CallDepth, defaults.CallDepth, ceilings.CallDepth),
		Timers:        pick(l.Timers, defaults.Timers, ceilings.Timers),
		Subrequests:   pick(l.Subrequests, defaults.Subrequests, ceilings.Subrequests),
		DataCalls:     pick(l.DataCalls, defaults.DataCalls, ceilings.DataCalls),
	}
}

// ScriptVersion is one immutable saved version of a script.
type ScriptVersion struct {
	ScriptID  string `json:"script_id"`
	Version   int    `json:"version"`
	Source    string `json:"source,omitempty"`
	Code      string `json:"-"`
	CreatedBy string `json:"created_by,omitempty"`
	// CreatedByName is the username of CreatedBy, for a person to read;
	// "" when not known.
	CreatedByName string    `json:"created_by_name,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	Active        bool      `json:"active"`
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
	ID            int64  `json:"id"`
	AppID         string `json:"app_id"`
	ScriptID      string `json:"script_id"`
	ScriptVersion int    `json:"script_version"`
	RequestID     string `json:"request_id"`
	Method        string `json:"method"`
	Path          string `json:"path"`
	Status        int    `json:"status"`
	// Trigger is what started the execution: "http" for a request,
	// "cron" for a cron trigger's run, "queue" for a queue delivery,
	// "invoke" for a call from another script (later "email").
	Trigger    string          `json:"trigger"`
	DurationUS int64           `json:"duration_us"`
	Console    json.RawMessage `json:"console"`
	ErrorCode  string          `json:"error_code,omitempty"`
	Error      string          `json:"error,omitempty"`
	// ErrorLine and ErrorColumn place the error in the script's source
	// (1-based), when known.
	ErrorLine   int `json:"error_line,omitempty"`
	ErrorColumn int `json:"error_column,omitempty"`
	// Response is what the execution answered, as far as the log keeps
	// it (PICLOUD_LOG_RESPONSE_BYTES); nil for none.
	Response  *ResponsePreview `json:"response,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
	// CronLag is, for a cron run, how long after its slot it started
	// (metrics read it; the log does not keep it).
	CronLag time.Duration `json:"-"`
}

// LogQuery selects execution records, newest first.
type LogQuery struct {
	AppID string
	// AppIDs, when not nil, selects the records of any of these apps (a
	// view across apps) instead of AppID's; empty, it selects none.
	AppIDs   []string
	ScriptID string
	BeforeID int64 // records with id < BeforeID; 0 for the newest
	Limit    int
}

// NewVersion is the content of a script version being saved.
type NewVersion struct {
	Source    string
	Code      string // transpiled, ready for the engine
	CreatedBy string // user id, or "" when not known (e.g. the command line)
	// Base, when not 0, is the script's latest version the edit started
	// from: the save is refused with a *VersionConflictError when another
	// version has been saved since.
	Base int
	// Draft saves the version without making it active: the active
	// version keeps serving until the draft is activated.
	Draft bool
}

// Rollup is one script's invocations in one minute or hour: how many, how
// many failed (a status of 500 or more, or an error), and the median, 99th
// percentile and largest duration in microseconds.
type Rollup struct {
	AppID    string    `json:"app_id"`
	ScriptID string    `json:"script_id"`
	Step     string    `json:"-"`
	At       time.Time `json:"at"`
	Count    int64     `json:"count"`
	Errors   int64     `json:"errors"`
	P50US    int64     `json:"p50_us"`
	P99US    int64     `json:"p99_us"`
	MaxUS    int64     `json:"max_us"`
}

// Rollup steps.
const (
	StepMinute = "minute"
	StepHour   = "hour"
)

// RollupQuery selects rollups of one step from a time on: of one script,
// or of the apps listed.
type RollupQuery struct {
	Step     string
	Since    time.Time
	AppIDs   []string
	ScriptID string
}

// ResponsePreview is the start of a response as the execution log keeps
// it: its headers, the first bytes of its body (as text, invalid UTF-8
// replaced), and the body's whole size. Secret values are redacted.
type ResponsePreview struct {
	Headers map[string][]string `json:"headers,omitempty"`
	Body    string              `json:"body"`
	Size    int                 `json:"size"`          // bytes of the whole body
	Cut     bool                `json:"cut,omitempty"` // the body is longer than Body
}
