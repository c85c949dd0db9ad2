package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Systemd tells systemd about the daemon's life over the sd_notify protocol:
// READY=1 once the daemon serves (listeners bound, migrations applied),
// WATCHDOG=1 keep-alives only while a real health check passes, and
// STOPPING=1 on the way out. Without NOTIFY_SOCKET (not run by systemd) every
// message is dropped silently.
type Systemd struct {
	log      *slog.Logger
	watchdog time.Duration // WatchdogSec, 0 when off
	client   *http.Client
	stopOnce sync.Once
}

// NewSystemd reads the watchdog interval (WATCHDOG_USEC), and removes it from
// the environment so that no child process inherits it. It starts a goroutine
// that sends STOPPING=1 as soon as ctx ends (SIGTERM).
func NewSystemd(ctx context.Context, logger *slog.Logger) *Systemd {
	s := &Systemd{log: logger.With("component", "systemd"), client: &http.Client{}}
	wd, err := daemon.SdWatchdogEnabled(true)
	if err != nil {
		s.log.Warn("ignore the watchdog settings", "err", err)
	}
	s.watchdog = wd
	go func() {
		<-ctx.Done()
		s.Stopping()
	}()
	return s
}

// Watchdog is the interval systemd expects keep-alives in, 0 when off.
func (s *Systemd) Watchdog() time.Duration { return s.watchdog }

// Ready is the callback for Serve: it tells systemd READY=1 with a status
// line, then, when systemd asked for a watchdog, keeps it fed from a loop
// that asks the daemon's own /healthz (which checks the database and
// whatever else the daemon depends on) until ctx ends.
func (s *Systemd) Ready(ctx context.Context, baseURL string) func(net.Addr) {
	return func(addr net.Addr) {
		s.notify(daemon.SdNotifyReady + "\nSTATUS=Serving on " + baseURL)
		if s.watchdog > 0 {
			go s.watch(ctx, healthURL(addr), baseURL)
		}
	}
}

// Reloading tells systemd the configuration is being reloaded (SIGHUP).
func (s *Systemd) Reloading() {
	s.notify(daemon.SdNotifyReloading + "\nSTATUS=Reloading the configuration")
}

// Reloaded tells systemd the reload is over and the daemon serves again.
func (s *Systemd) Reloaded() {
	s.notify(daemon.SdNotifyReady + "\nSTATUS=Serving (configuration reloaded)")
}

// Stopping tells systemd STOPPING=1, once.
func (s *Systemd) Stopping() {
	s.stopOnce.Do(func() { s.notify(daemon.SdNotifyStopping + "\nSTATUS=Stopping") })
}

func (s *Systemd) notify(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		s.log.Warn("notify systemd", "state", state, "err", err)
	}
}

// watch checks health every third of the watchdog interval and sends
// WATCHDOG=1 after each check that passes. A check that fails or hangs
// sends nothing, so a daemon that stays unhealthy for a whole interval is
// killed and restarted by systemd.
func (s *Systemd) watch(ctx context.Context, url, baseURL string) {
	period := s.watchdog / 3
	healthy := true
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		err := s.check(ctx, url, period)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil:
			if !healthy {
				s.log.Info("healthy again; feeding the watchdog")
				healthy = true
				s.notify(daemon.SdNotifyWatchdog + "\nSTATUS=Serving on " + baseURL)
			} else {
				s.notify(daemon.SdNotifyWatchdog)
			}
		default:
			healthy = false
			s.log.Error("health check failed; not feeding the watchdog (systemd restarts the daemon if this lasts)",
				"err", err, "watchdog", s.watchdog)
			s.notify("STATUS=Unhealthy: " + err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check asks /healthz, within timeout.
func (s *Systemd) check(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("/healthz did not answer within %s", timeout)
		}
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz answered %d: %s", res.StatusCode, body)
	}
	return nil
}

// healthURL is /healthz on the bound address, through loopback when the
// daemon listens on every interface.
func healthURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/healthz"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}
