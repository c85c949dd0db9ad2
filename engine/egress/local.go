package egress

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// localNets returns the networks whose addresses this machine accepts
// connections for, of one address family (IPv6 when v6). An error means
// they cannot be known, and the policy then refuses every address of that
// family.
type localNets func(v6 bool) ([]netip.Prefix, error)

// procNet is where Linux shows the routing tables of the reading process's
// network namespace. /proc/self/net rather than /proc/net: it stays visible
// under systemd's ProcSubset=pid.
const procNet = "/proc/self/net"

// routeTables reads the local routes from the kernel's routing tables in
// dir (a procNet): fib_trie for IPv4, ipv6_route for IPv6. It needs no
// netlink socket, which a unit's RestrictAddressFamilies= may forbid, and
// it sees what the kernel delivers locally: each interface address, the
// whole subnet of an address on the loopback interface, and networks
// routed to this machine with `ip route add local`. The tables are read at
// every call, so an address that DHCP gave a minute ago is known; through
// the files OpenRouteTables opened, when it was called.
func routeTables(dir string) localNets {
	return func(v6 bool) ([]netip.Prefix, error) {
		name, parse := "fib_trie", parseFibTrie
		if v6 {
			name, parse = "ipv6_route", parseIPv6Route
		}
		path := filepath.Join(dir, name)
		r, done, err := openTable(path)
		if err != nil {
			return nil, err
		}
		defer done()
		nets, err := parse(r)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return nets, nil
	}
}

// openTables are the routing tables OpenRouteTables opened, by path.
var openTables struct {
	sync.Mutex
	files map[string]*os.File
}

// OpenRouteTables opens this machine's routing tables once, for good, so
// that they can still be read after the process has given up opening
// files (a Landlock sandbox, which cannot allow single files of /proc).
// Each read starts again from the beginning, which makes the kernel
// render the table anew.
func OpenRouteTables() error {
	openTables.Lock()
	defer openTables.Unlock()
	if openTables.files == nil {
		openTables.files = map[string]*os.File{}
	}
	var errs []error
	for _, name := range []string{"fib_trie", "ipv6_route"} {
		path := filepath.Join(procNet, name)
		if openTables.files[path] != nil {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("open the routing table %s: %w", path, err))
			continue
		}
		openTables.files[path] = f
	}
	return errors.Join(errs...)
}

// openTable gives a reader of the table at path from its beginning, and
// what to call when done with it: the file OpenRouteTables opened, held
// for the read, or the file opened now.
func openTable(path string) (io.Reader, func(), error) {
	openTables.Lock()
	if f := openTables.files[path]; f != nil {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			openTables.Unlock()
			return nil, nil, fmt.Errorf("read %s again: %w", path, err)
		}
		return bufio.NewReader(f), openTables.Unlock, nil
	}
	openTables.Unlock()
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// parseFibTrie reads the local (LOCAL and ANYCAST) routes of every table
// in a /proc/net/fib_trie: each leaf line "|-- 192.168.1.0" is followed by
// its routes, "/24 host LOCAL" (prefix length, scope, type).
func parseFibTrie(r io.Reader) ([]netip.Prefix, error) {
	var (
		out    []netip.Prefix
		leaf   netip.Addr
		routes int
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 2 && f[0] == "|--":
			a, err := netip.ParseAddr(f[1])
			if err != nil || !a.Is4() {
				return nil, fmt.Errorf("leaf %q is not an IPv4 address", f[1])
			}
			leaf = a
		case len(f) >= 3 && strings.HasPrefix(f[0], "/"):
			bits, err := strconv.Atoi(f[0][1:])
			if err != nil || !leaf.IsValid() {
				return nil, fmt.Errorf("route line %q does not follow a leaf", sc.Text())
			}
			p, err := leaf.Prefix(bits)
			if err != nil {
				return nil, fmt.Errorf("route %s/%d: %w", leaf, bits, err)
			}
			routes++
			if f[2] == "LOCAL" || f[2] == "ANYCAST" {
				out = append(out, p)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if routes == 0 {
		return nil, fmt.Errorf("no route in the table")
	}
	return out, nil
}

// Flags of an IPv6 route (include/uapi/linux/ipv6_route.h).
const (
	rtfLocal   = 0x80000000
	rtfAnycast = 0x00100000
)

// parseIPv6Route reads the local (RTF_LOCAL and RTF_ANYCAST) routes of
// every table in a /proc/net/ipv6_route: each line has the destination and
// its prefix length in hex, the source and its length, the next hop, the
// metric, reference and use counts, the flags and the device.
func parseIPv6Route(r io.Reader) ([]netip.Prefix, error) {
	var (
		out    []netip.Prefix
		routes int
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 9 || len(f[0]) != 32 {
			return nil, fmt.Errorf("line %q is not a route", sc.Text())
		}
		var raw [16]byte
		for i := range raw {
			b, err := strconv.ParseUint(f[0][2*i:2*i+2], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("destination %q is not hexadecimal", f[0])
			}
			raw[i] = byte(b)
		}
		bits, err1 := strconv.ParseUint(f[1], 16, 8)
		flags, err2 := strconv.ParseUint(f[8], 16, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("line %q is not a route", sc.Text())
		}
		p, err := netip.AddrFrom16(raw).Prefix(int(bits))
		if err != nil {
			return nil, fmt.Errorf("route %x/%d: %w", raw, bits, err)
		}
		routes++
		if flags&(rtfLocal|rtfAnycast) != 0 {
			out = append(out, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if routes == 0 {
		return nil, fmt.Errorf("no route in the table")
	}
	return out, nil
}
