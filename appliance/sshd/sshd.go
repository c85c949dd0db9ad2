// Package sshd is PiCloud's SSH server: it serves the terminal UI, one
// program per session, to the public keys registered to PiCloud users. A
// session acts as the user whose key signed the authentication, through
// in-process connections to the admin API, so what it may do is what that
// user may do anywhere else.
package sshd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"golang.org/x/crypto/ssh"

	"github.com/picloud/picloud/api"
	"github.com/picloud/picloud/tui"
	"github.com/picloud/picloud/tui/client"
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
	// HostKey is the server's host key.
	HostKey ssh.Signer
	// Handler is the admin API the sessions' terminal UIs call.
	Handler http.Handler
	// UserOfKey authenticates public keys.
	UserOfKey UserOfKey
	// SignedIn records a sign-in with the key that signed it, from remote;
	// an error refuses the connection after all.
	SignedIn func(ctx context.Context, fingerprint, remote string) error
	// MaxSessions caps connections at once; 0 means 16.
	MaxSessions int
	Logger      *slog.Logger
}

// Server is a running SSH server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	pipe   *pipeListener
	api    *http.Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	slots  chan struct{}
}

// handshakeTimeout bounds the SSH handshake and authentication.
const handshakeTimeout = 30 * time.Second

// Bounds of what one client may ask for: sessions on one connection, and
// the terminal's size (a screen is drawn in memory at that size).
const (
	maxChannels = 4
	maxWidth    = 500
	maxHeight   = 300
)

// Start listens on cfg.Addr and serves until Shutdown.
func Start(cfg Config) (*Server, error) {
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 16
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen for SSH on %s (PICLOUD_SSH_BIND): %w", cfg.Addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "ssh"), ln: ln, pipe: newPipeListener(),
		ctx: ctx, cancel: cancel, slots: make(chan struct{}, cfg.MaxSessions)}
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
	s.cancel()
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

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		select {
		case s.slots <- struct{}{}:
		default:
			s.log.Warn("too many SSH connections; refusing one", "remote", nc.RemoteAddr().String())
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.slots }()
			s.serveConn(nc)
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

func (s *Server) serveConn(nc net.Conn) {
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(handshakeTimeout))
	sconn, chans, reqs, err := ssh.NewServerConn(nc, s.serverConfig())
	if err != nil {
		s.log.Info("SSH sign-in refused", "remote", nc.RemoteAddr().String(), "err", err)
		return
	}
	defer sconn.Close()
	_ = nc.SetDeadline(time.Time{})
	perms := sconn.Permissions
	if perms == nil || perms.Extensions[extUserID] == "" {
		return
	}
	who, remote := perms.Extensions[extUsername], "ssh "+nc.RemoteAddr().String()
	if s.cfg.SignedIn != nil {
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		err := s.cfg.SignedIn(ctx, perms.Extensions[extFingerprint], remote)
		cancel()
		if err != nil {
			s.log.Warn("SSH sign-in not recorded; closing", "user", who, "err", err)
			return
		}
	}
	s.log.Info("SSH sign-in", "user", who, "key", perms.Extensions[extFingerprint], "remote", nc.RemoteAddr().String())
	go ssh.DiscardRequests(reqs)
	// The connection ends with the server.
	go func() {
		<-s.ctx.Done()
		sconn.Close()
	}()
	id := api.ConnIdentity{UserID: perms.Extensions[extUserID], Remote: remote}
	open := make(chan struct{}, maxChannels)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only sessions are served")
			continue
		}
		select {
		case open <- struct{}{}:
		default:
			_ = nch.Reject(ssh.ResourceShortage, fmt.Sprintf("at most %d sessions on one connection", maxChannels))
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-open }()
			s.session(ch, chReqs, id)
		}()
	}
}

// session serves one SSH session: it waits for the terminal (pty-req) and
// the shell request, then runs the terminal UI until the user quits.
func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request, id api.ConnIdentity) {
	defer ch.Close()
	var (
		term          string
		width, height int
		env           = map[string]string{}
		prog          *tea.Program
		exited        = make(chan struct{})
	)
	for {
		var req *ssh.Request
		var ok bool
		select {
		case req, ok = <-reqs:
		case <-exited:
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
			return
		}
		if !ok {
			if prog != nil {
				prog.Quit()
				<-exited
			}
			return
		}
		switch req.Type {
		case "pty-req":
			term, width, height = parsePty(req.Payload)
			_ = req.Reply(true, nil)
		case "env":
			var kv struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &kv) == nil {
				env[kv.Name] = kv.Value
			}
			_ = req.Reply(true, nil)
		case "window-change":
			if len(req.Payload) >= 8 && prog != nil {
				w, h := clampSize(int(binary.BigEndian.Uint32(req.Payload)), int(binary.BigEndian.Uint32(req.Payload[4:])))
				go prog.Send(tea.WindowSizeMsg{Width: w, Height: h})
			}
			_ = req.Reply(false, nil)
		case "shell":
			if prog != nil {
				_ = req.Reply(false, nil)
				continue
			}
			if term == "" {
				_ = req.Reply(true, nil)
				fmt.Fprint(ch, "PiCloud serves its terminal UI here, which needs a terminal: connect with ssh -t.\r\n")
				_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{1}))
				return
			}
			_ = req.Reply(true, nil)
			prog = s.program(ch, id, term, env)
			go func() {
				defer close(exited)
				if _, err := prog.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
					s.log.Warn("terminal UI ended with an error", "err", err)
				}
			}()
			go prog.Send(tea.WindowSizeMsg{Width: width, Height: height})
		default:
			// exec, subsystem (sftp), x11, agent forwarding: not served.
			_ = req.Reply(false, nil)
		}
	}
}

// program is the terminal UI for one session, acting as its user.
func (s *Server) program(ch ssh.Channel, id api.ConnIdentity, term string, env map[string]string) *tea.Program {
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return s.pipe.Dial(ctx, id) },
	}}
	r := lipgloss.NewRenderer(ch)
	r.SetColorProfile(colorProfile(term, env))
	_, noColor := env["NO_COLOR"]
	opt := tui.Options{Client: client.New("http://localhost", hc, ""), Renderer: r, NoColor: noColor, Via: "ssh"}
	return tui.NewProgram(s.ctx, ch, ch, opt, tea.WithoutSignalHandler())
}

// colorProfile guesses what the client's terminal draws from its TERM and
// COLORTERM.
func colorProfile(term string, env map[string]string) termenv.Profile {
	switch {
	case term == "dumb":
		return termenv.Ascii
	case env["COLORTERM"] == "truecolor" || env["COLORTERM"] == "24bit":
		return termenv.TrueColor
	case strings.Contains(term, "256color"):
		return termenv.ANSI256
	}
	return termenv.ANSI
}

// parsePty reads a pty-req: the terminal type and its size in characters.
func parsePty(p []byte) (term string, w, h int) {
	var req struct {
		Term          string
		Width, Height uint32
		PxW, PxH      uint32
		Modes         string
	}
	if ssh.Unmarshal(p, &req) != nil {
		return "xterm", 80, 24
	}
	w, h = clampSize(int(req.Width), int(req.Height))
	return req.Term, w, h
}

// clampSize keeps a terminal size within reason: 80×24 when unknown, at
// most maxWidth×maxHeight.
func clampSize(w, h int) (int, int) {
	if w <= 0 || h <= 0 {
		return 80, 24
	}
	return min(w, maxWidth), min(h, maxHeight)
}
