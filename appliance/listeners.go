package appliance

import (
	"fmt"
	"net"
	"slices"
	"sync"
)

// ownListeners is the one registry of the daemon's TCP listeners (the
// HTTP listener, bound or passed by systemd, the SSH server's and the
// SMTP server's): scripts' fetch refuses their ports on every address of
// this machine, loopback included, even where PICLOUD_FETCH_ALLOW names
// the address. The executor
// workers get the fetch policy when they start, so every listener is
// registered before the executor starts (seal); registering one later is an
// error, not a listener that scripts could reach.
type ownListeners struct {
	mu     sync.Mutex
	ports  []int
	sealed bool
}

// add registers ln, which the daemon listens on as what (for messages).
// Listeners that are not TCP (Unix sockets) cannot be fetched and are not
// kept.
func (o *ownListeners) add(what string, ln net.Listener) error {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sealed {
		return fmt.Errorf("the %s listener on %s comes after the executor started: scripts' fetch would reach it", what, addr)
	}
	if !slices.Contains(o.ports, addr.Port) {
		o.ports = append(o.ports, addr.Port)
	}
	return nil
}

// seal ends the registration and returns the registered listeners' ports.
func (o *ownListeners) seal() []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sealed = true
	return slices.Clone(o.ports)
}
