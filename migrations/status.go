package migrations

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migration is one schema version, as `picloud migrate status` shows it.
type Migration struct {
	Version   int
	Name      string    // "init" for 0001_init.sql
	Applied   bool      // recorded in schema_migrations
	AppliedAt time.Time // zero unless Applied
	// Unknown marks a migration recorded in the database that this binary
	// does not have (a newer picloud applied it).
	Unknown bool
}

// Status lists the embedded migrations and the recorded ones, by version,
// without changing anything.
func Status(ctx context.Context, pool *pgxpool.Pool) ([]Migration, error) {
	return status(ctx, pool, embedded)
}

func status(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) ([]Migration, error) {
	files, err := load(fsys)
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*Migration{}
	for _, f := range files {
		byVersion[f.version] = &Migration{Version: f.version, Name: f.name}
	}

	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return nil, fmt.Errorf("migrations: look for schema_migrations: %w", err)
	}
	if exists {
		rows, err := pool.Query(ctx, "SELECT version, name, applied_at FROM schema_migrations")
		if err != nil {
			return nil, fmt.Errorf("migrations: read schema_migrations: %w", err)
		}
		var r Migration
		_, err = pgx.ForEachRow(rows, []any{&r.Version, &r.Name, &r.AppliedAt}, func() error {
			m, ok := byVersion[r.Version]
			if !ok {
				m = &Migration{Version: r.Version, Name: r.Name, Unknown: true}
				byVersion[r.Version] = m
			}
			m.Applied, m.AppliedAt = true, r.AppliedAt
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("migrations: read schema_migrations: %w", err)
		}
	}

	list := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		list = append(list, *m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Version < list[j].Version })
	return list, nil
}
