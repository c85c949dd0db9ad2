// Package manager is PiCloud's control plane: users and sessions, scripts and
// their versions, routes. It validates every change, writes it through its
// Store together with its audit record, and tells the orchestrator that its
// cache is stale. It knows nothing of HTTP or of PostgreSQL.
package manager

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/model"
)

// Store is the storage the manager needs.
type Store interface {
	// Atomically runs fn in one transaction: the Store's calls made with
	// the context fn receives are part of it. Every change and its audit
	// record are written this way.
	Atomically(ctx context.Context, fn func(ctx context.Context) error) error
	InsertAudit(ctx context.Context, r model.AuditRecord) error
	ListAudit(ctx context.Context, q model.AuditQuery) ([]model.AuditRecord, error)

	CreateUser(ctx context.Context, username, passwordHash, role string) (model.User, error)
	UserByName(ctx context.Context, username string) (model.User, error)
	UserByID(ctx context.Context, id string) (model.User, error)
	ListUsers(ctx context.Context) ([]model.User, error)
	AppRoles(ctx context.Context, userID string) (map[string]string, error)
	SetAppRole(ctx context.Context, userID, appID, role string) error
	DeleteAppRole(ctx context.Context, userID, appID string) error
	UpdateUser(ctx context.Context, id string, role *string, disabled *bool) (model.User, error)
	LockEnabledOwners(ctx context.Context) ([]string, error)
	SetPasswordByID(ctx context.Context, id, passwordHash string) error
	DeleteSessions(ctx context.Context, userID string, except []byte) (int64, error)
	CountUsers(ctx context.Context) (int, error)
	CreateAPIToken(ctx context.Context, t model.APIToken) (model.APIToken, error)
	ListAPITokens(ctx context.Context, userID string) ([]model.APIToken, error)
	APITokenByID(ctx context.Context, id string) (model.APIToken, error)
	DeleteAPIToken(ctx context.Context, id string) error
	TouchAPIToken(ctx context.Context, tokenHash []byte, now time.Time) (model.APIToken, model.User, error)
	ReplaceSetupToken(ctx context.Context, tokenHash []byte, expires time.Time) error
	TakeSetupToken(ctx context.Context, tokenHash []byte) (time.Time, error)
	SetupToken(ctx context.Context) (time.Time, error)
	DeleteSetupToken(ctx context.Context) error

	CreateApp(ctx context.Context, name, description string) (model.App, error)
	ListApps(ctx context.Context) ([]model.App, error)
	AppByID(ctx context.Context, id string) (model.App, error)
	UpdateApp(ctx context.Context, id string, name, description *string) (model.App, error)
	DeleteApp(ctx context.Context, id string) error
	CreateDomain(ctx context.Context, d model.Domain) (model.Domain, error)
	ListDomains(ctx context.Context, appID string) ([]model.Domain, error)
	DeleteDomain(ctx context.Context, appID, id string) error
	Settings(ctx context.Context) (model.Settings, error)
	UpdateSettings(ctx context.Context, defaultAppFallback *bool) (model.Settings, error)
	CreateSession(ctx context.Context, s model.Session) error
	TouchSession(ctx context.Context, tokenHash []byte, now time.Time, ttl time.Duration) (model.User, time.Time, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error

	CreateScript(ctx context.Context, appID, name, language string, v model.NewVersion) (model.Script, error)
	ScriptByID(ctx context.Context, id string) (model.Script, error)
	SetScriptLimits(ctx context.Context, id string, l model.ScriptLimits) (model.Script, error)
	ListScripts(ctx context.Context, appID string) ([]model.Script, error)
	AddVersion(ctx context.Context, id, name string, v model.NewVersion) (model.Script, error)
	ActivateVersion(ctx context.Context, id string, version int) (model.Script, error)
	DeleteScript(ctx context.Context, id string) error
	ListVersions(ctx context.Context, id string) ([]model.ScriptVersion, error)
	Version(ctx context.Context, id string, version int) (model.ScriptVersion, error)

	CreateRoute(ctx context.Context, r model.Route) (model.Route, error)
	ListRoutes(ctx context.Context, scriptID string) ([]model.Route, error)
	AppRoutes(ctx context.Context, appID string) ([]model.Route, error)
	RouteByID(ctx context.Context, id string) (model.Route, error)
	DeleteRoute(ctx context.Context, id string) error

	ListExecutions(ctx context.Context, q model.LogQuery) ([]model.ExecutionRecord, error)

	CreateSSHKey(ctx context.Context, k model.SSHKey) (model.SSHKey, error)
	ListSSHKeys(ctx context.Context, userID string) ([]model.SSHKey, error)
	DeleteSSHKey(ctx context.Context, userID, id string) (model.SSHKey, error)
	SSHKeyByFingerprint(ctx context.Context, fingerprint string) (model.SSHKey, model.User, error)
	TouchSSHKey(ctx context.Context, id string, now time.Time) error

	PutVariable(ctx context.Context, v model.Variable) (model.Variable, bool, error)
	ListVariables(ctx context.Context, appID string) ([]model.Variable, error)
	VariableByName(ctx context.Context, appID, name string) (model.Variable, error)
	CountVariables(ctx context.Context, appID string) (int, error)
	DeleteVariable(ctx context.Context, appID, name string) error
}

// Invalidator is told after every change to routes or scripts.
type Invalidator interface {
	Invalidate()
}

// Config tunes the manager.
type Config struct {
	SessionTTL time.Duration
	// SetupDone, if set, is called once the first-start setup token is
	// spent or moot (the first user exists), e.g. to remove its file.
	SetupDone func()
	// Secrets seals secret variables; without it, secrets are refused.
	Secrets Sealer
	// AdminHosts are the admin API's host names, which no app may claim;
	// nil means loopback and IP addresses.
	AdminHosts *hosts.AdminHosts
	// LimitDefaults and LimitCeilings are the daemon's execution limits:
	// what a script without its own gets, and what no script may pass.
	LimitDefaults, LimitCeilings model.ScriptLimits
}

// Service is the control plane.
type Service struct {
	cfg    Config
	limits atomic.Pointer[[2]model.ScriptLimits] // defaults, ceilings; see SetLimits
	store  Store
	creds  *Credentials
	inval  Invalidator
	log    *slog.Logger
	now    func() time.Time
}

// New returns a Service.
func New(cfg Config, store Store, creds *Credentials, inval Invalidator, logger *slog.Logger) *Service {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 24 * time.Hour
	}
	if cfg.AdminHosts == nil {
		cfg.AdminHosts = hosts.NewAdminHosts(nil, true)
	}
	s := &Service{cfg: cfg, store: store, creds: creds, inval: inval,
		log: logger.With("component", "manager"), now: time.Now}
	s.SetLimits(cfg.LimitDefaults, cfg.LimitCeilings)
	return s
}

// SetLimits replaces the default limits and the ceilings that scripts' own
// limits are checked against (a configuration reload).
func (s *Service) SetLimits(defaults, ceilings model.ScriptLimits) {
	s.limits.Store(&[2]model.ScriptLimits{defaults, ceilings})
}
