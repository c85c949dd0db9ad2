package smtpin

import (
	"net"
	"testing"
	"time"
)

// TestRates checks the per-client token bucket on a given clock: a burst
// of perMinute, then refusals, refilled in proportion to the time gone
// by, each client on its own, an IPv6 /64 as one client.
func TestRates(t *testing.T) {
	r := newRates(3)
	now := time.Unix(1_700_000_000, 0)
	for i := range 3 {
		if !r.allow("a", now) {
			t.Fatalf("message %d of the burst refused", i+1)
		}
	}
	if r.allow("a", now) {
		t.Error("a fourth message within the minute was allowed")
	}
	if !r.allow("b", now) {
		t.Error("another client was refused")
	}
	if !r.allow("a", now.Add(20*time.Second)) || r.allow("a", now.Add(20*time.Second)) {
		t.Error("20 s later, one message (a third of a minute at 3 a minute) should pass, and only one")
	}
	if got, want := clientKey(net.ParseIP("2001:db8:1:2:3::4")), clientKey(net.ParseIP("2001:db8:1:2:ffff::1")); got != want {
		t.Errorf("one /64: %s and %s", got, want)
	}
	if got := clientKey(net.ParseIP("192.0.2.7")); got != "192.0.2.7" {
		t.Errorf("IPv4 key %q", got)
	}
}
