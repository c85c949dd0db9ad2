package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/api"
	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/capture"
	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/execlog"
	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/metrics"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/api/secrets"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/jobs"
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
	Metrics      *metrics.Metrics
	Rollups      *metrics.Rollups
	Orchestrator *orchestrator.Orchestrator
	Manager      *manager.Service
	// Jobs is the job engine behind triggers; NewServices builds it, the
	// daemon starts it (its "jobs" start step).
	Jobs *jobs.Engine
	// Capture keeps the requests of the scripts whose capture is on.
	Capture *capture.Service
	Handler http.Handler
}

// ServicesOption changes how NewServices builds the services.
type ServicesOption func(*servicesOptions)

type servicesOptions struct {
	passwords    *auth.Params
	adminHosts   *hosts.AdminHosts
	setupDone    func()
	started      time.Time
	data         *data.Service
	dataStore    *store.Store // the data service's
	quotaChanged func(appID string)
	storage      manager.StorageAccount // nil: no quotas (no data service)
}

// withData makes the system status report the data service's
// transactions, storage quota changes reach it, and its scripts invoke
// others; st is the store it runs on.
func withData(ds *data.Service, st *store.Store) ServicesOption {
	return func(o *servicesOptions) {
		o.data, o.dataStore = ds, st
		if ds != nil {
			o.quotaChanged, o.storage = ds.ForgetUsage, ds
		}
	}
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
	s.Capture = capture.New(s.Store, logger)
	if err := s.Capture.Reload(ctx); err != nil {
		_ = s.Recorder.Shutdown(context.Background())
		return nil, fmt.Errorf("read the request captures: %w", err)
	}
	s.Capture.Start()
	s.Rollups = metrics.NewRollups(s.Store, logger)
	s.Metrics = metrics.New(s.Store, s.Rollups, logger)
	s.Rollups.Start()
	s.Metrics.Start()
	if err := s.build(cfg, pool, exec, o, logger); err != nil {
		_ = s.Shutdown(context.Background())
		return nil, err
	}
	registerGauges(s.Metrics, s, pool, exec, o.data, logger)
	handler, err := api.New(api.Config{
		MaxRequestBodyBytes: cfg.MaxRequestBodyBytes, BodyReadTimeout: cfg.BodyReadTimeout, TrustedProxies: cfg.TrustedProxies,
		Versions: Versions(), PublicURL: cfg.BaseURL(), AdminHosts: o.adminHosts,
	}, api.Deps{Manager: s.Manager, Orchestrator: s.Orchestrator, Hub: s.Hub, Health: health(s.Store, exec), Logger: logger,
		Metrics: s.Metrics.Handler(),
		Backup:  backupTo(cfg, pool),
		System:  systemStatus(cfg, o.started, s.Store, exec, o.data)})
	if err != nil {
		_ = s.Shutdown(context.Background())
		return nil, fmt.Errorf("build the HTTP handler: %w", err)
	}
	s.Handler = handler
	return s, nil
}

// build makes the orchestrator, the job engine and the manager; they start
// nothing.
func (s *Services) build(cfg config.Config, pool *pgxpool.Pool, exec Executor, o servicesOptions, logger *slog.Logger) error {
	var opener orchestrator.Opener
	var sealer manager.Sealer
	if s.Secrets != nil {
		opener, sealer = s.Secrets, s.Secrets
	}
	limitDefaults, limitCeilings := scriptLimits(cfg.Sandbox)
	s.Orchestrator = orchestrator.New(orchestrator.Config{
		MaxConcurrent:        cfg.MaxConcurrentExecutions,
		MaxBackground:        cfg.BackgroundSlots(),
		ResponsePreviewBytes: cfg.LogResponseBytes,
		Capture:              s.Capture,
		LimitDefaults:        limitDefaults,
		LimitCeilings:        limitCeilings,
		Secrets:              opener,
	}, s.Store, exec, recorders{s.Recorder, s.Metrics}, logger)
	if o.data != nil {
		// Scripts invoke scripts of their app through the orchestrator.
		o.data.SetInvoker(s.Orchestrator)
	}
	var err error
	s.Jobs, err = jobs.New(pool, s.Store, s.Orchestrator, jobs.Config{
		Workers:     s.Orchestrator.BackgroundSlots(),
		RunTimeout:  time.Duration(limitCeilings.WallTimeMS)*time.Millisecond + runTimeoutMargin,
		CronSeconds: cfg.CronSeconds,
		// Tests only: not a setting of the configuration, which refuses
		// unknown PICLOUD_ names.
		InvokeRetryUnit: testInvokeRetryUnit(logger),
		EmailRetryWait:  testEmailRetryWait(),
	}, logger)
	if err != nil {
		return err
	}
	if o.data != nil {
		// invoke.later plans its runs on the job engine.
		o.data.SetLaterPlanner(laterPlanner{st: o.dataStore, jobs: s.Jobs})
	}
	creds := newCredentials()
	if h, ok := dataHasher(o.data); ok {
		// One bound on argon2 runs for admins' and app users' passwords.
		creds.Hasher = h
	}
	if o.passwords != nil {
		creds.Hasher = auth.NewHasher(*o.passwords)
	}
	s.Manager = manager.New(manager.Config{SessionTTL: cfg.SessionTTL, Secrets: sealer, AdminHosts: o.adminHosts,
		LimitDefaults: limitDefaults, LimitCeilings: limitCeilings,
		StorageDefault: int64(cfg.Sandbox.StorageMB) << 20, StorageCeiling: int64(cfg.Sandbox.MaxStorageMB) << 20,
		QuotaChanged: o.quotaChanged, Storage: o.storage,
		Triggers: s.Store, Scheduler: s.Jobs, Queues: s.Store, Inbox: s.Store, EmailAddresses: s.Store, CronSeconds: cfg.CronSeconds,
		AppSenders: s.Store, BoardSenders: cfg.SMTP.Senders,
		Interceptors: s.Store, AppUsers: s.Store,
		Capture: s.Store, CaptureChanged: s.Capture.Reload,
		SetupDone: func() {
			removeSetupToken(SetupTokenPath(cfg), logger)
			if o.setupDone != nil {
				o.setupDone()
			}
		},
	}, s.Store, creds, s.Orchestrator, logger)
	return nil
}

// EnvTestInvokeRetryMS, for tests only, is the unit of the backoff of
// failed invoke.later runs in milliseconds: attempt⁴ of them instead of
// attempt⁴ seconds.
const EnvTestInvokeRetryMS = "TEST_INVOKE_RETRY_UNIT_MS"

// testInvokeRetryUnit reads EnvTestInvokeRetryMS; 0 when it is unset or
// not a positive number of milliseconds.
func testInvokeRetryUnit(logger *slog.Logger) time.Duration {
	v := os.Getenv(EnvTestInvokeRetryMS)
	if v == "" {
		return 0
	}
	ms, err := strconv.Atoi(v)
	if err != nil || ms <= 0 {
		logger.Warn("ignored: not a positive number of milliseconds", "variable", EnvTestInvokeRetryMS, "value", v)
		return 0
	}
	logger.Warn("invoke.later retries use a test backoff", "variable", EnvTestInvokeRetryMS, "unit_ms", ms)
	return time.Duration(ms) * time.Millisecond
}

// testEmailRetryWait reads EnvTestEmailRetryMS, which shortens the waits
// of received email as it does those of sent email; 0 when it is unset
// or not a positive number of milliseconds.
func testEmailRetryWait() time.Duration {
	if ms, err := strconv.Atoi(os.Getenv(EnvTestEmailRetryMS)); err == nil && ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return 0
}

// runTimeoutMargin is what a background run may take past the wall-time
// ceiling: waiting for its slot, starting a worker, writing its outcome.
const runTimeoutMargin = 10 * time.Second

// Shutdown ends the log streams and writes the execution records still
// buffered.
func (s *Services) Shutdown(ctx context.Context) error {
	s.Hub.CloseAll()
	var capErr error
	if s.Capture != nil {
		capErr = s.Capture.Stop(ctx)
	}
	return errors.Join(capErr, s.Recorder.Shutdown(ctx), s.Metrics.Shutdown(ctx), s.Rollups.Shutdown(ctx))
}

// recorders hands each execution record to each of them.
type recorders []orchestrator.Recorder

func (rs recorders) Record(rec model.ExecutionRecord) {
	for _, r := range rs {
		r.Record(rec)
	}
}

// dataHasher is the data service's hasher of app users' passwords, if it
// has one.
func dataHasher(ds *data.Service) (*auth.Hasher, bool) {
	if ds == nil {
		return nil, false
	}
	h, ok := ds.UsersHasher().(*auth.Hasher)
	return h, ok
}
