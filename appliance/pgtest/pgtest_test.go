package pgtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestNewDatabaseIsMigrated(t *testing.T) {
	begin := time.Now()
	pool := pgtest.NewDatabase(t)
	t.Logf("first database (cluster start, template migration, clone): %s", time.Since(begin).Round(time.Millisecond))

	ctx := context.Background()
	var name string
	if err := pool.QueryRow(ctx, "SELECT name FROM apps WHERE id = '00000000-0000-0000-0000-000000000001'").Scan(&name); err != nil || name != "default" {
		t.Fatalf("default app: %q, %v", name, err)
	}
	latest := migrations.Latest()
	var version int
	if err := pool.QueryRow(ctx, "SELECT max(version) FROM schema_migrations").Scan(&version); err != nil || version != latest || latest < 1 {
		t.Fatalf("schema version %d, %v; want %d", version, err, latest)
	}
}

func TestDatabasesAreIsolatedAndDropped(t *testing.T) {
	ctx := context.Background()
	var url string
	t.Run("first", func(t *testing.T) {
		url = pgtest.NewDatabaseURL(t)
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "INSERT INTO apps (name) VALUES ('only-here')"); err != nil {
			t.Fatal(err)
		}
	})
	other := pgtest.NewDatabase(t)
	var n int
	if err := other.QueryRow(ctx, "SELECT count(*) FROM apps WHERE name = 'only-here'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("row leaked into another database: %d, %v", n, err)
	}
	var exists bool
	if err := other.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = current_database())").Scan(&exists); err != nil || !exists {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", cfg.Database).Scan(&exists); err != nil || exists {
		t.Fatalf("the first test's database %s still exists after it ended (%v)", cfg.Database, err)
	}
}

func TestEmptyDatabase(t *testing.T) {
	pool := pgtest.NewEmptyDatabase(t)
	var exists bool
	if err := pool.QueryRow(context.Background(), "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil || exists {
		t.Fatalf("empty database has schema_migrations: %v %v", exists, err)
	}
}

func TestParallel(t *testing.T) {
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			pool := pgtest.NewDatabase(t)
			if _, err := pool.Exec(context.Background(), "INSERT INTO apps (name) VALUES ($1)", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// BenchmarkNewDatabase measures how long a fresh migrated database takes
// to make from the template: the price of every database test.
func BenchmarkNewDatabase(b *testing.B) {
	pgtest.NewDatabaseURL(b) // warm up: cluster and template exist
	for b.Loop() {
		pgtest.NewDatabaseURL(b)
	}
}
