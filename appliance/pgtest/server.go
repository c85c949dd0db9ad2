package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/picloud/picloud/appliance/pgcluster"
	"github.com/picloud/picloud/migrations"
)

// server is the PostgreSQL this test process uses.
type server struct {
	cluster  *pgcluster.Cluster // nil when EnvURL is set
	dir      string             // the private cluster's temp directory
	baseURL  string             // connection string of the maintenance database
	admin    *pgxpool.Pool      // runs CREATE / DROP DATABASE
	prefix   string             // database name prefix
	template string
	strategy string // " STRATEGY FILE_COPY" on PostgreSQL 15+
	seq      atomic.Int64

	tmplOnce sync.Once
	tmplErr  error
}

var (
	once    sync.Once
	shared  *server
	initErr error
)

// get starts the server on first use.
func get(t testing.TB) *server {
	t.Helper()
	once.Do(func() { shared, initErr = start() })
	if initErr != nil {
		t.Fatalf("pgtest: %v", initErr)
	}
	return shared
}

// current returns the server if one was started, and prevents a later start.
func current() *server {
	once.Do(func() {})
	return shared
}

func start() (*server, error) {
	s := &server{}
	if base := os.Getenv(EnvURL); base != "" {
		s.baseURL = base
		s.prefix = fmt.Sprintf("picloud_test_%d_%s_", os.Getpid(), randomHex(3))
		s.template = s.prefix + "template"
	} else {
		if err := s.startCluster(); err != nil {
			return nil, err
		}
		s.prefix, s.template = "test_", "picloud_template"
	}
	cfg, err := pgxpool.ParseConfig(s.baseURL)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", EnvURL, err)
	}
	cfg.MaxConns = 4
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.admin, err = pgxpool.NewWithConfig(ctx, cfg); err == nil {
		var version int
		err = s.admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version)
		if version >= 150000 {
			// Copying the template's files beats WAL-logging every block of it
			// (the default since 15): ~20ms instead of ~100ms+ per database.
			s.strategy = " STRATEGY FILE_COPY"
		}
	}
	if err != nil {
		_ = s.close()
		return nil, fmt.Errorf("connect to the test server: %w", err)
	}
	return s, nil
}

// startCluster starts a private cluster in a new temp directory.
func (s *server) startCluster() error {
	sweep()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return err
	}
	s.dir = dir
	// 0755: when root, PostgreSQL runs as another user who must reach data/.
	err = errors.Join(os.Chmod(dir, 0o755),
		os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644))
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	s.cluster, err = pgcluster.New(pgcluster.Config{
		DataDir:       filepath.Join(dir, "data"),
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		DatabaseName:  "postgres",
		DieWithParent: true,
		Ephemeral:     true,
		Settings: map[string]string{
			"max_connections": "100",
			// Tests fail statements on purpose; their clients get the errors.
			"log_min_messages": "fatal",
		},
	})
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err = s.cluster.Start(ctx)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	s.baseURL = s.cluster.ConnStringFor("postgres")
	clusterPid.Store(int64(s.cluster.Pid()))
	return nil
}

// clusterPid is the shared private cluster's postmaster, once it runs.
var clusterPid atomic.Int64

// ClusterPid is the process id of the private cluster this package runs
// for the tests of the process, 0 when it runs none (none needed yet, or
// EnvURL names the server): for tests that check which child processes
// they leave behind, which this one is not.
func ClusterPid() int { return int(clusterPid.Load()) }

// ensureTemplate creates and migrates the template database, once.
func (s *server) ensureTemplate() error {
	s.tmplOnce.Do(func() { s.tmplErr = s.makeTemplate() })
	return s.tmplErr
}

func (s *server) makeTemplate() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := pgx.Identifier{s.template}.Sanitize()
	if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop old template database: %w", err)
	}
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(s.baseURL, s.template))
	if err != nil {
		return fmt.Errorf("connect to template database: %w", err)
	}
	defer pool.Close() // no session may remain on a database being cloned
	if _, err := migrations.Apply(ctx, pool, nil); err != nil {
		return fmt.Errorf("migrate template database: %w", err)
	}
	return nil
}

// create clones template into a new database, dropped when t ends.
func (s *server) create(t testing.TB, template string) string {
	t.Helper()
	name := s.prefix + strconv.FormatInt(s.seq.Add(1), 10)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{template}.Sanitize() + s.strategy
	for attempt := 0; ; attempt++ {
		_, err := s.admin.Exec(ctx, sql)
		if err == nil {
			break
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < 50 {
			time.Sleep(20 * time.Millisecond) // template briefly in use
			continue
		}
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() { s.drop(t, name) })
	return withDatabase(s.baseURL, name)
}

func (s *server) drop(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
	}
}

// close drops what it made on a shared server, or stops the private cluster
// and removes its directory.
func (s *server) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if s.admin != nil {
		if s.cluster == nil && s.template != "" {
			_, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{s.template}.Sanitize()+" WITH (FORCE)")
			errs = append(errs, err)
		}
		s.admin.Close()
	}
	if s.cluster != nil {
		errs = append(errs, s.cluster.Shutdown(ctx))
	}
	if s.dir != "" {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}

// withDatabase points a connection string (URL or keyword/value) at database.
func withDatabase(conn, database string) string {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		if u, err := url.Parse(conn); err == nil {
			u.Path, u.RawPath = "/"+database, ""
			q := u.Query()
			q.Del("dbname")
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	// In keyword/value form the last dbname wins.
	quoted := strings.ReplaceAll(strings.ReplaceAll(database, `\`, `\\`), `'`, `\'`)
	return conn + " dbname='" + quoted + "'"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
