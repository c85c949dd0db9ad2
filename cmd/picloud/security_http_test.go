package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSetupTokenNotInLog starts the daemon without users: the setup token
// is in its file, and the log says where, never what it is.
func TestSetupTokenNotInLog(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.start()
	file := filepath.Join(d.dataDir, "setup-token")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("setup token file: %v", err)
	}
	token := strings.TrimSpace(string(raw))
	d.stop() // the log is complete, and no longer written to
	out := d.output.String()
	if !strings.HasPrefix(token, "pci_") || strings.Contains(out, token) || strings.Contains(out, token[:12]) {
		t.Fatalf("the setup token %q is in the daemon's log:\n%s", token, out)
	}
	if !strings.Contains(out, file) {
		t.Errorf("the log does not say where the setup token is (%s):\n%s", file, out)
	}
}
