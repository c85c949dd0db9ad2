package appliance

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/picloud/picloud/api/secrets"
	"github.com/picloud/picloud/appliance/config"
)

// secretsKeyFile holds the key that seals app secrets, in the data
// directory and never in the database: a copy of the database alone does
// not reveal them.
const secretsKeyFile = "secrets.key"

// SecretsKeyPath is the file of the key that seals app secrets; "" without
// a data directory.
func SecretsKeyPath(cfg config.Config) string {
	if cfg.DataDir == "" {
		return ""
	}
	return filepath.Join(cfg.DataDir, secretsKeyFile)
}

// loadSecrets reads the key that seals app secrets, creating it on first
// start (0600, hex). A key file that other users may read, or that does not
// hold a key, stops start-up. Without a data directory there is no key, and
// secrets cannot be set.
func loadSecrets(cfg config.Config, logger *slog.Logger) (*secrets.Box, error) {
	log := logger.With("component", "appliance")
	path := SecretsKeyPath(cfg)
	if path == "" {
		log.Warn("no data directory (PICLOUD_DATA_DIR): secret variables cannot be set")
		return nil, nil
	}
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if key, err = secrets.NewKey(); err != nil {
			return nil, err
		}
		err = createPrivateFile(path, []byte(hex.EncodeToString(key)+"\n"))
		if errors.Is(err, fs.ErrExist) { // made meanwhile by another process
			key, err = readKeyFile(path)
		} else if err == nil {
			log.Info("created the key that seals app secrets; back it up with the database, without it secrets cannot be read", "file", path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	return secrets.New(key)
}

// readKeyFile reads a hex key from a file that only its owner may read.
func readKeyFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s may be read by other users (mode %#o): chmod 600 %s", path, perm, path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) != secrets.KeySize {
		return nil, fmt.Errorf("%s does not hold a key of %d bytes in hex; restore it from a backup", path, secrets.KeySize)
	}
	return key, nil
}
