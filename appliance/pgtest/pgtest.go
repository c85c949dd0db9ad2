// Package pgtest gives tests a real PostgreSQL: a brand-new database per test,
// with all migrations applied, dropped when the test ends.
//
// Each test process starts its own private cluster (pgcluster, in a temp dir,
// fsync off) on first use, migrates a template database once, and clones it
// with CREATE DATABASE ... TEMPLATE for every test, which takes milliseconds.
// With PICLOUD_TEST_DATABASE_URL set, that server is used instead (its role
// needs CREATEDB); database names then carry the process id, so parallel
// test processes do not collide.
//
// Use it from TestMain so the cluster is stopped and its directory removed:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// or, to do more around the tests:
//
//	func TestMain(m *testing.M) {
//		pgtest.Main(func() int { code := m.Run(); report(); return code })
//	}
//
// Without Main, the cluster still dies with the test process (the kernel
// signals it), and its directory is removed by the next test process.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvURL names the environment variable with a server to use instead of a
// private cluster, e.g. postgres://picloud@localhost/postgres.
const EnvURL = "PICLOUD_TEST_DATABASE_URL"

// Main runs the tests, stops the cluster if one was started, and exits with
// the tests' status. m is TestMain's *testing.M, or a function that runs the
// tests (m.Run and whatever else TestMain does) and returns the exit code.
func Main[M *testing.M | func() int](m M) {
	var code int
	switch m := any(m).(type) {
	case *testing.M:
		code = m.Run()
	case func() int:
		code = m()
	}
	if s := current(); s != nil {
		if err := s.close(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	os.Exit(code)
}

// NewDatabase returns a pool on a new database with all migrations applied.
// The pool is closed and the database dropped when t ends.
func NewDatabase(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return newPool(t, NewDatabaseURL(t))
}

// NewDatabaseURL returns a connection string for a new database with all
// migrations applied, dropped when t ends (close your connections first; any
// left open are terminated).
func NewDatabaseURL(t testing.TB) string {
	t.Helper()
	s := get(t)
	if err := s.ensureTemplate(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return s.create(t, s.template)
}

// NewEmptyDatabase returns a pool on a new database without any schema (for
// testing migrations themselves). The pool is closed and the database dropped
// when t ends.
func NewEmptyDatabase(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return newPool(t, NewEmptyDatabaseURL(t))
}

// NewEmptyDatabaseURL is NewEmptyDatabase's connection string form.
func NewEmptyDatabaseURL(t testing.TB) string {
	t.Helper()
	return get(t).create(t, "template0")
}

func newPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(pool.Close) // runs before the drop, registered earlier
	return pool
}
