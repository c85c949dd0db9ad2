package client

import (
	"encoding/json"
	"time"
)

// User is a PiCloud user with their roles.
type User struct {
	ID        string            `json:"id"`
	Username  string            `json:"username"`
	Role      string            `json:"role"`
	Disabled  bool              `json:"disabled"`
	AppRoles  map[string]string `json:"app_roles"`
	CreatedAt time.Time         `json:"created_at"`
}

// App is a unit of isolation with its own scripts, routes and logs.
type App struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

// Script is a handler; Source is the active version's (not in lists).
type Script struct {
	ID            string    `json:"id"`
	AppID         string    `json:"app_id"`
	Name          string    `json:"name"`
	Language      string    `json:"language"`
	ActiveVersion int       `json:"active_version"`
	LatestVersion int       `json:"latest_version"`
	Source        string    `json:"source"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Version is one saved version of a script.
type Version struct {
	ScriptID  string    `json:"script_id"`
	Version   int       `json:"version"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	Active    bool      `json:"active"`
}

// Route binds a method and path to a script.
type Route struct {
	ID       string `json:"id"`
	AppID    string `json:"app_id"`
	ScriptID string `json:"script_id"`
	Method   string `json:"method"`
	Path     string `json:"path"`
}

// RouteCheck is whether a route could be added.
type RouteCheck struct {
	OK        bool    `json:"ok"`
	Conflicts []Route `json:"conflicts"`
}

// Match is which script a request would reach.
type Match struct {
	Matched    bool              `json:"matched"`
	Reason     string            `json:"reason"`
	AppID      string            `json:"app_id"`
	RouteID    string            `json:"route_id"`
	ScriptID   string            `json:"script_id"`
	ScriptName string            `json:"script_name"`
	Version    int               `json:"version"`
	Params     map[string]string `json:"params"`
}

// ConsoleLine is one console call of an execution.
type ConsoleLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// Execution is the log record of one script execution.
type Execution struct {
	ID            int64           `json:"id"`
	AppID         string          `json:"app_id"`
	ScriptID      string          `json:"script_id"`
	ScriptVersion int             `json:"script_version"`
	RequestID     string          `json:"request_id"`
	Method        string          `json:"method"`
	Path          string          `json:"path"`
	Status        int             `json:"status"`
	DurationUS    int64           `json:"duration_us"`
	RawConsole    json.RawMessage `json:"console"`
	ErrorCode     string          `json:"error_code"`
	Error         string          `json:"error"`
	CreatedAt     time.Time       `json:"created_at"`
}

// Console decodes the execution's console output; nil when there is none
// or it cannot be read.
func (e Execution) Console() []ConsoleLine {
	var out []ConsoleLine
	if len(e.RawConsole) > 0 {
		_ = json.Unmarshal(e.RawConsole, &out)
	}
	return out
}

// Level is the most severe console level of the execution, "error" for a
// failed one, "" when it logged nothing.
func (e Execution) Level() string {
	if e.Error != "" || e.Status >= 500 {
		return "error"
	}
	rank := map[string]int{"debug": 1, "info": 2, "warn": 3, "error": 4}
	best := ""
	for _, l := range e.Console() {
		if rank[l.Level] > rank[best] {
			best = l.Level
		}
	}
	return best
}

// System is the health of the board and the daemon
// (GET /api/v1/admin/system); figures the board does not expose are zero.
type System struct {
	Versions          map[string]any `json:"versions"`
	StartedAt         time.Time      `json:"started_at"`
	UptimeSeconds     int64          `json:"uptime_seconds"`
	BootUptimeSeconds int64          `json:"boot_uptime_seconds"`
	CPUs              int            `json:"cpus"`
	Load              []float64      `json:"load"`
	TemperatureC      *float64       `json:"temperature_c"`
	MemoryTotalBytes  int64          `json:"memory_total_bytes"`
	MemoryAvailBytes  int64          `json:"memory_available_bytes"`
	DiskPath          string         `json:"disk_path"`
	DiskTotalBytes    int64          `json:"disk_total_bytes"`
	DiskFreeBytes     int64          `json:"disk_free_bytes"`
	DatabaseBytes     int64          `json:"database_bytes"`
	ExecutorMode      string         `json:"executor_mode"`
	Workers           []Worker       `json:"workers"`
	DaemonRSSBytes    int64          `json:"daemon_rss_bytes"`
}

// Worker is one executor worker slot.
type Worker struct {
	Index     int         `json:"index"`
	PID       int         `json:"pid"`
	RSSBytes  int64       `json:"rss_bytes"`
	StartedAt *time.Time  `json:"started_at"`
	Restarts  int         `json:"restarts"`
	LastExit  *WorkerExit `json:"last_exit"`
}

// WorkerExit says why a slot's last worker ended.
type WorkerExit struct {
	Code   string    `json:"code"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// SSHKey is a public key that signs a user in over SSH.
type SSHKey struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	Fingerprint string     `json:"fingerprint"`
	Type        string     `json:"type"`
	Comment     string     `json:"comment"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
}

// AuditRecord is one change, who made it, through what and when.
type AuditRecord struct {
	ID       int64          `json:"id"`
	At       time.Time      `json:"at"`
	UserID   string         `json:"user_id"`
	Username string         `json:"username"`
	TokenID  string         `json:"token_id"`
	Channel  string         `json:"channel"`
	Remote   string         `json:"remote"`
	Action   string         `json:"action"`
	AppID    string         `json:"app_id"`
	Target   string         `json:"target"`
	Details  map[string]any `json:"details"`
}
