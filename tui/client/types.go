package client

import (
	"encoding/json"
	"time"

	"github.com/picloud/picloud/api/model"
)

// The API's own types, shared with the server (api/model): what the client
// decodes is exactly what the daemon encodes.
type (
	// User is a PiCloud user with their roles.
	User = model.User
	// App is a unit of isolation with its own scripts, routes and logs.
	App = model.App
	// Domain is an app's claim on a host name or pattern.
	Domain = model.Domain
	// Script is a handler; Source is the active version's (not in lists).
	Script = model.Script
	// Version is one saved version of a script.
	Version = model.ScriptVersion
	// Route binds a method and path to a script.
	Route = model.Route
	// Execution is the log record of one script execution.
	Execution = model.ExecutionRecord
	// ResponsePreview is the start of what an execution answered.
	ResponsePreview = model.ResponsePreview
	// System is the health of the board and the daemon
	// (GET /api/v1/admin/system); figures the board does not expose are zero.
	System = model.SystemStatus
	// Worker is one executor worker slot.
	Worker = model.WorkerStatus
	// WorkerExit says why a slot's last worker ended.
	WorkerExit = model.WorkerExit
	// Transactions is how many transactions scripts hold open.
	Transactions = model.TransactionsStatus
	// AppStorage is one app's data against its storage quota.
	AppStorage = model.AppStorage
	// SSHKey is a public key that signs a user in over SSH.
	SSHKey = model.SSHKey
	// AuditRecord is one change, who made it, through what and when.
	AuditRecord = model.AuditRecord
	// ReplayReport is a replay of a version against a script's captured
	// requests.
	ReplayReport = model.ReplayReport
)

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
	// Interceptors run before the script, in order.
	Interceptors []MatchInterceptor `json:"interceptors"`
}

// MatchInterceptor is an interceptor in a match's chain.
type MatchInterceptor struct {
	ID         string `json:"interceptor_id"`
	Path       string `json:"path"`
	ScriptID   string `json:"script_id"`
	ScriptName string `json:"script_name"`
}

// ConsoleLine is one console call of an execution.
type ConsoleLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// Console decodes an execution's console output; nil when there is none
// or it cannot be read.
func Console(e Execution) []ConsoleLine {
	var out []ConsoleLine
	if len(e.Console) > 0 {
		_ = json.Unmarshal(e.Console, &out)
	}
	return out
}

// Level is the most severe console level of an execution, "error" for a
// failed one, "" when it logged nothing.
func Level(e Execution) string {
	if e.Error != "" || e.Status >= 500 {
		return "error"
	}
	rank := map[string]int{"debug": 1, "info": 2, "warn": 3, "error": 4}
	best := ""
	for _, l := range Console(e) {
		if rank[l.Level] > rank[best] {
			best = l.Level
		}
	}
	return best
}
