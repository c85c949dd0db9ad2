package appliance

import (
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/picloud/picloud/appliance/config"
)

func listen(t *testing.T, network, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// The fetch policy refuses the ports the daemon actually listens on, not
// the port PICLOUD_LISTEN names (under socket activation the daemon does
// not bind it), and nothing registers after the executor started.
func TestFetchPolicyRefusesOwnListeners(t *testing.T) {
	var own ownListeners
	httpLn, sshLn := listen(t, "tcp", "127.0.0.1:0"), listen(t, "tcp", ":0")
	for what, ln := range map[string]net.Listener{"HTTP": httpLn, "SSH": sshLn,
		"admin socket": listen(t, "unix", filepath.Join(t.TempDir(), "admin.sock"))} {
		if err := own.add(what, ln); err != nil {
			t.Fatal(err)
		}
	}
	ports := own.seal()
	want := []int{httpLn.Addr().(*net.TCPAddr).Port, sshLn.Addr().(*net.TCPAddr).Port}
	slices.Sort(ports)
	slices.Sort(want)
	if !slices.Equal(ports, want) {
		t.Errorf("ports %v, want %v", ports, want)
	}
	late := listen(t, "tcp", "127.0.0.1:0")
	if err := own.add("late", late); err == nil || !strings.Contains(err.Error(), "after the executor started") {
		t.Errorf("a listener registered after the seal: %v", err)
	}

	cfg := config.Default()
	cfg.Listen = ":1" // not bound: not refused
	p, err := fetchPolicy(cfg, ports)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(p.DeniedPorts)
	if !slices.Equal(p.DeniedPorts, want) {
		t.Errorf("denied ports %v, want %v", p.DeniedPorts, want)
	}
}
