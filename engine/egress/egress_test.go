package egress

import (
	"net/netip"
	"testing"
)

func TestPolicyAddresses(t *testing.T) {
	local := func(v6 bool) ([]netip.Prefix, error) {
		if v6 {
			return []netip.Prefix{netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("2001:db8::5/128")}, nil
		}
		// An address on an interface, and a subnet routed to this machine.
		return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("192.168.1.5/32"),
			netip.MustParsePrefix("10.9.0.0/16")}, nil
	}
	def := Default()
	noPrivate := Default()
	noPrivate.Private = false
	withDeny := Default()
	withDeny.Deny = []netip.Prefix{netip.MustParsePrefix("192.168.2.0/24")}
	withAllow := Default()
	withAllow.Allow = []AllowRule{{Net: netip.MustParsePrefix("127.0.0.1/32"), Port: 8123}, {Net: netip.MustParsePrefix("169.254.0.0/16")}}
	withAllow.DeniedPorts = []int{8080}
	withLANAllow := Default()
	withLANAllow.Allow = []AllowRule{{Net: netip.MustParsePrefix("192.168.1.0/24")}}
	withLANAllow.DeniedPorts = []int{8080, 2222}
	tests := []struct {
		p    *Policy
		addr string
		ok   bool
	}{
		{def, "93.184.215.14:443", true},
		{def, "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443", true},
		{def, "192.168.1.20:80", true},
		{def, "10.1.2.3:80", true},
		{def, "127.0.0.1:80", false},
		{def, "[::1]:80", false},
		{def, "[::ffff:127.0.0.1]:80", false},
		{def, "0.0.0.0:80", false},
		{def, "169.254.169.254:80", false},
		{def, "[fe80::1]:80", false},
		{def, "224.0.0.1:80", false},
		{def, "192.168.1.5:8080", false}, // this machine's own address
		{def, "192.168.1.5:22", false},
		{def, "10.9.3.4:80", false}, // in a network routed to this machine
		{def, "10.10.3.4:80", true},
		{def, "[2001:db8::5]:80", false},
		{def, "[2001:db8::6]:80", true},
		{withAllow, "192.168.1.5:8080", false}, // the daemon's port on this machine's other address
		{withLANAllow, "192.168.1.5:8080", false},
		{withLANAllow, "192.168.1.5:8123", true},
		{withLANAllow, "192.168.1.20:8080", true}, // another machine's port 8080
		{noPrivate, "192.168.1.20:80", false},
		{noPrivate, "100.64.1.1:80", false},
		{noPrivate, "[fd00::1]:80", false},
		{noPrivate, "93.184.215.14:443", true},
		{withDeny, "192.168.2.9:80", false},
		{withDeny, "192.168.3.9:80", true},
		{withAllow, "127.0.0.1:8123", true},
		{withAllow, "127.0.0.1:8124", false},
		{withAllow, "127.0.0.1:8080", false},
		{withAllow, "169.254.1.1:80", true},
	}
	for _, tt := range tests {
		err := tt.p.checkAddr(netip.MustParseAddrPort(tt.addr), local)
		if (err == nil) != tt.ok {
			t.Errorf("%s: allowed=%v (%v), want %v", tt.addr, err == nil, err, tt.ok)
		}
	}
}

func TestPolicyHosts(t *testing.T) {
	p := &Policy{Hosts: []string{"api.example.com", "*.hooks.example.org"}}
	for host, ok := range map[string]bool{
		"api.example.com": true, "API.Example.com.": true, "x.hooks.example.org": true, "a.b.hooks.example.org": true,
		"hooks.example.org": false, "evil.com": false, "api.example.com.evil.com": false, "xhooks.example.org": false,
	} {
		if err := p.checkHost(host); (err == nil) != ok {
			t.Errorf("%s: allowed=%v, want %v", host, err == nil, ok)
		}
	}
	if err := (&Policy{}).checkHost("anything.example"); err != nil {
		t.Errorf("an empty host list refused: %v", err)
	}
}

func TestParseAllowRule(t *testing.T) {
	for in, want := range map[string]AllowRule{
		"10.0.0.0/8":     {Net: netip.MustParsePrefix("10.0.0.0/8")},
		"10.1.2.3/8":     {Net: netip.MustParsePrefix("10.0.0.0/8")},
		"192.168.1.20":   {Net: netip.MustParsePrefix("192.168.1.20/32")},
		"127.0.0.1:8123": {Net: netip.MustParsePrefix("127.0.0.1/32"), Port: 8123},
		"[::1]:80":       {Net: netip.MustParsePrefix("::1/128"), Port: 80},
	} {
		got, err := ParseAllowRule(in)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"pi.local", "", "10.0.0.0/33", "1.2.3.4:99999"} {
		if _, err := ParseAllowRule(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestEscapeBarePercent(t *testing.T) {
	for in, want := range map[string]string{
		"http://h/a%2Fb?q=%41": "http://h/a%2Fb?q=%41",
		"http://h/%d%s":        "http://h/%25d%25s",
		"http://h/%":           "http://h/%25",
		"http://h/%4":          "http://h/%254",
		"http://h/%zz%41?x=%%": "http://h/%25zz%41?x=%25%25",
		"%":                    "%25",
	} {
		if got := escapeBarePercent(in); got != want {
			t.Errorf("escapeBarePercent(%q) = %q, want %q", in, got, want)
		}
	}
}
