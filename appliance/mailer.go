package appliance

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/store"
)

// Delivery of the email outbox to the SMTP relay.
const (
	mailPoll        = time.Second      // how often the outbox is looked at
	mailBatch       = 10               // messages taken at once
	mailLease       = 10 * time.Minute // a taken message's lease
	mailMaxAttempts = 8                // attempts before a message is failed
	mailFirstWait   = 30 * time.Second // wait after the first failed attempt; it doubles
	mailMaxWait     = time.Hour        // the longest wait between attempts
	mailTimeout     = 2 * time.Minute  // one delivery's conversation
)

// EnvTestEmailRetryMS, for tests only, is the wait after the first failed
// delivery attempt in milliseconds instead of mailFirstWait.
const EnvTestEmailRetryMS = "TEST_EMAIL_RETRY_UNIT_MS"

// mailer sends the outbox's messages to the relay.
type mailer struct {
	st        *store.Store
	relay     string // host:port
	user      string // "" signs in as nobody
	password  string
	firstWait time.Duration
	log       *slog.Logger
}

// newMailer makes the mailer of cfg's relay, reading its password file.
func newMailer(cfg config.SMTP, st *store.Store, logger *slog.Logger) (*mailer, error) {
	m := &mailer{st: st, relay: cfg.Relay, user: cfg.User, firstWait: mailFirstWait,
		log: logger.With("component", "mailer")}
	if cfg.PasswordFile != "" {
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("read PICLOUD_SMTP_PASSWORD_FILE: %w", err)
		}
		m.password = strings.TrimRight(string(b), "\r\n")
	}
	if v := os.Getenv(EnvTestEmailRetryMS); v != "" {
		if ms, err := strconv.Atoi(v); err == nil && ms > 0 {
			m.firstWait = time.Duration(ms) * time.Millisecond
			m.log.Warn("email retries use a test backoff", "variable", EnvTestEmailRetryMS, "unit_ms", ms)
		}
	}
	return m, nil
}

// run delivers due messages until ctx ends.
func (m *mailer) run(ctx context.Context) {
	t := time.NewTicker(mailPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for ctx.Err() == nil {
			due, err := m.st.TakeDueEmails(ctx, mailBatch, mailLease)
			if err != nil {
				if ctx.Err() == nil {
					m.log.Warn("take due emails", "err", err)
				}
				break
			}
			for _, e := range due {
				m.settle(ctx, e, m.deliver(ctx, e))
			}
			if len(due) < mailBatch {
				break
			}
		}
	}
}

// settle records how a delivery attempt of e ended.
func (m *mailer) settle(ctx context.Context, e model.OutboundEmail, err error) {
	var serr error
	switch {
	case ctx.Err() != nil:
		return // the lease runs out and the message is tried again
	case err == nil:
		m.log.Info("email sent", "app", e.AppID, "message_id", e.MessageID, "attempt", e.Attempts)
		serr = m.st.EmailSent(ctx, e.ID)
	case isPermanent(err) || e.Attempts >= mailMaxAttempts:
		m.log.Warn("email failed", "app", e.AppID, "message_id", e.MessageID, "attempt", e.Attempts, "err", err)
		serr = m.st.EmailFailed(ctx, e.ID, err.Error())
	default:
		wait := retryWait(m.firstWait, e.Attempts)
		m.log.Info("email retried later", "app", e.AppID, "message_id", e.MessageID, "attempt", e.Attempts, "wait", wait, "err", err)
		serr = m.st.EmailRetry(ctx, e.ID, wait, err.Error())
	}
	if serr != nil && ctx.Err() == nil {
		m.log.Warn("settle an email", "message_id", e.MessageID, "err", serr)
	}
}

// retryWait is the wait after attempt (1 for the first) failed: first,
// doubling each time, at most mailMaxWait.
func retryWait(first time.Duration, attempt int) time.Duration {
	w := first
	for i := 1; i < attempt && w < mailMaxWait; i++ {
		w *= 2
	}
	return min(w, mailMaxWait)
}

// isPermanent reports whether the relay refused for good: a 5xx answer.
func isPermanent(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500
}

// deliver hands e to the relay: STARTTLS when it is offered, sign-in when
// a user is set (net/smtp sends the password only over TLS or to a
// loopback relay), then the envelope and the message.
func (m *mailer) deliver(ctx context.Context, e model.OutboundEmail) error {
	ctx, cancel := context.WithTimeout(ctx, mailTimeout)
	defer cancel()
	host, _, _ := net.SplitHostPort(m.relay)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.relay)
	if err != nil {
		return fmt.Errorf("reach the relay: %w", err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// A daemon that stops cuts the conversation short: the message's
	// lease runs out and it is tried again.
	defer context.AfterFunc(ctx, func() { _ = conn.Close() })()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(helloName()); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if m.user != "" {
		if err := c.Auth(smtp.PlainAuth("", m.user, m.password, host)); err != nil {
			return fmt.Errorf("sign in as %s: %w", m.user, err)
		}
	}
	if err := c.Mail(e.Sender); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, r := range e.Recipients {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(e.Message); err != nil {
		return fmt.Errorf("send the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of message: %w", err)
	}
	_ = c.Quit()
	return nil
}

// helloName is the name the mailer gives in EHLO: the machine's.
func helloName() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}
