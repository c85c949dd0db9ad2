package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/backup"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/migrations"
)

// WriteBackup writes a backup of the board, or of the app named app, to w,
// whether or not the daemon is running (see backup.Write). With a
// passphrase, the board's secrets key travels in the file, wrapped.
func WriteBackup(ctx context.Context, cfg config.Config, logger *slog.Logger, w io.Writer, app string, passphrase []byte) (backup.Summary, error) {
	opt, err := backupOptions(cfg, app, passphrase)
	if err != nil {
		return backup.Summary{}, err
	}
	db, err := OpenDatabase(ctx, cfg, logger)
	if err != nil {
		return backup.Summary{}, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	return backup.Write(ctx, db.Pool, w, opt)
}

// backupOptions are the options of a backup by this build; with a
// passphrase, the board's secrets key goes in them.
func backupOptions(cfg config.Config, app string, passphrase []byte) (backup.Options, error) {
	opt := backup.Options{App: app, Passphrase: passphrase, PiCloud: Version, SchemaVersion: migrations.Latest()}
	if len(passphrase) > 0 {
		key, err := boardSecretsKey(cfg)
		if err != nil {
			return opt, err
		}
		opt.SecretsKey = key
	}
	return opt, nil
}

// backupTo is the admin API's backup: the daemon's pool, its secrets key.
func backupTo(cfg config.Config, pool *pgxpool.Pool) func(ctx context.Context, w io.Writer, app string, passphrase []byte) error {
	return func(ctx context.Context, w io.Writer, app string, passphrase []byte) error {
		opt, err := backupOptions(cfg, app, passphrase)
		if err != nil {
			return fmt.Errorf("%w: %v", model.ErrInvalid, err)
		}
		_, err = backup.Write(ctx, pool, w, opt)
		return err
	}
}

// boardSecretsKey reads the key that seals the board's secrets; a board
// that never made one has no secrets, and gets a new key to wrap.
func boardSecretsKey(cfg config.Config) ([]byte, error) {
	path := SecretsKeyPath(cfg)
	if path == "" {
		return nil, errors.New("back up: no data directory (PICLOUD_DATA_DIR), so no secrets key to carry: leave out --passphrase-stdin")
	}
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("back up: the board has no secrets key yet (%s): start the daemon once, or leave out --passphrase-stdin", path)
	}
	if err != nil {
		return nil, fmt.Errorf("back up: secrets key: %w", err)
	}
	return key, nil
}

// VerifyBackup reads the backup file at path through and checks it,
// changing nothing.
func VerifyBackup(path string, passphrase []byte) (*backup.Contents, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the backup: %w", err)
	}
	defer f.Close()
	return backup.Verify(f, passphrase, migrations.Latest())
}

// RestoreBackup replaces the board's contents with the board backup at
// path (see backup.Restore). The daemon must be stopped: it would keep
// serving what it had cached. The file is checked whole before the
// database is even opened.
func RestoreBackup(ctx context.Context, cfg config.Config, logger *slog.Logger, path string, passphrase []byte, force bool, progress io.Writer) (*backup.Result, error) {
	c, err := VerifyBackup(path, passphrase)
	if err != nil {
		return nil, err
	}
	if c.Header.Scope != backup.ScopeBoard {
		return nil, fmt.Errorf("this is a backup of app %q, not of a board: restore it with --app", c.Header.App)
	}
	if cfg.DatabaseURL == "" {
		unlock, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		defer unlock()
	}
	box, err := loadSecrets(cfg, logger)
	if err != nil {
		return nil, err
	}
	db, err := OpenDatabase(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	res, err := backup.Restore(ctx, db.Pool, func() (io.ReadCloser, error) { return os.Open(path) }, backup.RestoreOptions{
		Passphrase: passphrase, SchemaVersion: migrations.Latest(), Box: box, Force: force, Progress: progress,
	})
	if err != nil {
		return nil, err
	}
	if res.Contents.Rows["users"] > 0 {
		removeSetupToken(SetupTokenPath(cfg), logger)
	}
	return res, nil
}

// RestoreAppBackup adds the app of the app backup at path to the board
// (see backup.RestoreApp), whether or not the daemon runs; a running
// daemon is told to read its apps and routes again. With dryRun nothing
// changes and the plan says what would.
func RestoreAppBackup(ctx context.Context, cfg config.Config, logger *slog.Logger, path string, passphrase []byte, dryRun bool) (*backup.AppPlan, error) {
	c, err := VerifyBackup(path, passphrase)
	if err != nil {
		return nil, err
	}
	if c.Header.Scope != backup.ScopeApp {
		return nil, errors.New("this is a backup of a board, not of one app: restore it without --app")
	}
	box, err := loadSecrets(cfg, logger)
	if err != nil {
		return nil, err
	}
	db, err := OpenDatabase(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	plan, err := backup.RestoreApp(ctx, db.Pool, func() (io.ReadCloser, error) { return os.Open(path) }, backup.RestoreOptions{
		Passphrase: passphrase, SchemaVersion: migrations.Latest(), Box: box,
	}, dryRun)
	if err != nil || dryRun {
		return plan, err
	}
	if err := notifyDaemon(cfg); err != nil {
		plan.Warnings = append(plan.Warnings, "the running daemon serves the app after a reload (systemctl reload picloud): "+err.Error())
	}
	return plan, nil
}

// notifyDaemon makes the daemon running on the data directory, if one
// does, read its apps and routes again (SIGHUP, as a reload).
func notifyDaemon(cfg config.Config) error {
	if cfg.DatabaseURL != "" || cfg.DataDir == "" {
		return errors.New("no data directory to find the daemon by")
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err == nil { // no daemon holds it: the next one reads everything
		unlock()
		return nil
	}
	pid, err := daemonPID(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("signal the daemon (pid %d): %w", pid, err)
	}
	return nil
}

// daemonPID is the pid the daemon wrote in its lock file.
func daemonPID(dir string) (int, error) {
	raw, err := os.ReadFile(filepath.Join(dir, dataLockFile))
	if err != nil {
		return 0, fmt.Errorf("find the daemon: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("find the daemon: %s holds no pid", dataLockFile)
	}
	return pid, nil
}
