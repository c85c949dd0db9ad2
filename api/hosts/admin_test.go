package hosts

import "testing"

func TestAdminHosts(t *testing.T) {
	def := DefaultAdminHosts("PiBoard")
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:8080": true, "127.0.0.1": true, "[::1]:80": true, "localhost.": true,
		"piboard": true, "piboard.local:8080": true, "192.168.1.20": true, "[fe80::1]": true,
		"evil.example": false, "piboard.example.com": false, "": false, "localhost.evil.example": false,
		"127.0.0.1.nip.io": false,
	} {
		if got := def.Allows(host); got != want {
			t.Errorf("default Allows(%q) = %v, want %v", host, got, want)
		}
	}
	custom := NewAdminHosts([]string{"pi.example.com", "10.0.0.2"}, false)
	for host, want := range map[string]bool{
		"pi.example.com": true, "10.0.0.2:8080": true, "localhost": true, "[::1]": true,
		"10.0.0.3": false, "piboard.local": false,
	} {
		if got := custom.Allows(host); got != want {
			t.Errorf("custom Allows(%q) = %v, want %v", host, got, want)
		}
	}

	for claim, taken := range map[string]bool{
		"localhost": true, "piboard.local": true, "PIBOARD": true, "{x}.local": true, "{name}": true,
		"127.0.0.1": true, "{a}.{b}.{c}.{d}": true, "10.{b}.0.1": true, "192.168.1.300": false,
		"app.localhost": false, "{x}.piboard.local": false, "shop.example.com": false, "{a}.b.c.d": false,
	} {
		p, err := ParsePattern(claim)
		if err != nil {
			t.Fatal(err)
		}
		if _, got := def.Overlap(p); got != taken {
			t.Errorf("default Overlap(%s) = %v, want %v", claim, got, taken)
		}
	}
	// Without every IP address, only the named ones (loopback among them) count.
	p, _ := ParsePattern("{a}.{b}.{c}.5")
	if _, got := custom.Overlap(p); got {
		t.Error("custom hosts without IP addresses: an IP-like pattern overlaps")
	}
	p, _ = ParsePattern("{a}.{b}.{c}.2")
	if h, got := custom.Overlap(p); !got || h != "10.0.0.2" {
		t.Errorf("custom Overlap({a}.{b}.{c}.2) = %q %v", h, got)
	}
	p, _ = ParsePattern("{tenant}.example.com")
	if h, got := custom.Overlap(p); !got || h != "pi.example.com" {
		t.Errorf("custom Overlap({tenant}.example.com) = %q %v", h, got)
	}
}
