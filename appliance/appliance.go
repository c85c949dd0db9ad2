// Package appliance is PiCloud's composition root: it loads the
// configuration, opens the database, wires the manager, the orchestrator, the
// executor and the HTTP surface together, and runs them until asked to stop.
package appliance

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/manager"
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
// nil, is called with the bound address once the daemon serves. A failure
// at any step of start-up stops what had started and is returned.
func Serve(ctx context.Context, cfg config.Config, logger *slog.Logger, ready func(addr net.Addr), opts ...Option) error {
	var o serveOptions
	for _, opt := range opts {
		opt(&o)
	}
	d, err := start(ctx, cfg, logger, o)
	if err != nil {
		return err
	}
	return d.run(ctx, ready)
}

// health checks what /healthz (and so the systemd watchdog) vouches for:
// the database answers and the executors run a script. /healthz is public,
// so one check serves every caller for a second: a flood of health checks
// cannot load the workers past the concurrency cap.
func health(st *store.Store, exec Executor) func(context.Context) error {
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

// newCredentials returns the password hasher and login throttle.
func newCredentials() *manager.Credentials {
	return &manager.Credentials{Hasher: auth.NewHasher(auth.DefaultParams), Throttle: auth.NewThrottle(auth.ThrottleConfig{})}
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
