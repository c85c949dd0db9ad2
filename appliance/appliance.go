// Package appliance is PiCloud's composition root: it loads the
// configuration, opens the database, wires the manager, the orchestrator, the
// executor and the HTTP surface together, and runs them until asked to stop.
package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/picloud/picloud/api"
	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/execlog"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/migrations"
)

// Version is the daemon's version, set at build time.
var Version = "dev"

// ScriptContractVersion is the version of the handler contract and Web APIs
// that scripts are written against.
const ScriptContractVersion = 1

// Versions lists every compatibility surface's version, for /version and
// `picloud version`.
func Versions() map[string]any {
	return map[string]any{
		"picloud": Version,
		"api":     "v1",
		"scripts": ScriptContractVersion,
		"schema":  migrations.Latest(),
	}
}

// Serve runs the daemon until ctx ends, then drains and stops. ready, if not
// nil, is called with the bound address once the daemon serves.
func Serve(ctx context.Context, cfg config.Config, logger *slog.Logger, ready func(addr net.Addr), opts ...Option) error {
	started := time.Now()
	var o serveOptions
	for _, opt := range opts {
		opt(&o)
	}
	tuneRuntime(cfg, logger)
	// The listener comes first: a socket passed by systemd must not leak
	// into the PostgreSQL or worker processes started below.
	ln, err := Listen(cfg, logger)
	if err != nil {
		return err
	}
	defer ln.Close()
	// Before any process starts: the daemon moves into a leaf of its
	// cgroup, where a private PostgreSQL then starts too, so that the
	// workers' groups can have controllers.
	groups := arrangeCgroups(cfg, logger)
	db, err := OpenDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Close(sctx); err != nil {
			logger.Error("stop the database", "err", err)
		}
	}()
	st := store.New(db.Pool)
	// After the database: the private cluster sets up the data directory
	// the key file goes in.
	box, err := loadSecrets(cfg, logger)
	if err != nil {
		return err
	}
	var opener orchestrator.Opener
	var sealer manager.Sealer
	if box != nil {
		opener, sealer = box, box
	}

	hub := execlog.NewHub()
	rec := execlog.NewRecorder(execlog.Config{
		FlushInterval: cfg.LogFlushInterval, Retention: cfg.LogRetention, MaxRecords: cfg.LogMaxRecords,
	}, st, hub, logger)
	if err := rec.Start(ctx); err != nil {
		return err
	}

	exec, err := startExecutor(ctx, cfg, groups, logger)
	if err != nil {
		_ = rec.Shutdown(context.Background())
		return err
	}
	limitDefaults, limitCeilings := scriptLimits(cfg.Sandbox)
	orch := orchestrator.New(orchestrator.Config{
		MaxConcurrent: cfg.MaxConcurrentExecutions,
		LimitDefaults: limitDefaults,
		LimitCeilings: limitCeilings,
		Secrets:       opener,
	}, st, exec, rec, logger)
	admin := adminHosts(cfg)
	mgr := manager.New(manager.Config{SessionTTL: cfg.SessionTTL, Secrets: sealer, AdminHosts: admin,
		LimitDefaults: limitDefaults, LimitCeilings: limitCeilings,
		SetupDone: func() { removeSetupToken(SetupTokenPath(cfg), logger) },
	}, st, newCredentials(), orch, logger)
	if err := prepareSetup(ctx, cfg, mgr, logger); err != nil {
		_ = exec.Shutdown(context.Background())
		_ = rec.Shutdown(context.Background())
		return err
	}

	handler, err := api.New(api.Config{
		MaxRequestBodyBytes: cfg.MaxRequestBodyBytes, TrustedProxies: cfg.TrustedProxies,
		Versions: Versions(), PublicURL: cfg.BaseURL(), AdminHosts: admin,
	}, api.Deps{Manager: mgr, Orchestrator: orch, Hub: hub, Health: health(st, exec), Logger: logger,
		System: systemStatus(cfg, started, st, exec)})
	if err != nil {
		return fmt.Errorf("build the HTTP handler: %w", err)
	}

	// READY (and "PiCloud is serving") only once the executors answer.
	pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
	err = exec.Ping(pctx)
	pcancel()
	if err != nil {
		_ = exec.Shutdown(context.Background())
		_ = rec.Shutdown(context.Background())
		return fmt.Errorf("the executor workers do not answer: %w", err)
	}

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	// The admin socket and SSH come up before HTTP answers, so that a
	// healthy /healthz means every listener is there.
	sock, err := startAdminSocket(cfg.AdminSocket, handler, logger)
	if err != nil {
		_ = exec.Shutdown(context.Background())
		_ = rec.Shutdown(context.Background())
		return err
	}
	sshSrv := startSSH(cfg, handler, mgr, logger)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	go sweepSessions(ctx, st, logger)
	logger.Info("PiCloud is serving", "component", "appliance", "addr", ln.Addr().String(),
		"url", cfg.BaseURL(), "version", Version)
	if ready != nil {
		ready(ln.Addr())
	}

	rl := &reloader{cfg: cfg, orch: orch, mgr: mgr, exec: exec, logger: logger}
	var runErr error
wait:
	for {
		select {
		case next := <-o.reload:
			rl.apply(ctx, next)
			if o.reloaded != nil {
				o.reloaded()
			}
		case <-ctx.Done():
			logger.Info("shutting down", "component", "appliance")
			break wait
		case err := <-served:
			runErr = fmt.Errorf("HTTP server stopped: %w", err)
			break wait
		case <-db.Died():
			runErr = errors.New("the private PostgreSQL cluster exited unexpectedly; see its log lines above")
			break wait
		}
	}

	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	hub.CloseAll()
	if err := sshSrv.Shutdown(sctx); err != nil {
		logger.Warn("stop the SSH server", "component", "appliance", "err", err)
	}
	if err := sock.Shutdown(sctx); err != nil {
		logger.Warn("admin socket requests did not finish in time", "component", "appliance", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("in-flight requests did not finish in time", "component", "appliance", "err", err)
		_ = srv.Close()
	}
	if err := exec.Shutdown(sctx); err != nil {
		logger.Warn("stop the executor workers", "component", "appliance", "err", err)
	}
	if err := rec.Shutdown(sctx); err != nil {
		logger.Warn("execution log not fully written", "component", "appliance", "err", err)
	}
	return runErr
}

// health checks what /healthz (and so the systemd watchdog) vouches for:
// the database answers and the executors run a script. /healthz is public,
// so one check serves every caller for a second: a flood of health checks
// cannot load the workers past the concurrency cap.
func health(st *store.Store, exec executor) func(context.Context) error {
	var mu sync.Mutex
	var last time.Time
	var lastErr error
	return func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < time.Second {
			return lastErr
		}
		// The result is shared: one caller going away must not fail it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		lastErr = st.Ping(ctx)
		if lastErr == nil {
			lastErr = exec.Ping(ctx)
		}
		last = time.Now()
		return lastErr
	}
}

// newCredentials returns the password hasher and login limiter.
func newCredentials() *manager.Credentials {
	return &manager.Credentials{Hasher: auth.NewHasher(auth.DefaultParams), Limiter: auth.NewLimiter(auth.LimiterConfig{})}
}

// sweepSessions deletes expired sessions every hour.
func sweepSessions(ctx context.Context, st *store.Store, logger *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := st.DeleteExpiredSessions(ctx, time.Now()); err != nil {
				logger.Warn("delete expired sessions", "component", "appliance", "err", err)
			}
		}
	}
}
