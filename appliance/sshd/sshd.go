// Package sshd is PiCloud's SSH server: it serves the terminal UI, one
// program per session, to the public keys registered to PiCloud users. A
// session acts as the user whose key signed the authentication, through
// in-process connections to the admin API, so what it may do is what that
// user may do anywhere else.
package sshd

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

	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/crypto/ssh"
)

// Permission extensions that the public-key callback records for the key
// it was asked about. The server keeps those of the key whose signature it
// verified, and only those are read after the handshake.
const (
	extUserID      = "picloud-user-id"
	extUsername    = "picloud-username"
	extFingerprint = "picloud-key"
)

// UserOfKey returns the id and name of the enabled user who registered the
// key with this fingerprint, or an error when nobody did.
type UserOfKey func(ctx context.Context, fingerprint string) (id, name string, err error)

// Config configures the server.
type Config struct {
	// Addr is the listen address, host:port.
	Addr string
	// Listener, when not nil, is a listener already bound to Addr, which
	// the server then serves on (and closes on Shutdown).
	Listener net.Listener
	// HostKey is the server's host key.
	HostKey ssh.Signer
	// Handler is the admin API the sessions' terminal UIs call.
	Handler http.Handler
	// UserOfKey authenticates public keys.
	UserOfKey UserOfKey
	// SignedIn records a sign-in with the key that signed it, from remote;
	// an error refuses the connection after all.
	SignedIn func(ctx context.Context, fingerprint, remote string) error
	// MaxConnections caps the signed-in connections at once; 0 means 16.
	MaxConnections int
	// MaxUnauthenticated caps the connections still in their handshake at
	// once, which anyone may open; past it a connection is closed at once.
	// 0 means 32.
	MaxUnauthenticated int
	// MaxUnauthenticatedPerAddress caps those from one client address (an
	// IPv4 address, an IPv6 /64 network); 0 means 4.
	MaxUnauthenticatedPerAddress int
	// HandshakeTimeout bounds a connection's handshake and sign-in; 0
	// means 10 s.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a signed-in connection after so long without
	// input from its user (keys typed, terminal resized); 0 never does.
	IdleTimeout time.Duration
	// MaxSessionTime closes a signed-in connection so long after its
	// sign-in; 0 never does.
	MaxSessionTime time.Duration
	Logger         *slog.Logger

	// newProgram, when set, makes each session's program instead of the
	// terminal UI (for tests).
	newProgram func(ctx context.Context, in io.Reader, out io.Writer) *tea.Program
}

// Defaults of the bounds that Config leaves at 0.
const (
	defaultMaxConnections               = 16
	defaultMaxUnauthenticated           = 32
	defaultMaxUnauthenticatedPerAddress = 4
	defaultHandshakeTimeout             = 10 * time.Second
)

// withDefaults fills in the bounds left at 0.
func (c Config) withDefaults() Config {
	if c.MaxConnections <= 0 {
		c.MaxConnections = defaultMaxConnections
	}
	if c.MaxUnauthenticated <= 0 {
		c.MaxUnauthenticated = defaultMaxUnauthenticated
	}
	if c.MaxUnauthenticatedPerAddress <= 0 {
		c.MaxUnauthenticatedPerAddress = defaultMaxUnauthenticatedPerAddress
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = defaultHandshakeTimeout
	}
	return c
}

// Server is a running SSH server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	pipe   *pipeListener
	api    *http.Server
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	// handshakes admits connections to their handshake.
	handshakes *gate
	// signedIn holds a slot for each signed-in connection.
	signedIn chan struct{}
	refused  refusalLog
}

// errStopping ends the connections when the server shuts down.
var errStopping = errors.New("the server is stopping")

// Bounds of what one client may ask for: sessions on one connection, and
// the terminal's size (a screen is drawn in memory at that size).
const (
	maxChannels = 4
	maxWidth    = 500
	maxHeight   = 300
)

// Start listens on cfg.Addr (or takes cfg.Listener) and serves until
// Shutdown.
func Start(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, fmt.Errorf("listen for SSH on %s (PICLOUD_SSH_BIND): %w", cfg.Addr, err)
		}
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "ssh"), ln: ln, pipe: newPipeListener(),
		ctx: ctx, cancel: cancel,
		handshakes: newGate(cfg.MaxUnauthenticated, cfg.MaxUnauthenticatedPerAddress),
		signedIn:   make(chan struct{}, cfg.MaxConnections)}
	s.api = &http.Server{Handler: cfg.Handler, ConnContext: connContext, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.api.Serve(s.pipe) }()
	s.wg.Add(1)
	go s.accept()
	s.log.Info("SSH server ready", "addr", ln.Addr().String(), "host_key", ssh.FingerprintSHA256(cfg.HostKey.PublicKey()))
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops accepting, ends every session and waits for them.
func (s *Server) Shutdown(ctx context.Context) error {
	if s == nil {
		return nil
	}
	s.ln.Close()
	s.cancel(errStopping)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.New("SSH sessions did not end in time")
	}
	s.pipe.Close()
	_ = s.api.Close()
	return err
}

// accept admits each connection to its handshake, or closes it at once
// when too many are in their handshake already, from its address or in
// all.
func (s *Server) accept() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: wait a little and go on, rather
			// than stop serving.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accepting an SSH connection failed; trying again", "err", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		leave, err := s.handshakes.enter(nc.RemoteAddr())
		if err != nil {
			s.refused.note(s.log, nc.RemoteAddr(), err)
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(nc, leave)
		}()
	}
}

// serverConfig authenticates by public key only: the callback looks the
// key up and records its user in the permissions for that key; the
// handshake succeeds only for a key whose signature verifies.
func (s *Server) serverConfig() *ssh.ServerConfig {
	c := &ssh.ServerConfig{
		MaxAuthTries: 6,
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			fp := ssh.FingerprintSHA256(key)
			ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
			defer cancel()
			id, name, err := s.cfg.UserOfKey(ctx, fp)
			if err != nil {
				return nil, fmt.Errorf("key %s is not registered to an enabled user", fp)
			}
			return &ssh.Permissions{Extensions: map[string]string{extUserID: id, extUsername: name, extFingerprint: fp}}, nil
		},
		ServerVersion: "SSH-2.0-PiCloud",
	}
	c.AddHostKey(s.cfg.HostKey)
	return c
}
