package hosts

import (
	"net"
	"slices"
	"strconv"
	"strings"
)

// loopback names are always admin hosts: only the board itself reaches
// them, and a browser sends them only for pages of the board itself.
var loopback = []string{"localhost", "127.0.0.1", "::1"}

// AdminHosts is the set of host names the admin API answers on. It guards
// against DNS rebinding, where a hostile name is made to resolve to the
// board and a browser sends that name as Host; and since no app may claim
// these names, user apps never share an origin with the admin API.
type AdminHosts struct {
	names map[string]bool
	anyIP bool
}

// NewAdminHosts returns the loopback names, the given names (host names or
// IP addresses, canonicalised as Canonical does) and, with anyIP, every
// IP-literal host.
func NewAdminHosts(names []string, anyIP bool) *AdminHosts {
	a := &AdminHosts{names: map[string]bool{}, anyIP: anyIP}
	for _, n := range append(slices.Clone(loopback), names...) {
		if n = Canonical(n); n != "" {
			a.names[n] = true
		}
	}
	return a
}

// DefaultAdminHosts is the set used when the owner names none: loopback,
// the machine's host name and its .local (mDNS) name, and IP addresses.
func DefaultAdminHosts(hostname string) *AdminHosts {
	var names []string
	if h := Canonical(hostname); h != "" {
		names = append(names, h)
		if !strings.HasSuffix(h, ".local") && net.ParseIP(h) == nil {
			names = append(names, strings.SplitN(h, ".", 2)[0]+".local")
		}
	}
	return NewAdminHosts(names, true)
}

// With returns the set with more names.
func (a *AdminHosts) With(names ...string) *AdminHosts {
	return NewAdminHosts(append(a.Names(), names...), a.anyIP)
}

// Allows reports whether a Host header names an admin host.
func (a *AdminHosts) Allows(host string) bool {
	h := Canonical(host)
	return a.names[h] || (a.anyIP && net.ParseIP(h) != nil)
}

// Names lists the named admin hosts, sorted.
func (a *AdminHosts) Names() []string {
	out := make([]string, 0, len(a.names))
	for n := range a.names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Overlap returns an admin host that a domain claim would match, if any;
// "an IP address" when the claim could match IP-literal hosts and those
// are admin hosts.
func (a *AdminHosts) Overlap(p Pattern) (string, bool) {
	for _, n := range a.Names() {
		if _, ok := p.match(strings.Split(n, ".")); ok {
			return n, true
		}
	}
	if a.anyIP && couldBeIPv4(p) {
		return "an IP address", true
	}
	return "", false
}

// couldBeIPv4 reports whether some IPv4 literal matches p: four labels,
// each a parameter or a number up to 255.
func couldBeIPv4(p Pattern) bool {
	if len(p.labels) != 4 {
		return false
	}
	for i, l := range p.labels {
		if p.params[i] != "" {
			continue
		}
		if n, err := strconv.Atoi(l); err != nil || n < 0 || n > 255 {
			return false
		}
	}
	return true
}
