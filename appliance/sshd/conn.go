package sshd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/picloud/picloud/api"
)

// farewellGrace is how long the sessions of a connection that the server
// ends get to tell their user why, before it is closed under them.
const farewellGrace = 2 * time.Second

// signedInConn is what the sessions of a signed-in connection share.
type signedInConn struct {
	// ctx ends with the connection: when the client leaves, when it has
	// been idle or open too long (its cause says which), or when the
	// server stops.
	ctx context.Context
	id  api.ConnIdentity
	// key is the fingerprint of the key that signed the connection in.
	key string
	// touch tells the connection its user did something.
	touch func()
	// slots bounds the sessions open at once.
	slots    chan struct{}
	sessions sync.WaitGroup
}

// serveConn serves one client connection: its handshake, in a handshake
// slot and within the handshake deadline; then, signed in, its sessions,
// in a slot of the signed-in connections, until it ends.
func (s *Server) serveConn(nc net.Conn, leaveHandshake func()) {
	defer nc.Close()
	defer leaveHandshake()
	remote := nc.RemoteAddr().String()
	sconn, chans, reqs, err := s.handshake(nc)
	leaveHandshake()
	if err != nil {
		s.log.Info("SSH sign-in refused", "remote", remote, "err", err)
		return
	}
	defer sconn.Close()
	go ssh.DiscardRequests(reqs)
	perms := sconn.Permissions
	if perms == nil || perms.Extensions[extUserID] == "" {
		return
	}
	log := s.log.With("user", perms.Extensions[extUsername], "remote", remote)
	select {
	case s.signedIn <- struct{}{}:
		defer func() { <-s.signedIn }()
	default:
		log.Warn("too many signed-in SSH connections; refusing one", "max", s.cfg.MaxConnections)
		s.refuseFull(sconn, chans)
		return
	}
	_ = nc.SetDeadline(time.Time{})
	id := api.ConnIdentity{UserID: perms.Extensions[extUserID], Remote: "ssh " + remote}
	if s.cfg.SignedIn != nil {
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		err := s.cfg.SignedIn(ctx, perms.Extensions[extFingerprint], id.Remote)
		cancel()
		if err != nil {
			log.Warn("SSH sign-in not recorded; closing", "err", err)
			return
		}
	}
	log.Info("SSH sign-in", "key", perms.Extensions[extFingerprint])
	s.serveSignedIn(sconn, chans, id, log)
}

// handshake runs the SSH handshake and sign-in within the handshake
// deadline, which stays set for the caller to clear; the server's end
// interrupts it.
func (s *Server) handshake(nc net.Conn) (*ssh.ServerConn, <-chan ssh.NewChannel, <-chan *ssh.Request, error) {
	_ = nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	stop := context.AfterFunc(s.ctx, func() { nc.Close() })
	defer stop()
	return ssh.NewServerConn(nc, s.serverConfig())
}

// refuseFull turns away a client that signed in while every signed-in
// slot was taken: its first session is refused with the reason (within
// the handshake deadline, still running), and the connection closed.
func (s *Server) refuseFull(sconn *ssh.ServerConn, chans <-chan ssh.NewChannel) {
	msg := fmt.Sprintf("PiCloud serves at most %d SSH connections at once; try again later", s.cfg.MaxConnections)
	select {
	case nch, ok := <-chans:
		if ok {
			_ = nch.Reject(ssh.ResourceShortage, msg)
		}
	case <-s.ctx.Done():
	}
	sconn.Close()
	for nch := range chans {
		_ = nch.Reject(ssh.ResourceShortage, msg)
	}
}

// serveSignedIn serves the sessions of a signed-in connection until the
// client leaves, the connection has been idle or open too long, or the
// server stops; then it closes the connection and waits for its sessions,
// so that nothing of the connection outlives it.
func (s *Server) serveSignedIn(sconn *ssh.ServerConn, chans <-chan ssh.NewChannel, id api.ConnIdentity, log *slog.Logger) {
	ctx, cancel := context.WithCancelCause(s.ctx)
	defer cancel(nil)
	c := &signedInConn{ctx: ctx, id: id, key: sconn.Permissions.Extensions[extFingerprint], slots: make(chan struct{}, maxChannels)}
	var stop func()
	c.touch, stop = s.timeouts(cancel)
	defer stop()
serve:
	for {
		select {
		case nch, ok := <-chans:
			if !ok {
				break serve
			}
			s.open(c, nch)
		case <-ctx.Done():
			break serve
		}
	}
	ended := make(chan struct{})
	go func() { c.sessions.Wait(); close(ended) }()
	if ctx.Err() != nil {
		// The server ends the connection: its sessions tell their user
		// why before it is closed under them.
		log.Info("SSH connection closed", "reason", context.Cause(ctx).Error())
		grace := time.NewTimer(farewellGrace)
		select {
		case <-ended:
		case <-grace.C:
		}
		grace.Stop()
	}
	sconn.Close()
	for nch := range chans {
		_ = nch.Reject(ssh.ConnectionFailed, "the connection is closing")
	}
	<-ended
}

// open accepts a session, at most maxChannels on a connection, and serves
// it; other kinds of channel are refused.
func (s *Server) open(c *signedInConn, nch ssh.NewChannel) {
	if nch.ChannelType() != "session" {
		_ = nch.Reject(ssh.UnknownChannelType, "only sessions are served")
		return
	}
	select {
	case c.slots <- struct{}{}:
	default:
		_ = nch.Reject(ssh.ResourceShortage, fmt.Sprintf("at most %d sessions on one connection", maxChannels))
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		<-c.slots
		return
	}
	c.sessions.Add(1)
	go func() {
		defer c.sessions.Done()
		defer func() { <-c.slots }()
		s.session(c, ch, reqs)
	}()
}

// timeouts arms the idle and lifetime timers of a signed-in connection,
// which end it through cancel with the reason; touch restarts the idle
// timer, stop disarms both.
func (s *Server) timeouts(cancel context.CancelCauseFunc) (touch, stop func()) {
	var timers []*time.Timer
	touch = func() {}
	if d := s.cfg.IdleTimeout; d > 0 {
		idle := time.AfterFunc(d, func() { cancel(fmt.Errorf("signed out after %s without input", humanDuration(d))) })
		touch = func() { idle.Reset(d) }
		timers = append(timers, idle)
	}
	if d := s.cfg.MaxSessionTime; d > 0 {
		timers = append(timers, time.AfterFunc(d, func() {
			cancel(fmt.Errorf("signed out: a connection lasts at most %s", humanDuration(d)))
		}))
	}
	return touch, func() {
		for _, t := range timers {
			t.Stop()
		}
	}
}

// humanDuration writes d in the largest whole unit: "30 minutes".
func humanDuration(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if d >= u.d && d%u.d == 0 {
			if n := d / u.d; n != 1 {
				return fmt.Sprintf("%d %ss", n, u.name)
			}
			return "1 " + u.name
		}
	}
	return d.String()
}
