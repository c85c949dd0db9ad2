package model

import (
	"encoding/json"
	"time"
)

// Trigger types.
const (
	TriggerCron = "cron" // runs the script's scheduled handler on a schedule
)

// Trigger starts runs of a script other than HTTP requests: a cron
// schedule now, later a queue or an email address. Config holds the
// settings of its type as a JSON object (CronConfig for "cron").
type Trigger struct {
	ID        string
	AppID     string
	ScriptID  string
	Type      string
	Config    json.RawMessage
	CreatedAt time.Time
	// NextRunAt and LastRunAt are what the scheduler last planned and
	// started; nil before the first.
	NextRunAt *time.Time
	LastRunAt *time.Time
}

// CronConfig is the configuration of a cron trigger.
type CronConfig struct {
	// Schedule is a 5-field cron expression or an @hourly-style name.
	Schedule string `json:"schedule"`
	// Timezone is the IANA zone the schedule is read in; "" is UTC.
	Timezone string `json:"timezone"`
	// Misfire is what a run missed while the daemon was down does:
	// "run_once" (the default) or "skip".
	Misfire string `json:"misfire"`
	// MaxRetries is how often a failed run is retried, with backoff,
	// unless the handler called controller.noRetry().
	MaxRetries int `json:"max_retries"`
}
