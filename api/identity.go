package api

import (
	"context"
	"net/http"
)

// ConnIdentity is who the requests of one connection act as when they carry
// no credentials of their own. The composition root attaches it to the
// connections of the listeners it trusts — the board's local admin socket,
// and the in-process connections of an SSH session — never to connections
// from the network, so a client cannot claim it.
type ConnIdentity struct {
	// UserID is the user the requests act as; "" means the board's local
	// owner: the enabled owner created first.
	UserID string
	// Remote is the client's address as the audit log records it, e.g.
	// "local uid 1000" or "ssh 192.0.2.7:51234".
	Remote string
}

type identityKey struct{}

// WithIdentity returns ctx carrying id, for http.Server.ConnContext.
func WithIdentity(ctx context.Context, id ConnIdentity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// identityOf returns the identity of a request's connection, if it has one.
func identityOf(r *http.Request) (ConnIdentity, bool) {
	id, ok := r.Context().Value(identityKey{}).(ConnIdentity)
	return id, ok
}
