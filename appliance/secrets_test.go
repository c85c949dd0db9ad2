package appliance

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picloud/picloud/appliance/config"
)

func TestSecretsKeyFile(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	box, err := loadSecrets(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	path := SecretsKeyPath(cfg)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	sealed, _ := box.Seal("app", "NAME", "value")

	// The next start reads the same key.
	again, err := loadSecrets(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open("app", "NAME", sealed); err != nil || got != "value" {
		t.Fatalf("second start: %q %v", got, err)
	}

	// A key others may read, or a broken one, stops start-up.
	_ = os.Chmod(path, 0o644)
	if _, err := loadSecrets(cfg, logger); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("readable key: %v", err)
	}
	_ = os.Chmod(path, 0o600)
	_ = os.WriteFile(path, []byte("abcd\n"), 0o600)
	if _, err := loadSecrets(cfg, logger); err == nil || !strings.Contains(err.Error(), "does not hold a key") {
		t.Fatalf("short key: %v", err)
	}

	cfg.DataDir = ""
	if box, err := loadSecrets(cfg, logger); box != nil || err != nil {
		t.Fatalf("without a data directory: %v %v", box, err)
	}
}
