package sshd

import (
	"context"
	"net"
	"sync"

	"github.com/picloud/picloud/api"
)

// pipeListener hands in-process connections to an HTTP server: each SSH
// session's terminal UI dials it, and every connection carries the
// identity of the session's user. Nothing outside the process can reach
// it, so the identity cannot be claimed by anyone else.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

// identConn is the server's end of an in-process connection.
type identConn struct {
	net.Conn
	id api.ConnIdentity
}

// Dial opens a connection whose requests act as id.
func (l *pipeListener) Dial(ctx context.Context, id api.ConnIdentity) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- &identConn{Conn: server, id: id}:
		return client, nil
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, ctx.Err()
	case <-l.closed:
		client.Close()
		server.Close()
		return nil, net.ErrClosed
	}
}

// Accept waits for the next connection.
func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops accepting.
func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr names the listener.
func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "in-process" }

// connContext gives each request the identity of its connection.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if ic, ok := c.(*identConn); ok {
		return api.WithIdentity(ctx, ic.id)
	}
	return ctx
}
