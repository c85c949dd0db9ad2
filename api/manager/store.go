package manager

import (
	"context"
	"time"

	"github.com/picloud/picloud/api/model"
)

// Store is the storage the manager needs, composed of one small role
// interface per area. appliance/store's Store satisfies them all; a test
// fakes the ones it exercises.
//
// Every role reports a missing row as model.ErrNotFound, a row that collides
// with one already there (a taken name, a key of the same shape) as
// model.ErrConflict, and a value the storage refuses as model.ErrInvalid,
// each wrapped with what was being done.
type Store interface {
	Transactor
	AuditStore
	UserStore
	AppRoleStore
	SessionStore
	TokenStore
	SetupStore
	AppStore
	DomainStore
	SettingsStore
	ScriptStore
	RouteStore
	ExecutionStore
	RollupStore
	SSHKeyStore
	VariableStore
	KVAdminStore
	DocsAdminStore
	AppDataStore
}

// AppDataStore measures apps' data and keeps their storage quotas.
type AppDataStore interface {
	// AppDataUsage is what an app's data takes, per kind of store.
	AppDataUsage(ctx context.Context, appID string) ([]model.StoreUsage, error)
	// AppStorageQuota is an app's own quota in bytes, nil for the default.
	AppStorageQuota(ctx context.Context, appID string) (*int64, error)
	// SetAppStorageQuota sets an app's own quota, or the default with nil.
	SetAppStorageQuota(ctx context.Context, appID string, bytes *int64) error
}

// Transactor runs changes in one transaction.
type Transactor interface {
	// Atomically runs fn in one transaction: the Store's calls made with
	// the context fn receives are part of it, and it commits only if fn
	// returns nil. Every change and its audit record are written this way.
	// Inside an Atomically, a nested one joins the outer transaction.
	Atomically(ctx context.Context, fn func(ctx context.Context) error) error
}

// AuditStore is the audit log.
type AuditStore interface {
	InsertAudit(ctx context.Context, r model.AuditRecord) error
	ListAudit(ctx context.Context, q model.AuditQuery) ([]model.AuditRecord, error)
}

// UserStore holds the users, their instance role and their password hash.
type UserStore interface {
	CreateUser(ctx context.Context, username, passwordHash, role string) (model.User, error)
	UserByName(ctx context.Context, username string) (model.User, error)
	UserByID(ctx context.Context, id string) (model.User, error)
	ListUsers(ctx context.Context) ([]model.User, error)
	CountUsers(ctx context.Context) (int, error)
	UpdateUser(ctx context.Context, id string, role *string, disabled *bool) (model.User, error)
	SetPasswordByID(ctx context.Context, id, passwordHash string) error
	// LockEnabledOwners returns the ids of the enabled owners and holds
	// them until the Atomically it is called in ends.
	LockEnabledOwners(ctx context.Context) ([]string, error)
}

// AppRoleStore holds the members' roles in apps.
type AppRoleStore interface {
	// AppRoles returns a user's roles by app id.
	AppRoles(ctx context.Context, userID string) (map[string]string, error)
	SetAppRole(ctx context.Context, userID, appID, role string) error
	DeleteAppRole(ctx context.Context, userID, appID string) error
}

// SessionStore holds login sessions, by the hash of their token.
type SessionStore interface {
	CreateSession(ctx context.Context, s model.Session) error
	// TouchSession returns the user of a session live at now and slides
	// its expiry to now+ttl.
	TouchSession(ctx context.Context, tokenHash []byte, now time.Time, ttl time.Duration) (model.User, time.Time, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteSessions ends a user's sessions but the one whose hash is
	// except (nil: all of them).
	DeleteSessions(ctx context.Context, userID string, except []byte) (int64, error)
}

// TokenStore holds API tokens, by the hash of the token.
type TokenStore interface {
	CreateAPIToken(ctx context.Context, t model.APIToken) (model.APIToken, error)
	// ListAPITokens returns a user's tokens, or everyone's for "".
	ListAPITokens(ctx context.Context, userID string) ([]model.APIToken, error)
	APITokenByID(ctx context.Context, id string) (model.APIToken, error)
	DeleteAPIToken(ctx context.Context, id string) error
	// TouchAPIToken returns the token live at now with this hash, with its
	// user, and records its use.
	TouchAPIToken(ctx context.Context, tokenHash []byte, now time.Time) (model.APIToken, model.User, error)
}

// SetupStore holds the one first-start setup token, by its hash.
type SetupStore interface {
	// ReplaceSetupToken stores a new token, replacing any earlier one.
	ReplaceSetupToken(ctx context.Context, tokenHash []byte, expires time.Time) error
	// TakeSetupToken deletes the token with this hash and returns its
	// expiry; of concurrent callers, one gets it.
	TakeSetupToken(ctx context.Context, tokenHash []byte) (time.Time, error)
	// SetupToken returns the pending token's expiry.
	SetupToken(ctx context.Context) (time.Time, error)
	// DeleteSetupToken removes the token, if any.
	DeleteSetupToken(ctx context.Context) error
}

// AppStore holds the apps.
type AppStore interface {
	CreateApp(ctx context.Context, name, description string) (model.App, error)
	ListApps(ctx context.Context) ([]model.App, error)
	AppByID(ctx context.Context, id string) (model.App, error)
	// UpdateApp changes the fields that are not nil.
	UpdateApp(ctx context.Context, id string, name, description *string) (model.App, error)
	// DeleteApp removes an app with everything it owns.
	DeleteApp(ctx context.Context, id string) error
}

// DomainStore holds the apps' domain claims.
type DomainStore interface {
	// CreateDomain records a claim; one of the same shape is a conflict.
	CreateDomain(ctx context.Context, d model.Domain) (model.Domain, error)
	// ListDomains returns an app's claims, or every app's for "".
	ListDomains(ctx context.Context, appID string) ([]model.Domain, error)
	DeleteDomain(ctx context.Context, appID, id string) error
}

// SettingsStore holds the instance settings.
type SettingsStore interface {
	Settings(ctx context.Context) (model.Settings, error)
	// UpdateSettings changes the settings that are not nil.
	UpdateSettings(ctx context.Context, defaultAppFallback *bool) (model.Settings, error)
}

// ScriptStore holds the scripts and their versions.
type ScriptStore interface {
	// CreateScript stores a script with v as its version 1, active.
	CreateScript(ctx context.Context, appID, name, language string, v model.NewVersion) (model.Script, error)
	// ScriptByID returns a script with its active version's source and code.
	ScriptByID(ctx context.Context, id string) (model.Script, error)
	// ListScripts returns an app's scripts, without source.
	ListScripts(ctx context.Context, appID string) ([]model.Script, error)
	// AddVersion stores v as the next version and makes it active unless
	// v.Draft is set; a name that is not "" renames the script.
	AddVersion(ctx context.Context, id, name string, v model.NewVersion) (model.Script, error)
	ActivateVersion(ctx context.Context, id string, version int) (model.Script, error)
	SetScriptLimits(ctx context.Context, id string, l model.ScriptLimits) (model.Script, error)
	// DeleteScript removes a script with its versions and routes.
	DeleteScript(ctx context.Context, id string) error
	// ListVersions returns a script's versions, newest first, without source.
	ListVersions(ctx context.Context, id string) ([]model.ScriptVersion, error)
	Version(ctx context.Context, id string, version int) (model.ScriptVersion, error)
}

// RouteStore holds the routes that bind a method and path to a script.
type RouteStore interface {
	// CreateRoute binds a route to its script's app; a route of the same
	// app, method and shape is a conflict.
	CreateRoute(ctx context.Context, r model.Route) (model.Route, error)
	ListRoutes(ctx context.Context, scriptID string) ([]model.Route, error)
	AppRoutes(ctx context.Context, appID string) ([]model.Route, error)
	RouteByID(ctx context.Context, id string) (model.Route, error)
	DeleteRoute(ctx context.Context, id string) error
}

// ExecutionStore is the execution log, as the manager reads it.
type ExecutionStore interface {
	// ListExecutions returns execution records, newest first.
	ListExecutions(ctx context.Context, q model.LogQuery) ([]model.ExecutionRecord, error)
}

// RollupStore holds the minute and hour rollups of scripts' invocations.
type RollupStore interface {
	// ListRollups returns rollups of one step, oldest first.
	ListRollups(ctx context.Context, q model.RollupQuery) ([]model.Rollup, error)
}

// SSHKeyStore holds the users' SSH public keys, by fingerprint.
type SSHKeyStore interface {
	// CreateSSHKey stores a key; one registered already, to anyone, is a
	// conflict.
	CreateSSHKey(ctx context.Context, k model.SSHKey) (model.SSHKey, error)
	ListSSHKeys(ctx context.Context, userID string) ([]model.SSHKey, error)
	// DeleteSSHKey removes one of a user's keys and returns it.
	DeleteSSHKey(ctx context.Context, userID, id string) (model.SSHKey, error)
	SSHKeyByFingerprint(ctx context.Context, fingerprint string) (model.SSHKey, model.User, error)
	// TouchSSHKey records a sign-in with a key at now.
	TouchSSHKey(ctx context.Context, id string, now time.Time) error
}

// VariableStore holds the apps' variables; a secret's value is stored
// sealed only.
type VariableStore interface {
	// PutVariable creates or replaces a variable; created says which.
	PutVariable(ctx context.Context, v model.Variable) (out model.Variable, created bool, err error)
	// ListVariables returns an app's variables, or every app's for "".
	ListVariables(ctx context.Context, appID string) ([]model.Variable, error)
	VariableByName(ctx context.Context, appID, name string) (model.Variable, error)
	CountVariables(ctx context.Context, appID string) (int, error)
	DeleteVariable(ctx context.Context, appID, name string) error
}

// KVAdminStore is the scripts' kv data as administrators see and change
// it. Keys of an app are only ever reached with its id.
type KVAdminStore interface {
	// KVCollections returns an app's collections with live keys, by name.
	KVCollections(ctx context.Context, appID string) ([]model.KVCollection, error)
	// BrowseKV returns live keys of a collection in key order, without
	// their values.
	BrowseKV(ctx context.Context, q model.KVBrowseQuery) ([]model.KVKeyInfo, error)
	GetKV(ctx context.Context, appID, collection, key string) (model.KVEntry, error)
	// PutKV writes a key and returns its new version; a CheckVersion that
	// does not hold is model.ErrConflict.
	PutKV(ctx context.Context, p model.KVPut) (int64, error)
	// DeleteKV deletes a key and says whether a live one was there; an
	// ifVersion that does not hold is model.ErrConflict.
	DeleteKV(ctx context.Context, appID, collection, key string, ifVersion *int64) (bool, error)
}

// DocsAdminStore is the scripts' docs collections as administrators see
// and change them. Documents of an app are only ever reached with its id.
type DocsAdminStore interface {
	// DocsCollections returns an app's collections with documents or
	// indexes, by name.
	DocsCollections(ctx context.Context, appID string) ([]model.DocsCollection, error)
	DocsIndexes(ctx context.Context, appID, collection string) ([]model.DocsIndexInfo, error)
	// DropDocsIndex drops an index and says whether it was there.
	DropDocsIndex(ctx context.Context, appID, collection, name string) (bool, error)
	FindDocs(ctx context.Context, q model.DocsQuery) ([]model.Doc, error)
	GetDoc(ctx context.Context, appID, collection, id string) (model.Doc, error)
	InsertDoc(ctx context.Context, appID, collection, id string, doc []byte) (int64, error)
	// ReplaceDoc and DeleteDoc fail with model.ErrConflict for an
	// ifVersion that does not hold.
	ReplaceDoc(ctx context.Context, appID, collection, id string, doc []byte, ifVersion *int64) (int64, error)
	DeleteDoc(ctx context.Context, appID, collection, id string, ifVersion *int64) (bool, error)
	EnsureDocsIndex(ctx context.Context, ix model.DocsIndex) error
}
