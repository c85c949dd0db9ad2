package testkit

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// FreeAddr is a free TCP address on loopback for a server under test to
// listen on, never the same twice in one test binary. It is chosen below
// the kernel's ephemeral port range, where the local ports of outgoing
// connections come from: a port taken from that range and released could
// be taken by any test's connection before the server binds it.
func FreeAddr(t testing.TB) string {
	t.Helper()
	low := ephemeralLow()
	ports.Lock()
	defer ports.Unlock()
	for range 1000 {
		p := 10000 + rand.IntN(low-10000)
		if ports.given[p] {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		ln.Close()
		ports.given[p] = true
		return addr
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}

// ports are the ports FreeAddr has given.
var ports = struct {
	sync.Mutex
	given map[int]bool
}{given: map[int]bool{}}

// ephemeralLow is the first port of the kernel's ephemeral range (32768
// when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 11000 {
				return n
			}
		}
	}
	return 32768
}
