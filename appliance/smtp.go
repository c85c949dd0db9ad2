package appliance

import (
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/smtpin"
	"github.com/picloud/picloud/appliance/store"
)

// listenSMTP binds the inbound SMTP server's listener, if
// PICLOUD_SMTP_BIND asks for one. One that cannot bind is logged, and the
// daemon carries on without inbound email.
func listenSMTP(cfg config.Config, logger *slog.Logger) net.Listener {
	if cfg.SMTP.Bind == "" {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.SMTP.Bind)
	if err != nil {
		logger.Error("no inbound email", "component", "appliance", "err", fmt.Errorf("listen for SMTP on %s (PICLOUD_SMTP_BIND): %w", cfg.SMTP.Bind, err))
		return nil
	}
	return ln
}

// startSMTP runs the inbound SMTP server on ln (nil: none): what it
// stores, the job engine delivers, woken by the store's announcement
// (store.InboxChannel).
func startSMTP(cfg config.Config, ln net.Listener, st *store.Store, logger *slog.Logger) *smtpin.Server {
	if ln == nil {
		return nil
	}
	srv := smtpin.New(smtpin.Config{Domain: smtpDomain(), MaxMessageBytes: cfg.SMTP.MaxMessageBytes,
		PerMinute: cfg.SMTP.MaxMessagesPerMinute}, st, logger)
	go func() {
		if err := srv.Serve(ln); err != nil {
			logger.Error("the SMTP server stopped", "component", "appliance", "err", err)
		}
	}()
	logger.Info("receiving email", "component", "appliance", "addr", ln.Addr().String())
	return srv
}

// smtpDomain is the name the SMTP server greets with, and that
// message.forward's Received: field names: the machine's.
func smtpDomain() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}
