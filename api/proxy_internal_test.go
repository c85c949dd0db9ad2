package api

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestTrustedProxiesViaHTTPS(t *testing.T) {
	proxies, err := parseTrustedProxies([]string{"127.0.0.5", "10.9.0.0/16", "fd00::1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		remote, proto string
		tls, want     bool
	}{
		{"127.0.0.5:4000", "https", false, true},
		{"127.0.0.5:4000", "HTTPS, http", false, true}, // the first proxy's view counts
		{"127.0.0.5:4000", "http", false, false},
		{"127.0.0.5:4000", "", false, false},
		{"10.9.200.1:4000", "https", false, true},
		{"[fd00::1]:4000", "https", false, true},
		{"[::ffff:127.0.0.5]:4000", "https", false, true},
		{"127.0.0.6:4000", "https", false, false}, // not a proxy: ignored
		{"10.10.0.1:4000", "https", false, false},
		{"@", "https", false, false}, // a Unix socket
		{"127.0.0.6:4000", "", true, true},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := proxies.viaHTTPS(r); got != tc.want {
			t.Errorf("from %s with X-Forwarded-Proto %q (TLS %v): viaHTTPS = %v, want %v", tc.remote, tc.proto, tc.tls, got, tc.want)
		}
	}
	var none trustedProxies
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("X-Forwarded-Proto", "https")
	if none.viaHTTPS(r) {
		t.Error("no trusted proxies, yet X-Forwarded-Proto counted")
	}
}

func TestParseTrustedProxiesRefusesNames(t *testing.T) {
	for _, bad := range []string{"caddy", "127.0.0.1:443", "10.0.0.0/33", ""} {
		if _, err := parseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("parseTrustedProxies(%q) accepted it", bad)
		}
	}
}
