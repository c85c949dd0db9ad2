package appliance

import (
	"fmt"
	"os"
	"path/filepath"
)

// writePrivateFile replaces the file at path with data, readable and
// writable by this process's user only (0600), creating its directory
// (0700) if needed. The file appears whole or not at all.
func writePrivateFile(path string, data []byte) error { return writePrivate(path, data, true) }

// createPrivateFile is writePrivateFile for a file that must not be
// replaced: it fails with fs.ErrExist when path exists.
func createPrivateFile(path string, data []byte) error { return writePrivate(path, data, false) }

func writePrivate(path string, data []byte, replace bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	place := os.Link // fails if path exists
	if replace {
		place = os.Rename
	}
	if err := place(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
