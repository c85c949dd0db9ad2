package migrations

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lockKey names PiCloud's migration advisory lock ("picloud" in ASCII).
// Advisory locks are per database, so databases do not contend.
const lockKey int64 = 0x7069636c6f7564

// Apply brings the database schema up to date with the embedded files and
// returns how many it applied. Two processes calling Apply at once are
// serialised by an advisory lock: the second finds nothing left to do.
func Apply(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (applied int, err error) {
	return apply(ctx, pool, embedded, logger)
}

func apply(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, logger *slog.Logger) (applied int, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log := logger.With("component", "migrations")
	files, err := load(fsys)
	if err != nil {
		return 0, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: connect to the database: %w", err)
	}
	defer func() { release(conn, applied > 0 || err != nil) }()

	if err := lock(ctx, conn.Conn(), log); err != nil {
		return 0, err
	}
	table, err := ensureTable(ctx, conn.Conn())
	if err != nil {
		return 0, err
	}
	recorded, err := readApplied(ctx, conn.Conn(), table)
	if err != nil {
		return 0, err
	}
	pending, current, err := plan(files, recorded)
	if err != nil {
		return 0, err
	}
	for _, f := range pending {
		begin := time.Now()
		if err := applyOne(ctx, conn.Conn(), table, f); err != nil {
			return applied, newMigrationError(f, current, err)
		}
		current = f.version
		applied++
		log.Info("applied migration", "file", f.filename, "took", time.Since(begin).Round(time.Millisecond))
	}
	if applied > 0 {
		log.Info("database schema migrated", "version", current, "applied", applied)
	} else {
		log.Debug("database schema up to date", "version", current)
	}
	return applied, nil
}

// lock takes the migration lock, saying so if it has to wait.
func lock(ctx context.Context, conn *pgx.Conn, log *slog.Logger) error {
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockKey).Scan(&got); err != nil {
		return fmt.Errorf("migrations: take the migration lock: %w", err)
	}
	if got {
		return nil
	}
	log.Info("waiting for another process to finish migrating the database")
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("migrations: wait for the migration lock: %w", err)
	}
	return nil
}

// release unlocks and returns the connection to the pool, or closes it if it
// may carry session state a migration left behind (SET search_path, ...) or
// is broken; closing also drops the lock.
func release(conn *pgxpool.Conn, discard bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockKey); err != nil || discard {
		_ = conn.Hijack().Close(ctx)
		return
	}
	conn.Release()
}

// ensureTable creates schema_migrations if missing and returns its
// schema-qualified name, immune to a migration changing search_path.
func ensureTable(ctx context.Context, conn *pgx.Conn) (string, error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return "", fmt.Errorf("migrations: look for schema_migrations: %w", err)
	}
	if !exists {
		_, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (
			version     integer PRIMARY KEY,
			name        text NOT NULL,
			applied_at  timestamptz NOT NULL DEFAULT now())`)
		if err != nil {
			return "", fmt.Errorf("migrations: create schema_migrations: %w", err)
		}
	}
	var table string
	err := conn.QueryRow(ctx, `SELECT format('%I.%I', n.nspname, c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.oid = 'schema_migrations'::regclass`).Scan(&table)
	if err != nil {
		return "", fmt.Errorf("migrations: locate schema_migrations: %w", err)
	}
	return table, nil
}

// readApplied returns the recorded migrations: version -> name.
func readApplied(ctx context.Context, conn *pgx.Conn, table string) (map[int]string, error) {
	rows, err := conn.Query(ctx, "SELECT version, name FROM "+table)
	if err != nil {
		return nil, fmt.Errorf("migrations: read %s: %w", table, err)
	}
	recorded := map[int]string{}
	var version int
	var name string
	_, err = pgx.ForEachRow(rows, []any{&version, &name}, func() error {
		recorded[version] = name
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migrations: read %s: %w", table, err)
	}
	return recorded, nil
}

// applyOne runs one file and records it, in one transaction.
func applyOne(ctx context.Context, conn *pgx.Conn, table string, f file) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	// No arguments: the simple protocol, which runs a whole file of statements.
	if _, err := tx.Exec(ctx, f.sql); err != nil {
		return err
	}
	if conn.PgConn().TxStatus() != 'T' {
		return errors.New("the file ends the transaction itself (COMMIT or ROLLBACK), so what came before it was kept: remove those statements, each file already runs in its own transaction")
	}
	if _, err := tx.Exec(ctx, "INSERT INTO "+table+" (version, name, applied_at) VALUES ($1, $2, now())", f.version, f.name); err != nil {
		return fmt.Errorf("record the migration: %w", err)
	}
	return tx.Commit(ctx)
}
