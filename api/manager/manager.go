// Package manager is PiCloud's control plane: users and sessions, scripts and
// their versions, routes. It validates every change, writes it through its
// Store together with its audit record, and tells the orchestrator that its
// cache is stale. It knows nothing of HTTP or of PostgreSQL.
package manager

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/model"
)

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
