package appliance

import (
	"context"
	"log/slog"
	"reflect"
	"time"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/workers"
)

// Option changes how Serve runs.
type Option func(*serveOptions)

type serveOptions struct {
	reload   <-chan config.Config
	reloaded func()
	// workerCommand, when set, replaces `<this executable> executor` as
	// the executor workers' command line.
	workerCommand []string
	// failAfter makes start-up fail after the step of that name, for tests.
	failAfter string
}

// WithWorkerCommand starts the executor workers with argv instead of
// `<this executable> executor`: for a test binary that serves the worker
// protocol itself.
func WithWorkerCommand(argv []string) Option {
	return func(o *serveOptions) { o.workerCommand = argv }
}

// WithReload makes Serve apply each configuration received on ch (for
// instance on SIGHUP) to what can change while it runs: the execution
// limits and ceilings at once, and the fetch policy by replacing the
// executor workers one at a time; then it calls done, if not nil. Settings
// that need a restart are named in the log.
func WithReload(ch <-chan config.Config, done func()) Option {
	return func(o *serveOptions) { o.reload, o.reloaded = ch, done }
}

// reloadable lists what a running daemon applies on reload.
const reloadable = "PICLOUD_SANDBOX_* limits and ceilings (but the workers' memory ceiling), PICLOUD_FETCH_*, PICLOUD_LOG_LEVEL; apps, domains, routes and triggers from the database"

// planner plans the triggers that have no planned run (jobs.Engine).
type planner interface {
	PlanUnplanned(ctx context.Context) error
}

// reloader applies a new configuration to a running daemon.
type reloader struct {
	cfg    config.Config
	orch   *orchestrator.Orchestrator
	mgr    *manager.Service
	exec   Executor
	data   *data.Service // nil: no data service
	jobs   planner       // nil: no job engine
	ports  []int         // the daemon's listeners', refused to scripts' fetch
	logger *slog.Logger
}

func (r *reloader) apply(ctx context.Context, next config.Config) {
	log := r.logger.With("component", "appliance")
	policy, err := fetchPolicy(next, r.ports)
	if err != nil {
		log.Error("reload: the configuration is not applied", "err", err)
		return
	}
	defaults, ceilings := scriptLimits(next.Sandbox)
	r.orch.SetLimits(defaults, ceilings)
	// Apps, domains and routes are read again: picloud restore --app adds
	// them behind the daemon's back and then asks for a reload.
	r.orch.Invalidate()
	if r.jobs != nil {
		// Triggers restored with the app get their runs planned.
		if err := r.jobs.PlanUnplanned(ctx); err != nil {
			log.Error("reload: plan the triggers without a planned run", "err", err)
		}
	}
	r.mgr.SetLimits(defaults, ceilings)
	r.mgr.SetStorageLimits(int64(next.Sandbox.StorageMB)<<20, int64(next.Sandbox.MaxStorageMB)<<20)
	if r.data != nil {
		r.data.SetDefaultStorageQuota(int64(next.Sandbox.StorageMB) << 20)
	}
	// Every invocation carries its whole limits, so only the fetch policy
	// needs fresh workers.
	if !reflect.DeepEqual(next.Fetch, r.cfg.Fetch) {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := r.exec.Reload(rctx, workers.EngineConfig{Limits: defaultLimits(next.Sandbox), Fetch: policy})
		cancel()
		if err != nil {
			log.Error("reload: the executor workers were not all replaced", "err", err)
		}
	}
	if restart := needsRestart(r.cfg, next); len(restart) > 0 {
		log.Warn("reload: these settings take effect after a restart (systemctl restart picloud)", "settings", restart)
	}
	r.cfg = next
	log.Info("configuration reloaded", "applied", reloadable)
}

// needsRestart names the settings that differ and cannot change while the
// daemon runs.
func needsRestart(old, next config.Config) []string {
	var out []string
	check := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	check("PICLOUD_LISTEN", old.Listen != next.Listen)
	check("PICLOUD_PUBLIC_URL", old.PublicURL != next.PublicURL)
	check("PICLOUD_DATA_DIR", old.DataDir != next.DataDir)
	check("DATABASE_URL", old.DatabaseURL != next.DatabaseURL)
	check("PICLOUD_POSTGRES_*", old.PostgresBinDir != next.PostgresBinDir || old.PostgresUser != next.PostgresUser)
	check("PICLOUD_SESSION_TTL_HOURS", old.SessionTTL != next.SessionTTL)
	check("PICLOUD_MAX_CONCURRENT_EXECUTIONS", old.MaxConcurrentExecutions != next.MaxConcurrentExecutions)
	check("PICLOUD_BACKGROUND_SHARE_PERCENT, PICLOUD_CRON_SECONDS",
		old.BackgroundSharePercent != next.BackgroundSharePercent || old.CronSeconds != next.CronSeconds)
	check("PICLOUD_QUEUE_MAX_MESSAGE_BYTES", old.QueueMaxMessageBytes != next.QueueMaxMessageBytes)
	check("PICLOUD_MAX_REQUEST_BODY_BYTES", old.MaxRequestBodyBytes != next.MaxRequestBodyBytes)
	check("PICLOUD_BODY_READ_TIMEOUT_SECONDS", old.BodyReadTimeout != next.BodyReadTimeout)
	check("PICLOUD_TRUSTED_PROXIES", !reflect.DeepEqual(old.TrustedProxies, next.TrustedProxies))
	check("PICLOUD_SANDBOX_MAX_MEMORY_MB", old.Sandbox.MaxMemoryMB != next.Sandbox.MaxMemoryMB)
	check("PICLOUD_EXECUTOR_*", old.Executors != next.Executors)
	check("PICLOUD_LOG_RETENTION_HOURS, PICLOUD_LOG_MAX_RECORDS, PICLOUD_LOG_FLUSH_INTERVAL_MS",
		old.LogRetention != next.LogRetention || old.LogMaxRecords != next.LogMaxRecords || old.LogFlushInterval != next.LogFlushInterval)
	check("PICLOUD_GC_PERCENT, PICLOUD_MEMORY_LIMIT_MB", old.GCPercent != next.GCPercent || old.MemoryLimitMB != next.MemoryLimitMB)
	check("PICLOUD_SHUTDOWN_TIMEOUT_SECONDS", old.ShutdownTimeout != next.ShutdownTimeout)
	check("PICLOUD_LOG_FORMAT", old.LogFormat != next.LogFormat)
	check("PICLOUD_ADMIN_HOSTS", !reflect.DeepEqual(old.AdminHosts, next.AdminHosts))
	check("PICLOUD_SSH_*", old.SSHBind != next.SSHBind || old.SSH != next.SSH)
	check("PICLOUD_SMTP_*", !reflect.DeepEqual(old.SMTP, next.SMTP)) // PICLOUD_SMTP_BIND and the inbound limits too
	return out
}
