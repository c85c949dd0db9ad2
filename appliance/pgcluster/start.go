package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Start prepares the data directory (initdb on first start), starts postgres,
// waits until it accepts connections and creates DatabaseName if missing.
// If Start fails after postgres was started, postgres is stopped again.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("pgcluster: Start called twice (create a new Cluster to restart)")
	}
	c.started = true
	c.mu.Unlock()
	begin := time.Now()

	if err := c.prepareDataDir(ctx); err != nil {
		return fmt.Errorf("pgcluster: prepare data directory %s: %w", c.cfg.DataDir, err)
	}
	c.mu.Lock()
	sock, inside := c.socketDir, !c.socketOutside
	c.mu.Unlock()
	if !inside {
		c.log.Info("data directory path is too long for a Unix socket; using a private socket directory outside it",
			"socket_dir", sock, "limit_bytes", maxSocketPath)
	}
	if err := c.user.prepareSocketDir(sock, inside); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.clearStalePid(sock); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.spawn(c.serverArgs(sock)); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	conn, err := c.waitReady(ctx)
	if err == nil {
		err = c.createDatabase(ctx, conn)
		_ = conn.Close(context.Background())
	}
	if err != nil {
		c.abort()
		return fmt.Errorf("pgcluster: %w", err)
	}
	c.log.Info("PostgreSQL ready", "version", c.bin.major, "data_dir", c.cfg.DataDir,
		"socket_dir", sock, "pid", c.Pid(), "user", c.user.name, "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// waitReady polls until postgres accepts a connection to a maintenance
// database, postgres exits, ctx ends or StartTimeout passes.
func (c *Cluster) waitReady(ctx context.Context) (*pgx.Conn, error) {
	deadline := time.Now().Add(c.cfg.StartTimeout)
	cfg, err := pgx.ParseConfig(c.ConnStringFor("postgres"))
	if err != nil {
		return nil, fmt.Errorf("parse connection string: %w", err)
	}
	cfg.ConnectTimeout = 5 * time.Second
	pause := 20 * time.Millisecond
	for {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			return conn, nil
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" && cfg.Database != "template1" {
			cfg.Database = "template1" // someone dropped "postgres"
			continue
		}
		select {
		case <-c.done:
			if err := c.Err(); err != nil {
				return nil, fmt.Errorf("postgres exited during start-up: %w", err)
			}
			return nil, errors.New("postgres was shut down during start-up")
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for postgres to accept connections: %w (last attempt: %v)%s", ctx.Err(), err, c.output.suffix())
		case <-time.After(pause):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("postgres did not accept connections within %s (last attempt: %v)%s", c.cfg.StartTimeout, err, c.output.suffix())
		}
		pause = min(pause*2, 250*time.Millisecond)
	}
}

// createDatabase creates DatabaseName unless it exists.
func (c *Cluster) createDatabase(ctx context.Context, conn *pgx.Conn) error {
	name := c.cfg.DatabaseName
	var exists bool
	err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		return fmt.Errorf("check database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	c.log.Info("created database", "database", name)
	return nil
}
