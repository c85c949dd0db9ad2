// Package pgcluster runs PiCloud's private PostgreSQL cluster: the database the
// appliance uses when no DATABASE_URL is configured.
//
// The cluster is created with the server binaries of Debian's postgresql package
// (initdb on first start), listens on a Unix socket in a private directory and on
// no TCP port, and runs `postgres` as a supervised child process whose output is
// forwarded to slog. When the daemon runs as root, PostgreSQL runs as an
// unprivileged system user, because PostgreSQL refuses to run as root.
package pgcluster

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SuperUser is the PostgreSQL role that initdb creates and that ConnString uses.
// Authentication is "trust" on the Unix socket: access is controlled by the
// permissions of the socket directory.
const SuperUser = "picloud"

// port only names the socket file (.s.PGSQL.5432); there is no TCP listener.
const port = 5432

// Config describes a private cluster.
type Config struct {
	// DataDir is the cluster's data directory (PGDATA), e.g.
	// $PICLOUD_DATA_DIR/postgres. It is created and initialised on first start.
	DataDir string
	// BinDir overrides the directory holding initdb and postgres. By default the
	// newest /usr/lib/postgresql/<major>/bin (major >= 13) is used, or the one
	// matching an existing DataDir.
	BinDir string
	// RunAsUser is the system user PostgreSQL runs as when the daemon runs as
	// root. Default: "picloud" if that user exists, else "postgres", else
	// "nobody". Ignored (apart from a check) when not root.
	RunAsUser string
	// Logger receives PostgreSQL's output (component=postgres) and the cluster's
	// own messages. Default: slog.Default().
	Logger *slog.Logger
	// DatabaseName is created at start if missing. Default: "picloud".
	DatabaseName string
	// StartTimeout bounds the wait for PostgreSQL to accept connections (crash
	// recovery after a power cut can take a while on an SD card). Default: 2m.
	StartTimeout time.Duration
	// DieWithParent makes the kernel stop PostgreSQL at once (SIGQUIT,
	// immediate shutdown) when the process that started it dies, even by
	// SIGKILL or a panic: for throwaway clusters (tests). Without it the
	// kernel asks for a fast shutdown (SIGINT) instead, which checkpoints:
	// either way no cluster outlives the process that started it.
	DieWithParent bool
	// Ephemeral turns off fsync and friends for throwaway clusters (tests).
	// Never use it for data that matters.
	Ephemeral bool
	// Settings override or add server settings (passed as -c name=value).
	Settings map[string]string
}

// Cluster is a private PostgreSQL cluster. It is started once and stopped
// once; to restart, create a new Cluster on the same DataDir.
type Cluster struct {
	cfg  Config
	log  *slog.Logger
	bin  binaries
	user runAs

	mu        sync.Mutex
	started   bool
	stopping  bool
	pid       int
	socketDir string
	// socketOutside is set when socketDir is a fallback outside DataDir.
	socketOutside bool
	done          chan struct{}
	exitErr       error
	output        *tail
}

var settingName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// New checks cfg, finds the PostgreSQL server binaries and decides which user
// runs them. It does not touch the data directory.
func New(cfg Config) (*Cluster, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("pgcluster: DataDir is required")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: resolve data directory %q: %w", cfg.DataDir, err)
	}
	cfg.DataDir = dir
	if cfg.DatabaseName == "" {
		cfg.DatabaseName = "picloud"
	}
	if strings.ContainsRune(cfg.DatabaseName, 0) {
		return nil, fmt.Errorf("pgcluster: invalid database name %q", cfg.DatabaseName)
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 2 * time.Minute
	}
	for name := range cfg.Settings {
		if !settingName.MatchString(name) {
			return nil, fmt.Errorf("pgcluster: invalid setting name %q", name)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Cluster{cfg: cfg, log: cfg.Logger.With("component", "pgcluster"), done: make(chan struct{}), output: newTail(40)}

	// Pure: the socket directory follows from DataDir, so ConnString is valid
	// before Start (e.g. to reach a cluster another picloud process runs).
	sock, inside, err := chooseSocketDir(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	c.socketDir, c.socketOutside = sock, !inside

	c.bin, err = findBinaries(cfg.BinDir, dataDirMajor(cfg.DataDir), c.log)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	c.user, err = resolveUser(cfg.RunAsUser)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	return c, nil
}

// ConnString is a pgx connection string for DatabaseName over the Unix socket
// (valid before Start too: the socket directory follows from DataDir).
func (c *Cluster) ConnString() string { return c.ConnStringFor(c.cfg.DatabaseName) }

// ConnStringFor is a pgx connection string for another database of the cluster.
func (c *Cluster) ConnStringFor(database string) string {
	c.mu.Lock()
	dir := c.socketDir
	c.mu.Unlock()
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		quoteValue(dir), port, quoteValue(SuperUser), quoteValue(database))
}

// quoteValue quotes a keyword/value connection string value.
func quoteValue(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `\'`)
	return "'" + s + "'"
}

// DataDir is the absolute path of the data directory.
func (c *Cluster) DataDir() string { return c.cfg.DataDir }

// Version is the major version of the PostgreSQL server binaries in use.
func (c *Cluster) Version() int { return c.bin.major }

// Pid is the postmaster's process id, or 0 before Start.
func (c *Cluster) Pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pid
}

// Done is closed when the postgres process has exited, for whatever reason.
func (c *Cluster) Done() <-chan struct{} { return c.done }

// Err tells why postgres exited once Done is closed: nil after Shutdown, an
// error with PostgreSQL's last output if it died on its own.
func (c *Cluster) Err() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitErr
}

// signal sends sig to the postmaster, or to its whole process group.
func (c *Cluster) signal(sig syscall.Signal, group bool) {
	c.mu.Lock()
	pid := c.pid
	c.mu.Unlock()
	if pid <= 0 {
		return
	}
	if group {
		pid = -pid
	}
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		c.log.Warn("signal postgres", "signal", sig.String(), "error", err)
	}
}

// fileExists reports whether path exists (any type).
func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
