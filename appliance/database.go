package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/pgcluster"
	"github.com/picloud/picloud/migrations"
)

// idleConnTimeout is how long a pooled database connection may stay idle.
const idleConnTimeout = 30 * time.Second

// Database is an open, migrated database, with the private cluster behind it
// when PiCloud runs its own.
type Database struct {
	Pool *pgxpool.Pool

	mu      sync.Mutex
	cluster *pgcluster.Cluster // nil with DATABASE_URL; the current one when supervised
	started bool               // this process started the cluster
	sup     *supervisor        // set for the daemon's own cluster
	unlock  func()             // releases the data directory's lock (daemon only)
}

// OpenDatabase connects to DATABASE_URL, or to the private cluster under the
// data directory, starting it if it is not already running (as it is when
// the daemon is), and applies pending migrations. Commands other than the
// daemon use it; a cluster they start stops when they close it.
func OpenDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Database, error) {
	return openDatabase(ctx, cfg, logger, false)
}

// openDaemonDatabase is OpenDatabase for the daemon, which owns the private
// cluster: it holds the data directory's lock for its life, stops a cluster
// that a daemon killed earlier left running, starts its own, and restarts
// it with backoff whenever it dies (see supervisor).
func openDaemonDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Database, error) {
	return openDatabase(ctx, cfg, logger, true)
}

func openDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger, daemon bool) (*Database, error) {
	db := &Database{}
	url := cfg.DatabaseURL
	if url == "" {
		pcfg := pgcluster.Config{
			DataDir:   filepath.Join(cfg.DataDir, "postgres"),
			BinDir:    cfg.PostgresBinDir,
			RunAsUser: cfg.PostgresUser,
			Logger:    logger,
		}
		if daemon {
			unlock, err := lockDataDir(cfg.DataDir)
			if err != nil {
				return nil, err
			}
			db.unlock = unlock
		}
		cl, err := pgcluster.New(pcfg)
		if err != nil {
			db.Close(ctx)
			return nil, fmt.Errorf("prepare the private PostgreSQL cluster: %w", err)
		}
		db.cluster = cl
		url = cl.ConnString()
		if daemon {
			// Holding the lock, this daemon is the only one: a cluster
			// running now was left by one that died, and runs unsupervised.
			if _, err := cl.StopOrphan(ctx); err != nil {
				db.Close(ctx)
				return nil, err
			}
		}
		if daemon || !reachable(ctx, url) {
			if err := cl.Start(ctx); err != nil {
				db.Close(ctx)
				return nil, fmt.Errorf("start the private PostgreSQL cluster in %s: %w", cl.DataDir(), err)
			}
			db.started = true
			url = cl.ConnString()
		}
		if daemon {
			db.sup = newSupervisor(pcfg, cl, logger)
		}
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		db.Close(ctx)
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if pcfg.MaxConns > 16 {
		pcfg.MaxConns = 16
	}
	// A PostgreSQL backend keeps the memory a load made it grow (caches,
	// sort and hash space) until its connection closes: idle connections
	// close after half a minute, so that a quiet board gives it back.
	// DATABASE_URL's pool_max_conn_idle_time and pool_health_check_period
	// win.
	if !strings.Contains(url, "pool_max_conn_idle_time") {
		pcfg.MaxConnIdleTime = idleConnTimeout
	}
	if !strings.Contains(url, "pool_health_check_period") {
		pcfg.HealthCheckPeriod = idleConnTimeout / 3
	}
	db.Pool, err = pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		db.Close(ctx)
		return nil, fmt.Errorf("connect to the database: %w", err)
	}
	if err := db.Pool.Ping(ctx); err != nil {
		db.Close(ctx)
		return nil, fmt.Errorf("connect to the database: %w", err)
	}
	n, err := migrations.Apply(ctx, db.Pool, logger)
	if err != nil {
		db.Close(ctx)
		return nil, err
	}
	if n > 0 {
		logger.Info("applied migrations", "component", "migrations", "count", n)
	}
	if db.sup != nil {
		db.sup.start(db.Pool)
	}
	return db, nil
}

// reachable reports whether a database answers at url right now.
func reachable(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return false
	}
	defer pool.Close()
	return pool.Ping(ctx) == nil
}

// Close closes the pool, stops the cluster if this process started it (its
// supervision first), and releases the data directory's lock.
func (db *Database) Close(ctx context.Context) error {
	var err error
	cl, started := db.cluster, db.started
	if db.sup != nil {
		cl = db.sup.stop()
	}
	if db.Pool != nil {
		db.Pool.Close()
	}
	if cl != nil && started {
		err = cl.Shutdown(ctx)
	}
	if db.unlock != nil {
		db.unlock()
		db.unlock = nil
	}
	return err
}

// Died is closed when the private cluster this process started has died
// and cannot be brought back (see supervisor); DiedErr then says why.
// Without a supervisor, it is closed when the cluster exits.
func (db *Database) Died() <-chan struct{} {
	switch {
	case db.sup != nil:
		return db.sup.dead
	case db.cluster != nil && db.started:
		return db.cluster.Done()
	}
	return nil
}

// DiedErr says why Died was closed.
func (db *Database) DiedErr() error {
	if db.sup != nil {
		return db.sup.err()
	}
	if db.cluster != nil {
		return db.cluster.Err()
	}
	return nil
}
