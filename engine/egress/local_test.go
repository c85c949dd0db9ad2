package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The fixtures are the tables of a network namespace with 192.168.77.2/24
// and 2001:db8::5/64 on the loopback interface, 10.9.0.0/16 and
// 2001:db8:9::/48 routed locally (`ip route add local`), 172.20.0.0/16
// locally in table 100, and 203.0.113.0/24 an ordinary route.
func TestParseFibTrie(t *testing.T) {
	f, err := os.Open("testdata/fib_trie")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := parseFibTrie(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"127.0.0.0/8", "127.0.0.1/32", "192.168.77.0/24", "192.168.77.2/32", "10.9.0.0/16", "172.20.0.0/16"} {
		if !slices.Contains(got, netip.MustParsePrefix(want)) {
			t.Errorf("%s is missing from %v", want, got)
		}
	}
	for _, p := range got {
		for _, not := range []string{"203.0.113.1", "8.8.8.8"} {
			if p.Contains(netip.MustParseAddr(not)) {
				t.Errorf("%s (on a unicast route, or none) is in the local network %v", not, p)
			}
		}
		if p == netip.MustParsePrefix("192.168.77.255/32") || p == netip.MustParsePrefix("127.255.255.255/32") {
			t.Errorf("the broadcast route %v is listed as local", p)
		}
	}
}

func TestParseIPv6Route(t *testing.T) {
	f, err := os.Open("testdata/ipv6_route")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := parseIPv6Route(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("2001:db8::5/128"), netip.MustParsePrefix("2001:db8:9::/48")}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestParseBadTables(t *testing.T) {
	for name, text := range map[string]string{
		"empty":      "",
		"no routes":  "Main:\nLocal:\n",
		"bad leaf":   "Main:\n  |-- not-an-address\n     /32 host LOCAL\n",
		"route only": "Main:\n     /32 host LOCAL\n",
		"bad length": "Main:\n  |-- 10.0.0.1\n     /40 host LOCAL\n",
	} {
		if nets, err := parseFibTrie(strings.NewReader(text)); err == nil {
			t.Errorf("fib_trie %s: %v, want an error", name, nets)
		}
	}
	for name, text := range map[string]string{
		"empty":     "",
		"short":     "00000000000000000000000000000001 80 lo\n",
		"not hex":   "0000000000000000000000000000000g 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001 lo\n",
		"bad flags": "00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 local lo\n",
	} {
		if nets, err := parseIPv6Route(strings.NewReader(text)); err == nil {
			t.Errorf("ipv6_route %s: %v, want an error", name, nets)
		}
	}
}

// On this machine, every interface address is among the local networks
// read from the kernel's tables.
func TestRouteTablesCoverInterfaceAddresses(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatalf("list the interface addresses: %v", err)
	}
	local := routeTables(procNet)
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, _ := netip.AddrFromSlice(n.IP)
		ip = ip.Unmap()
		nets, err := local(ip.Is6())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(nets, func(p netip.Prefix) bool { return p.Contains(ip) }) {
			t.Errorf("%s (an interface address) is not among the local networks %v", ip, nets)
		}
	}
}

// When this machine's addresses cannot be read, nothing of that family is
// fetched: not even a service that Allow names.
func TestUnknownAddressesRefuseEverything(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	p := Default()
	p.Allow = []AllowRule{{Net: netip.PrefixFrom(ap.Addr(), 32), Port: int(ap.Port())}}

	// The tables are read from a directory without them.
	c := newClient(p, routeTables(t.TempDir()))
	_, err := c.Do(context.Background(), &Request{Method: "GET", URL: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "refused by the fetch policy: this machine's IPv4 addresses cannot be read") ||
		!strings.Contains(err.Error(), "fib_trie") {
		t.Errorf("fetch with no routing tables: %v", err)
	}
	// A table that cannot be parsed.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fib_trie"), []byte("something else\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c = newClient(p, routeTables(dir))
	if _, err := c.Do(context.Background(), &Request{Method: "GET", URL: srv.URL}); err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("fetch with a broken routing table: %v", err)
	}
	// The same fetch goes through when the tables are there.
	c = newClient(p, routeTables("testdata"))
	if _, err := c.Do(context.Background(), &Request{Method: "GET", URL: srv.URL}); err != nil {
		t.Errorf("fetch of an allowed service: %v", err)
	}
	// IPv6 unknown, IPv4 known: only IPv6 is refused.
	v4only := func(v6 bool) ([]netip.Prefix, error) {
		if v6 {
			return nil, errors.New("no IPv6 here")
		}
		return routeTables("testdata")(false)
	}
	if err := p.checkAddr(netip.MustParseAddrPort("[2606:4700::1]:443"), v4only); err == nil {
		t.Error("an IPv6 address was allowed while this machine's IPv6 addresses are unknown")
	}
	if err := p.checkAddr(netip.MustParseAddrPort("93.184.215.14:443"), v4only); err != nil {
		t.Errorf("an IPv4 address was refused while only IPv6 is unknown: %v", err)
	}
}

// TestOpenRouteTablesReadAgain reads the tables through the files
// OpenRouteTables keeps open, twice, and finds what a fresh open finds:
// each read starts from the beginning of a table the kernel renders anew.
func TestOpenRouteTablesReadAgain(t *testing.T) {
	if _, err := os.Stat(procNet + "/fib_trie"); err != nil {
		t.Skip("no /proc routing tables here")
	}
	fresh, err := routeTables(procNet)(false)
	if err != nil {
		t.Fatal(err)
	}
	if err := OpenRouteTables(); err != nil {
		t.Logf("OpenRouteTables: %v", err) // a kernel without IPv6
	}
	for i := range 2 {
		got, err := routeTables(procNet)(false)
		if err != nil || !slices.Equal(got, fresh) {
			t.Fatalf("read %d through the open table: %v, %v; a fresh open: %v", i+1, got, err, fresh)
		}
	}
}
