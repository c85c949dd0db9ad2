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
	// StorageDefault and StorageCeiling are apps' storage quota for their
	// data, in bytes: what an app without its own has, and what no app's
	// own may pass.
	StorageDefault, StorageCeiling int64
	// QuotaChanged, if set, is told the app whose storage quota an
	// administrator changed (the data service counts it again).
	QuotaChanged func(appID string)
	// Storage, if set, holds administrators' data writes to the apps'
	// storage quotas, as scripts' writes are (the data service).
	Storage StorageAccount
	// Triggers and Scheduler store scripts' triggers and plan their runs;
	// without them, trigger calls fail with ErrNoScheduler.
	Triggers  TriggerStore
	Scheduler Scheduler
	// EmailAddresses finds the email trigger of an address, so that a
	// second claim is refused naming the first; nil leaves it to the
	// store's uniqueness.
	EmailAddresses EmailAddresses
	// AppSenders keeps the senders the owner sets per app, each within
	// BoardSenders (PICLOUD_SMTP_SENDERS); nil: not available.
	AppSenders   AppSendersStore
	BoardSenders []string
	// Interceptors stores the interceptors of apps' routes; without it,
	// interceptor calls fail with ErrNoInterceptors.
	Interceptors InterceptorStore
	// AppUsers stores the users of apps (the SDK's users module); without
	// it, app user calls fail with ErrNoAppUsers.
	AppUsers AppUserStore
	// Queues holds the apps' queue messages; nil: no queues.
	Queues QueueStore
	// Inbox holds the apps' received email; nil: not available.
	Inbox InboxStore
	// Capture keeps scripts' request captures; without it, capture calls
	// fail with ErrNoCapture. CaptureChanged, if set, is called after a
	// script's capture changed.
	Capture        CaptureStore
	CaptureChanged func(ctx context.Context) error
	// CronSeconds accepts cron schedules with a leading seconds field
	// (PICLOUD_CRON_SECONDS, for tests).
	CronSeconds bool
}

// Service is the control plane.
type Service struct {
	cfg     Config
	limits  atomic.Pointer[[2]model.ScriptLimits] // defaults, ceilings; see SetLimits
	storage atomic.Pointer[[2]int64]              // default, ceiling; see SetStorageLimits
	store   Store
	creds   *Credentials
	inval   Invalidator
	log     *slog.Logger
	now     func() time.Time
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
	s.SetStorageLimits(cfg.StorageDefault, cfg.StorageCeiling)
	return s
}

// SetStorageLimits replaces apps' default storage quota and the ceiling
// of their own (a configuration reload).
func (s *Service) SetStorageLimits(def, ceiling int64) {
	s.storage.Store(&[2]int64{def, ceiling})
}

// SetLimits replaces the default limits and the ceilings that scripts' own
// limits are checked against (a configuration reload).
func (s *Service) SetLimits(defaults, ceilings model.ScriptLimits) {
	s.limits.Store(&[2]model.ScriptLimits{defaults, ceilings})
}

// StorageAccount keeps apps' data within their storage quotas.
type StorageAccount interface {
	// ReserveStorage takes size bytes of app's quota for a write, or
	// refuses it with an error wrapping model.ErrQuotaExceeded.
	ReserveStorage(ctx context.Context, app, what string, size int64) error
	// StorageFreed notes that something of app's data was deleted.
	StorageFreed(app string)
}

// reserveStorage takes size bytes of app's quota, when quotas are kept.
func (s *Service) reserveStorage(ctx context.Context, app, what string, size int) error {
	if s.cfg.Storage == nil {
		return nil
	}
	return s.cfg.Storage.ReserveStorage(ctx, app, what, int64(size))
}

// storageFreed notes a deletion of app's data, when quotas are kept.
func (s *Service) storageFreed(app string) {
	if s.cfg.Storage != nil {
		s.cfg.Storage.StorageFreed(app)
	}
}
