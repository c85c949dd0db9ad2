package model

import "time"

// App is a unit of isolation: its scripts, routes, domains, logs and data
// are its own.
type App struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Domain is an app's claim on a host name or pattern.
type Domain struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id"`
	Pattern   string    `json:"pattern"`
	Shape     string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// Settings are the instance-wide settings kept in the database.
type Settings struct {
	// DefaultAppFallback serves hosts that no app claims from the default app.
	DefaultAppFallback bool      `json:"default_app_fallback"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// Instance roles.
const (
	RoleOwner  = "owner"  // manages users and the instance, and everything else
	RoleAdmin  = "admin"  // manages apps and everything in them
	RoleMember = "member" // has only the app roles granted
)

// App roles.
const (
	RoleEditor = "editor" // changes an app's scripts, routes, domains and variables
	RoleViewer = "viewer" // reads them and the app's logs
)

// StoreUsage is what one kind of an app's data (kv, docs, users) takes;
// users have no collections.
type StoreUsage struct {
	Kind        string `json:"kind"`
	Collections int64  `json:"collections"`
	Items       int64  `json:"items"` // keys, documents, users
	Bytes       int64  `json:"bytes"`
}

// DataUsage is what an app's data takes against its storage quota.
type DataUsage struct {
	UsedBytes  int64 `json:"used_bytes"`
	QuotaBytes int64 `json:"quota_bytes"`
	// OwnQuotaBytes is the app's own quota, set by an administrator; nil:
	// the daemon's default applies.
	OwnQuotaBytes *int64       `json:"own_quota_bytes"`
	Stores        []StoreUsage `json:"stores"`
}

// DataCallCount is how many data calls of an app the data service
// answered, of one family (kv, docs, …) with one outcome (ok, limit,
// error).
type DataCallCount struct {
	AppID, Family, Outcome string
	Count                  uint64
}
