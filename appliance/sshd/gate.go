package sshd

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Why a connection was not let into its handshake.
var (
	errHandshakesFull = errors.New("too many SSH connections are signing in")
	errAddressFull    = errors.New("too many SSH connections are signing in from this address")
)

// gate admits connections to their handshake, which anyone may start: at
// most max at once, and at most perAddr from one client address, so that
// idle connections cannot take every slot, and those of one address not
// even all of the handshake slots.
type gate struct {
	mu      sync.Mutex
	max     int
	perAddr int
	n       int
	byAddr  map[netip.Prefix]int
}

func newGate(max, perAddr int) *gate {
	return &gate{max: max, perAddr: perAddr, byAddr: map[netip.Prefix]int{}}
}

// enter takes a slot for a connection from addr, or says why there is
// none. leave gives the slot back; calling it again does nothing.
func (g *gate) enter(addr net.Addr) (leave func(), err error) {
	key := clientKey(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byAddr[key] >= g.perAddr {
		return nil, errAddressFull
	}
	if g.n >= g.max {
		return nil, errHandshakesFull
	}
	g.n++
	g.byAddr[key]++
	return sync.OnceFunc(func() { g.leave(key) }), nil
}

func (g *gate) leave(key netip.Prefix) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.byAddr[key]--; g.byAddr[key] <= 0 {
		delete(g.byAddr, key)
	}
}

// clientKey is what the per-address cap counts by: an IPv4 address, or the
// /64 network of an IPv6 address, the least one subscriber usually gets.
// Addresses that cannot be read all count as one.
func clientKey(a net.Addr) netip.Prefix {
	var ip netip.Addr
	if ta, ok := a.(*net.TCPAddr); ok {
		ip = ta.AddrPort().Addr()
	} else if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		ip = ap.Addr()
	}
	ip = ip.Unmap().WithZone("")
	bits := 64
	if ip.Is4() {
		bits = 32
	}
	p, _ := ip.Prefix(bits)
	return p
}

// refusalLog logs refused connections at most once a minute, counting
// those it did not log, so that a flood of connections does not flood the
// journal too.
type refusalLog struct {
	mu     sync.Mutex
	last   time.Time
	unseen int
}

func (r *refusalLog) note(log *slog.Logger, remote net.Addr, why error) {
	r.mu.Lock()
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < time.Minute {
		r.unseen++
		r.mu.Unlock()
		return
	}
	unseen := r.unseen
	r.last, r.unseen = now, 0
	r.mu.Unlock()
	log.Warn("SSH connection refused", "remote", remote.String(), "reason", why.Error(), "refused_not_logged", unseen)
}
