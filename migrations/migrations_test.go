package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/testkit"
	"github.com/picloud/picloud/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

func sqlFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

func version(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var v int
	if err := pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func tableExists(t *testing.T, pool *pgxpool.Pool, name string) bool {
	t.Helper()
	var ok bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestApplyEmbedded(t *testing.T) {
	pool := pgtest.NewEmptyDatabase(t)
	before, err := migrations.Status(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range before {
		if m.Applied {
			t.Errorf("fresh database: %d_%s already applied", m.Version, m.Name)
		}
	}

	n, err := migrations.Apply(ctx, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	latest := migrations.Latest()
	if n != len(before) || version(t, pool) != latest {
		t.Fatalf("applied %d of %d, at version %d of %d", n, len(before), version(t, pool), latest)
	}
	if !tableExists(t, pool, "apps") || !tableExists(t, pool, "execution_logs") {
		t.Error("tables of 0001_init.sql missing")
	}
	after, err := migrations.Status(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range after {
		if !m.Applied || m.AppliedAt.IsZero() || m.Unknown {
			t.Errorf("after Apply: %+v", m)
		}
	}
	if after[0].Version != 1 || after[0].Name != "init" {
		t.Errorf("first migration = %+v, want 1 init", after[0])
	}

	// Second run: nothing to do.
	if n, err := migrations.Apply(ctx, pool, nil); n != 0 || err != nil {
		t.Fatalf("second Apply: %d, %v", n, err)
	}
}

func TestBrokenMigrationRollsBack(t *testing.T) {
	pool := pgtest.NewEmptyDatabase(t)
	fsys := sqlFS(map[string]string{
		"0001_first.sql": "CREATE TABLE first (id int);\n",
		"0002_broken.sql": "-- ünïcödé before the error shifts bytes, not characters\n" +
			"CREATE TABLE second (id int);\n" +
			"INSERT INTO second VALUES (1);\n" +
			"SELECT id FROM second WHERE nope = 1;\n",
		"0003_never.sql": "CREATE TABLE third (id int);\n",
	})
	n, err := migrations.ApplyFS(ctx, pool, fsys, nil)
	if n != 1 || err == nil {
		t.Fatalf("Apply = %d, %v; want 1 and an error", n, err)
	}
	msg := err.Error()
	t.Log(msg)
	for _, want := range []string{"0002_broken.sql", "line 4, column 29", `column "nope" does not exist`, "42703", "SELECT id FROM second WHERE nope = 1;", "still at version 1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q", want)
		}
	}
	var me *migrations.MigrationError
	var pgErr *pgconn.PgError
	if !errors.As(err, &me) || me.Line != 4 || me.DatabaseVersion != 1 || !errors.As(err, &pgErr) {
		t.Errorf("error = %#v", err)
	}
	if version(t, pool) != 1 || !tableExists(t, pool, "first") || tableExists(t, pool, "second") || tableExists(t, pool, "third") {
		t.Error("0002 was not rolled back entirely, or 0003 ran")
	}

	// A syntax error, reported at its line too; detail and hint pass through.
	pool = pgtest.NewEmptyDatabase(t)
	_, err = migrations.ApplyFS(ctx, pool, sqlFS(map[string]string{
		"0001_syntax.sql": "CREATE TABLE a (id int);\n\nCREAT TABLE b (id int);\n",
	}), nil)
	if err == nil || !strings.Contains(err.Error(), "line 3, column 1") || !strings.Contains(err.Error(), "still at version 0") {
		t.Errorf("syntax error: %v", err)
	}
	_, err = migrations.ApplyFS(ctx, pool, sqlFS(map[string]string{
		"0001_hint.sql": "CREATE TABLE a (id int);\nSELECT lower(1);\n",
	}), nil)
	if err == nil || !strings.Contains(err.Error(), "hint: No function matches") {
		t.Errorf("hint missing: %v", err)
	}
}

func TestCommitInsideFile(t *testing.T) {
	pool := pgtest.NewEmptyDatabase(t)
	_, err := migrations.ApplyFS(ctx, pool, sqlFS(map[string]string{
		"0001_commits.sql": "CREATE TABLE a (id int);\nCOMMIT;\n",
	}), nil)
	if err == nil || !strings.Contains(err.Error(), "COMMIT") {
		t.Fatalf("a file with COMMIT: %v", err)
	}
	if version(t, pool) != 0 {
		t.Error("a file that committed itself was recorded as applied")
	}
}

func TestRefusesBadFiles(t *testing.T) {
	pool := pgtest.NewEmptyDatabase(t)
	for name, tc := range map[string]struct {
		files map[string]string
		want  string
	}{
		"bad name":   {map[string]string{"1_init.sql": ""}, "badly named"},
		"upper case": {map[string]string{"0001_Init.sql": ""}, "badly named"},
		"zero":       {map[string]string{"0000_init.sql": ""}, "starts at 0001"},
		"duplicate":  {map[string]string{"0001_a.sql": "", "0001_b.sql": ""}, "same number"},
	} {
		_, err := migrations.ApplyFS(ctx, pool, sqlFS(tc.files), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if tableExists(t, pool, "schema_migrations") {
		t.Error("bad files must be refused before touching the database")
	}
	// Other files are ignored.
	if n, err := migrations.ApplyFS(ctx, pool, sqlFS(map[string]string{"README.md": "x", "0001_a.sql": "SELECT 1"}), nil); n != 1 || err != nil {
		t.Errorf("README next to migrations: %d, %v", n, err)
	}
}

func TestRefusesMismatchedDatabase(t *testing.T) {
	pool := pgtest.NewEmptyDatabase(t)
	two := map[string]string{"0001_a.sql": "CREATE TABLE a (id int);", "0002_b.sql": "CREATE TABLE b (id int);"}
	if _, err := migrations.ApplyFS(ctx, pool, sqlFS(two), nil); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		files map[string]string
		want  string
	}{
		"downgrade": {map[string]string{"0001_a.sql": ""}, "newer than this picloud knows"},
		"renamed":   {map[string]string{"0001_a.sql": "", "0002_c.sql": ""}, `recorded migration 0002 as "b"`},
		"missing":   {map[string]string{"0001_a.sql": "", "0003_c.sql": ""}, "has no file 0002"},
	} {
		_, err := migrations.ApplyFS(ctx, pool, sqlFS(tc.files), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}

	status, err := migrations.StatusFS(ctx, pool, sqlFS(map[string]string{"0001_a.sql": ""}))
	if err != nil || len(status) != 2 || !status[1].Unknown || !status[1].Applied || status[1].Name != "b" {
		t.Errorf("Status on a newer database: %+v, %v", status, err)
	}

	// A file numbered below the newest applied one (a bad merge).
	pool = pgtest.NewEmptyDatabase(t)
	if _, err := migrations.ApplyFS(ctx, pool, sqlFS(map[string]string{"0001_a.sql": "", "0003_c.sql": ""}), nil); err != nil {
		t.Fatal(err)
	}
	_, err = migrations.ApplyFS(ctx, pool, sqlFS(map[string]string{"0001_a.sql": "", "0002_b.sql": "", "0003_c.sql": ""}), nil)
	if err == nil || !strings.Contains(err.Error(), "0002_b.sql is not applied") {
		t.Errorf("gap: %v", err)
	}
}

// TestConcurrentApply runs two ApplyFS at once: the second waits on the
// lock while the first is inside a migration, then finds nothing to do.
// The first migration waits for a lock the test holds, so that the test
// can see both at the point it means before letting them go on.
func TestConcurrentApply(t *testing.T) {
	url := pgtest.NewEmptyDatabaseURL(t)
	const gate = 4242 // an advisory lock the test holds
	fsys := sqlFS(map[string]string{
		"0001_slow.sql":  fmt.Sprintf("SELECT pg_advisory_xact_lock_shared(%d); CREATE TABLE a (id int);", gate),
		"0002_other.sql": "CREATE TABLE b (id int);",
	})
	watch, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	holder, err := watch.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock($1)", gate); err != nil {
		t.Fatal(err)
	}
	// waiting is awaited until n sessions of this database wait on an
	// advisory lock.
	waiting := func(n int, what string) {
		t.Helper()
		testkit.Eventually(t, 30*time.Second, what, func() error {
			var got int
			err := watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&got)
			if err != nil {
				return err
			}
			if got != n {
				return fmt.Errorf("%d sessions wait on an advisory lock", got)
			}
			return nil
		})
	}
	type result struct {
		n   int
		err error
	}
	results := make(chan result, 2)
	for i := range 2 {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		go func() {
			n, err := migrations.ApplyFS(ctx, pool, fsys, nil)
			results <- result{n, err}
		}()
		if i == 0 {
			waiting(1, "the first is inside its migration, at the gate")
		} else {
			waiting(2, "the second waits for the migration lock")
		}
	}
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", gate); err != nil {
		t.Fatal(err)
	}
	var counts []int
	var errs []error
	for range 2 {
		r := testkit.Receive(t, 30*time.Second, "ApplyFS returns", results)
		counts, errs = append(counts, r.n), append(errs, r.err)
	}
	slices.Sort(counts)
	if errors.Join(errs...) != nil || !slices.Equal(counts, []int{0, 2}) {
		t.Fatalf("applied %v, errors %v; want 2 by one, 0 by the other, and no error", counts, errs)
	}
}

// TestEmbeddedFiles checks the files shipped in the binary are well named.
func TestEmbeddedFiles(t *testing.T) {
	status, err := migrations.StatusFS(ctx, pgtest.NewEmptyDatabase(t), migrations.Embedded)
	if err != nil {
		t.Fatal(err)
	}
	if v := migrations.Latest(); v < 1 || v != status[len(status)-1].Version {
		t.Fatalf("Latest = %d, files %+v", v, status)
	}
}
