package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/api"
	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/execlog"
	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/api/secrets"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/store"
)

// Services are PiCloud's services on an open database and a started
// executor: the execution log, the ingress (orchestrator), the control
// plane (manager) and the HTTP handler in front of them. The daemon builds
// them with NewServices, and so do the API's tests, so that what is tested
// is wired as what runs.
type Services struct {
	Store        *store.Store
	Secrets      *secrets.Box // nil without a data directory
	Hub          *execlog.Hub
	Recorder     *execlog.Recorder
	Orchestrator *orchestrator.Orchestrator
	Manager      *manager.Service
	Handler      http.Handler
}

// ServicesOption changes how NewServices builds the services.
type ServicesOption func(*servicesOptions)

type servicesOptions struct {
	passwords  *auth.Params
	adminHosts *hosts.AdminHosts
	setupDone  func()
	started    time.Time
}

// WithPasswordParams hashes passwords with p instead of auth.DefaultParams:
// for tests, where the production cost would dominate.
func WithPasswordParams(p auth.Params) ServicesOption {
	return func(o *servicesOptions) { o.passwords = &p }
}

// WithAdminHosts makes the admin API answer on h instead of the host names
// the configuration gives (PICLOUD_ADMIN_HOSTS, or the machine's names).
func WithAdminHosts(h *hosts.AdminHosts) ServicesOption {
	return func(o *servicesOptions) { o.adminHosts = h }
}

// OnSetupDone calls f once the first owner has been made with the setup
// token, after the token file is removed.
func OnSetupDone(f func()) ServicesOption {
	return func(o *servicesOptions) { o.setupDone = f }
}

// withStarted sets the daemon's start time, reported by the system status.
func withStarted(t time.Time) ServicesOption {
	return func(o *servicesOptions) { o.started = t }
}

// NewServices builds the services on pool and exec as the configuration
// says, and starts the execution log's writer; Shutdown stops it. Nothing
// else is started: the caller serves Handler.
func NewServices(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, exec Executor, logger *slog.Logger, opts ...ServicesOption) (*Services, error) {
	o := servicesOptions{started: time.Now()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.adminHosts == nil {
		o.adminHosts = adminHosts(cfg)
	}
	// The secrets key lives in the data directory, which a private cluster
	// sets up: the database comes first.
	box, err := loadSecrets(cfg, logger)
	if err != nil {
		return nil, err
	}
	s := &Services{Store: store.New(pool), Secrets: box, Hub: execlog.NewHub()}
	s.Recorder = execlog.NewRecorder(execlog.Config{
		FlushInterval: cfg.LogFlushInterval, Retention: cfg.LogRetention, MaxRecords: cfg.LogMaxRecords,
	}, s.Store, s.Hub, logger)
	if err := s.Recorder.Start(ctx); err != nil {
		return nil, fmt.Errorf("start the execution log: %w", err)
	}
	s.build(cfg, exec, o, logger)
	handler, err := api.New(api.Config{
		MaxRequestBodyBytes: cfg.MaxRequestBodyBytes, BodyReadTimeout: cfg.BodyReadTimeout, TrustedProxies: cfg.TrustedProxies,
		Versions: Versions(), PublicURL: cfg.BaseURL(), AdminHosts: o.adminHosts,
	}, api.Deps{Manager: s.Manager, Orchestrator: s.Orchestrator, Hub: s.Hub, Health: health(s.Store, exec), Logger: logger,
		System: systemStatus(cfg, o.started, s.Store, exec)})
	if err != nil {
		_ = s.Shutdown(context.Background())
		return nil, fmt.Errorf("build the HTTP handler: %w", err)
	}
	s.Handler = handler
	return s, nil
}

// build makes the orchestrator and the manager; they start nothing.
func (s *Services) build(cfg config.Config, exec Executor, o servicesOptions, logger *slog.Logger) {
	var opener orchestrator.Opener
	var sealer manager.Sealer
	if s.Secrets != nil {
		opener, sealer = s.Secrets, s.Secrets
	}
	limitDefaults, limitCeilings := scriptLimits(cfg.Sandbox)
	s.Orchestrator = orchestrator.New(orchestrator.Config{
		MaxConcurrent: cfg.MaxConcurrentExecutions,
		LimitDefaults: limitDefaults,
		LimitCeilings: limitCeilings,
		Secrets:       opener,
	}, s.Store, exec, s.Recorder, logger)
	creds := newCredentials()
	if o.passwords != nil {
		creds.Hasher = auth.NewHasher(*o.passwords)
	}
	s.Manager = manager.New(manager.Config{SessionTTL: cfg.SessionTTL, Secrets: sealer, AdminHosts: o.adminHosts,
		LimitDefaults: limitDefaults, LimitCeilings: limitCeilings,
		SetupDone: func() {
			removeSetupToken(SetupTokenPath(cfg), logger)
			if o.setupDone != nil {
				o.setupDone()
			}
		},
	}, s.Store, creds, s.Orchestrator, logger)
}

// Shutdown ends the log streams and writes the execution records still
// buffered.
func (s *Services) Shutdown(ctx context.Context) error {
	s.Hub.CloseAll()
	return s.Recorder.Shutdown(ctx)
}
