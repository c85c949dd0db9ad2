// Package smtpin is PiCloud's inbound SMTP server
// (github.com/emersion/go-smtp): it accepts mail only for the addresses
// that email triggers claim, refusing any other recipient at RCPT (it
// never relays), caps each message's size and each client's rate,
// refuses a message that went round a loop (more than mailtrace.MaxHops
// Received: fields), and answers 250 only once the message is stored, one
// copy per recipient, for the job engine to hand to the scripts' email
// handlers.
package smtpin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/picloud/picloud/api/mailtrace"
	"github.com/picloud/picloud/api/model"
)

// Store finds the trigger of an address and keeps received messages;
// appliance/store's Store satisfies it.
type Store interface {
	EmailTrigger(ctx context.Context, address string) (model.Trigger, bool, error)
	AddInboundEmails(ctx context.Context, ms []model.InboundEmail) error
}

// Config tunes the server.
type Config struct {
	// Domain is the name the server greets with.
	Domain string
	// MaxMessageBytes is the largest message accepted; larger is 552.
	MaxMessageBytes int
	// PerMinute is how many messages one client address may send per
	// minute, in bursts of as many; past it, 421.
	PerMinute int
}

// Limits of a connection.
const (
	maxRecipients = 50
	// maxRefused is how many unknown recipients one connection may try:
	// past it every RCPT is 421, without a look-up, so that a client
	// cannot probe for addresses at the database's expense.
	maxRefused   = 20
	ioTimeout    = time.Minute
	storeTimeout = 30 * time.Second
)

// Server is the inbound SMTP server.
type Server struct {
	srv   *smtp.Server
	store Store
	cfg   Config
	log   *slog.Logger
	rates *rates
}

// New builds the server; Serve runs it.
func New(cfg Config, st Store, logger *slog.Logger) *Server {
	s := &Server{store: st, cfg: cfg, log: logger.With("component", "smtp"), rates: newRates(cfg.PerMinute)}
	srv := smtp.NewServer(s)
	srv.Domain = cfg.Domain
	srv.MaxMessageBytes = int64(cfg.MaxMessageBytes)
	srv.MaxRecipients = maxRecipients
	srv.ReadTimeout, srv.WriteTimeout = ioTimeout, ioTimeout
	srv.ErrorLog = errorLog{s.log}
	s.srv = srv
	return s
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits, until ctx ends, for
// the open ones to finish their message; then it closes them.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil && ctx.Err() != nil {
		_ = s.srv.Close()
	}
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// NewSession starts the conversation of one connection.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	client := ""
	if a, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		client = clientKey(a.IP)
	}
	return &session{s: s, client: client}, nil
}

// session is one connection's conversation: the envelope of the message
// under way.
type session struct {
	s      *Server
	client string
	from   string
	rcpts  []model.Trigger // in RCPT order, one per distinct address
	addrs  []string
	// refused counts the connection's unknown recipients.
	refused int
}

var (
	errRate = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Too many messages from your address, try again later"}
	errNoSuchUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "No such user here"}
	errMalformed = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Message is not a valid email message"}
	errTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Temporary failure, try again later"}
	errTooManyRefused = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Too many unknown recipients, try again later"}
	errNoRcpt = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 5, 1},
		Message: "No valid recipients"}
)

// errLoop refuses a message that went through n relays, more than
// mailtrace.MaxHops: RFC 3463's 5.4.6, a routing loop.
func errLoop(n int) error {
	return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 4, 6},
		Message: fmt.Sprintf("routing loop detected: %d Received headers", n)}
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.s.rates.allow(ss.client, time.Now()) {
		ss.s.log.Warn("SMTP client over its rate", "client", ss.client)
		return errRate
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.refused >= maxRefused {
		return errTooManyRefused
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	t, ok, err := ss.s.store.EmailTrigger(ctx, to)
	if err != nil {
		ss.s.log.Warn("find the trigger of a recipient", "to", to, "err", err)
		return errTemporary
	}
	if !ok {
		ss.refused++
		ss.s.log.Info("SMTP recipient refused: no trigger claims it", "to", to, "client", ss.client)
		return errNoSuchUser
	}
	for _, a := range ss.addrs {
		if strings.EqualFold(a, to) {
			return nil // named twice: one copy
		}
	}
	ss.rcpts, ss.addrs = append(ss.rcpts, t), append(ss.addrs, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se // the size cap: 552
		}
		return err
	}
	if len(ss.rcpts) == 0 {
		return errNoRcpt
	}
	if _, err := mail.ReadMessage(bytes.NewReader(raw)); err != nil {
		ss.s.log.Info("SMTP message refused: malformed", "client", ss.client, "err", err)
		return errMalformed
	}
	if n := mailtrace.Hops(raw); n > mailtrace.MaxHops {
		ss.s.log.Warn("SMTP message refused: a routing loop", "from", ss.from, "to", strings.Join(ss.addrs, ","), "received", n, "client", ss.client)
		return errLoop(n)
	}
	ms := make([]model.InboundEmail, len(ss.rcpts))
	for i, t := range ss.rcpts {
		ms[i] = model.InboundEmail{AppID: t.AppID, ScriptID: t.ScriptID, TriggerID: t.ID,
			Sender: ss.from, Recipient: strings.ToLower(ss.addrs[i]), Message: raw}
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := ss.s.store.AddInboundEmails(ctx, ms); err != nil {
		ss.s.log.Warn("store a received email", "err", err)
		return errTemporary
	}
	ss.s.log.Info("email received", "from", ss.from, "to", strings.Join(ss.addrs, ","), "bytes", len(raw), "client", ss.client)
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.rcpts, ss.addrs = "", nil, nil
}

func (ss *session) Logout() error { return nil }

// clientKey is whom a rate counts against: the IPv4 address, or the /64
// of an IPv6 one.
func clientKey(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// rates is a token bucket per client: perMinute messages a minute, in
// bursts of as many.
type rates struct {
	mu        sync.Mutex
	perMinute int
	buckets   map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxClients bounds the buckets kept; past it, the full ones are dropped.
const maxClients = 10000

func newRates(perMinute int) *rates {
	return &rates{perMinute: max(perMinute, 1), buckets: map[string]*bucket{}}
}

// allow takes a token of client's bucket at now, if it has one.
func (r *rates) allow(client string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	burst := float64(r.perMinute)
	b, ok := r.buckets[client]
	if !ok {
		if len(r.buckets) >= maxClients {
			r.prune(now)
		}
		b = &bucket{tokens: burst, at: now}
		r.buckets[client] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.at).Minutes()*burst)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// prune drops the buckets that have filled up again.
func (r *rates) prune(now time.Time) {
	for k, b := range r.buckets {
		if now.Sub(b.at) >= time.Minute {
			delete(r.buckets, k)
		}
	}
}

// errorLog passes go-smtp's errors to the daemon's log.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Printf(format string, v ...any) { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l errorLog) Println(v ...any)               { l.log.Warn(fmt.Sprint(v...)) }
