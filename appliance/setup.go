package appliance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/appliance/config"
)

// setupTokenFile is the file, in the data directory, that holds the
// first-start setup token while no user exists.
const setupTokenFile = "setup-token"

// SetupTokenPath is where the daemon writes the first-start setup token;
// "" without a data directory.
func SetupTokenPath(cfg config.Config) string {
	if cfg.DataDir == "" {
		return ""
	}
	return filepath.Join(cfg.DataDir, setupTokenFile)
}

// prepareSetup makes a new setup token when no user exists, and writes it
// to a file that only the daemon's user can read. The log says where the
// token is, never the token itself: more people may read the journal than
// the data directory. With users, it removes a file left from before.
func prepareSetup(ctx context.Context, cfg config.Config, mgr *manager.Service, logger *slog.Logger) error {
	log := logger.With("component", "appliance")
	token, expires, err := mgr.PrepareSetup(ctx, manager.SetupTTL)
	if err != nil {
		return err
	}
	path := SetupTokenPath(cfg)
	if token == "" {
		removeSetupToken(path, logger)
		return nil
	}
	if path == "" {
		log.Warn("no user exists yet: create the first owner with picloud user add (without a data directory, the one-time setup token is kept nowhere)")
		return nil
	}
	if err := writePrivateFile(path, []byte(token+"\n")); err != nil {
		return fmt.Errorf("write the setup token: %w", err)
	}
	log.Warn("no user exists yet: create the first owner with the one-time setup token in the file "+path+
		" (readable by the daemon's user; picloud status shows how), or with picloud user add",
		"setup_url", cfg.BaseURL()+"/api/v1/admin/setup", "file", path,
		"expires", expires.UTC().Format(time.RFC3339))
	return nil
}

// removeSetupToken deletes the setup token's file, if there is one.
func removeSetupToken(path string, logger *slog.Logger) {
	if path == "" {
		return
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		logger.Warn("remove the spent setup token", "component", "appliance", "file", path, "err", err)
	}
}
