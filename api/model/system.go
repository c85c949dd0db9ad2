package model

import "time"

// SystemStatus is the health of the board and the daemon, as far as the
// kernel tells it; a figure the board does not expose is left out.
type SystemStatus struct {
	Versions          map[string]any `json:"versions"`
	StartedAt         time.Time      `json:"started_at"`
	UptimeSeconds     int64          `json:"uptime_seconds"`                // the daemon's
	BootUptimeSeconds int64          `json:"boot_uptime_seconds,omitempty"` // the board's
	CPUs              int            `json:"cpus"`
	Load              []float64      `json:"load,omitempty"` // 1, 5 and 15 minutes
	TemperatureC      *float64       `json:"temperature_c,omitempty"`
	MemoryTotalBytes  int64          `json:"memory_total_bytes,omitempty"`
	MemoryAvailBytes  int64          `json:"memory_available_bytes,omitempty"`
	DiskPath          string         `json:"disk_path,omitempty"`
	DiskTotalBytes    int64          `json:"disk_total_bytes,omitempty"`
	DiskFreeBytes     int64          `json:"disk_free_bytes,omitempty"`
	DatabaseBytes     int64          `json:"database_bytes,omitempty"`
	ExecutorMode      string         `json:"executor_mode"`
	Workers           []WorkerStatus `json:"workers"`
	DaemonRSSBytes    int64          `json:"daemon_rss_bytes,omitempty"`
	// Warnings are conditions a person should act on, e.g. a disk nearly
	// full, each a sentence.
	Warnings []string `json:"warnings,omitempty"`
	// Transactions are the scripts' open db.transactions, absent when
	// scripts have no data service.
	Transactions *TransactionsStatus `json:"transactions,omitempty"`
	// Storage is each app's data against its storage quota.
	Storage []AppStorage `json:"storage,omitempty"`
	// AppUsers counts the users of all apps (the SDK's users module) and
	// their live sessions.
	AppUsers *AppUsersStatus `json:"app_users,omitempty"`
}

// AppUsersStatus counts the users of all apps and their live sessions.
type AppUsersStatus struct {
	Users    int64 `json:"users"`
	Sessions int64 `json:"sessions"`
}

// AppStorage is what one app's data takes against its storage quota.
type AppStorage struct {
	AppID         string `json:"app_id"`
	App           string `json:"app"`
	UsedBytes     int64  `json:"used_bytes"`
	QuotaBytes    int64  `json:"quota_bytes"`
	OwnQuotaBytes *int64 `json:"-"` // the app's own, nil for the default
}

// TransactionsStatus is how many transactions scripts hold open, each
// pinning a database connection, and how many they may at once.
type TransactionsStatus struct {
	Open int `json:"open"`
	Max  int `json:"max"`
}

// WorkerStatus is one executor worker slot: its current process and how
// often the process in it has ended and been replaced.
type WorkerStatus struct {
	Index     int         `json:"index"`
	PID       int         `json:"pid,omitempty"` // absent while a replacement starts
	RSSBytes  int64       `json:"rss_bytes"`
	StartedAt *time.Time  `json:"started_at,omitempty"`
	Restarts  int         `json:"restarts"`
	LastExit  *WorkerExit `json:"last_exit,omitempty"`
}

// WorkerExit says why the last worker of a slot ended.
type WorkerExit struct {
	Code   string    `json:"code"`   // limit.time, limit.memory, executor.crashed, executor.restarted, …
	Reason string    `json:"reason"` // for a person
	At     time.Time `json:"at"`
}
