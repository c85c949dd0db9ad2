package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/pgcluster"
	"github.com/picloud/picloud/migrations"
)

// Database is an open, migrated database, with the private cluster behind it
// when PiCloud runs its own.
type Database struct {
	Pool    *pgxpool.Pool
	Cluster *pgcluster.Cluster // nil with DATABASE_URL
	started bool               // this process started Cluster
}

// OpenDatabase connects to DATABASE_URL, or to the private cluster under the
// data directory, starting it if it is not already running (as it is when
// the daemon is), and applies pending migrations.
func OpenDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Database, error) {
	db := &Database{}
	url := cfg.DatabaseURL
	if url == "" {
		cl, err := pgcluster.New(pgcluster.Config{
			DataDir:   filepath.Join(cfg.DataDir, "postgres"),
			BinDir:    cfg.PostgresBinDir,
			RunAsUser: cfg.PostgresUser,
			Logger:    logger,
		})
		if err != nil {
			return nil, fmt.Errorf("prepare the private PostgreSQL cluster: %w", err)
		}
		db.Cluster = cl
		url = cl.ConnString()
		if !reachable(ctx, url) {
			if err := cl.Start(ctx); err != nil {
				return nil, fmt.Errorf("start the private PostgreSQL cluster in %s: %w", cl.DataDir(), err)
			}
			db.started = true
			url = cl.ConnString()
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

// Close closes the pool and stops the cluster if this process started it.
func (db *Database) Close(ctx context.Context) error {
	if db.Pool != nil {
		db.Pool.Close()
	}
	if db.Cluster != nil && db.started {
		return db.Cluster.Shutdown(ctx)
	}
	return nil
}

// Died is closed when the private cluster this process started exits.
func (db *Database) Died() <-chan struct{} {
	if db.Cluster != nil && db.started {
		return db.Cluster.Done()
	}
	return nil
}
