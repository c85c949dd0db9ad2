package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/picloud/picloud/appliance/backup"
	"github.com/picloud/picloud/appliance/config"
)

// scheduledPrefix and scheduledSuffix frame the names of scheduled
// backups; rotation deletes only files named so.
const (
	scheduledPrefix = "picloud-"
	scheduledSuffix = ".pcb"
)

// startBackups takes a backup into PICLOUD_BACKUP_DIR every
// PICLOUD_BACKUP_SCHEDULE and keeps the newest PICLOUD_BACKUP_KEEP.
func (d *instance) startBackups(context.Context) error {
	b := d.cfg.Backup
	if !b.Enabled() {
		return nil
	}
	if st, err := os.Stat(b.Dir); err != nil || !st.IsDir() {
		return fmt.Errorf("PICLOUD_BACKUP_DIR %s: not a directory (%v)", b.Dir, err)
	}
	d.background("the scheduled backups", func(ctx context.Context) {
		scheduleBackups(ctx, d.cfg, d.db.Pool, d.log)
	})
	return nil
}

// scheduleBackups runs until ctx ends.
func scheduleBackups(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger) {
	log := logger.With("component", "backup")
	t := time.NewTicker(cfg.Backup.Schedule)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		path, err := scheduledBackup(ctx, cfg, pool, time.Now())
		if err != nil {
			log.Error("scheduled backup failed", "dir", cfg.Backup.Dir, "err", err)
			continue
		}
		removed, err := rotateBackups(cfg.Backup.Dir, cfg.Backup.Keep)
		if err != nil {
			log.Error("rotate the scheduled backups", "dir", cfg.Backup.Dir, "err", err)
		}
		log.Info("scheduled backup written", "file", path, "removed", removed)
	}
}

// scheduledBackup writes one backup into the directory, under a temporary
// name renamed once whole.
func scheduledBackup(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, now time.Time) (string, error) {
	var pass []byte
	if f := cfg.Backup.PassphraseFile; f != "" {
		raw, err := readPrivate(f)
		if err != nil {
			return "", fmt.Errorf("PICLOUD_BACKUP_PASSPHRASE_FILE: %w", err)
		}
		line, _, _ := strings.Cut(string(raw), "\n")
		pass = []byte(strings.TrimRight(line, "\r"))
	}
	opt, err := backupOptions(cfg, "", pass)
	if err != nil {
		return "", err
	}
	path := filepath.Join(cfg.Backup.Dir, scheduledPrefix+now.UTC().Format("20060102T150405.000Z")+scheduledSuffix)
	tmp, err := os.CreateTemp(cfg.Backup.Dir, ".picloud-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := backup.Write(ctx, pool, tmp, opt); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

// readPrivate reads a file that only its owner may read.
func readPrivate(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s may be read by other users (mode %#o): chmod 600 %s", path, perm, path)
	}
	return os.ReadFile(path)
}

// rotateBackups deletes the oldest scheduled backups in dir beyond keep
// (their names sort by time) and returns how many.
func rotateBackups(dir string, keep int) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, scheduledPrefix) && strings.HasSuffix(n, scheduledSuffix) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	removed := 0
	for len(names)-removed > keep {
		if err := os.Remove(filepath.Join(dir, names[removed])); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}
