// Package config is PiCloud's one configuration: defaults, then the file
// (/etc/picloud/picloud.conf), then PICLOUD_* environment variables, then
// validation with errors a person can act on.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultFile is where the daemon reads its configuration file.
const DefaultFile = "/etc/picloud/picloud.conf"

// Config is every setting of the daemon.
type Config struct {
	// Listen is the HTTP listen address (PICLOUD_LISTEN).
	Listen string
	// PublicURL is how people reach the platform, reported by /version
	// (PICLOUD_PUBLIC_URL); derived from Listen when empty.
	PublicURL string
	// DataDir holds the private PostgreSQL cluster and other state
	// (PICLOUD_DATA_DIR).
	DataDir string
	// DatabaseURL selects an external PostgreSQL instead of the private
	// cluster (DATABASE_URL or PICLOUD_DATABASE_URL).
	DatabaseURL string
	// PostgresBinDir overrides where the PostgreSQL server binaries are found.
	PostgresBinDir string
	// PostgresUser is the unprivileged user the private cluster runs as when
	// the daemon runs as root.
	PostgresUser string

	// SessionTTL is how long an idle admin session lives.
	SessionTTL time.Duration
	// MaxConcurrentExecutions caps running scripts; past it, 503.
	MaxConcurrentExecutions int
	// BackgroundSharePercent is the share of MaxConcurrentExecutions that
	// background work (cron runs) may take; the rest stays free for HTTP.
	BackgroundSharePercent int
	// CronSeconds accepts cron schedules with a leading seconds field; for
	// tests, which cannot wait minutes.
	CronSeconds bool
	// QueueMaxMessageBytes caps a queue message's body, as JSON.
	QueueMaxMessageBytes int
	// SMTP is the relay that scripts' email goes through.
	SMTP SMTP
	// MaxRequestBodyBytes caps a request body sent to a script (413).
	MaxRequestBodyBytes int64
	// BodyReadTimeout bounds the time to read a request body, from the end
	// of its headers (408 past it) (PICLOUD_BODY_READ_TIMEOUT_SECONDS).
	BodyReadTimeout time.Duration
	// TrustedProxies are addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For (the client's address) and X-Forwarded-Proto (https
	// makes the session cookie Secure) are believed (PICLOUD_TRUSTED_PROXIES).
	TrustedProxies []string
	// AdminHosts are the host names the admin API answers on, besides
	// loopback (PICLOUD_ADMIN_HOSTS); empty means the machine's host name,
	// its .local name and any IP address.
	AdminHosts []string

	// AdminSocket is the Unix socket of the admin API on the board
	// (PICLOUD_ADMIN_SOCKET): a request over it without credentials acts as
	// the local owner. Empty disables it.
	AdminSocket string
	// SSHBind is the SSH server's listen address (PICLOUD_SSH_BIND), where
	// the terminal UI is served to users' registered keys. Empty disables it.
	SSHBind string
	// SSH bounds the SSH server's connections (PICLOUD_SSH_*).
	SSH SSH

	// Sandbox holds the per-execution limits.
	Sandbox Sandbox
	// Executors shapes the executor worker processes.
	Executors Executors
	// Fetch is what scripts' fetch may reach.
	Fetch Fetch

	// LogRetention is the age after which execution records are deleted.
	LogRetention time.Duration
	// LogMaxRecords caps the number of execution records kept.
	LogMaxRecords int
	// LogFlushInterval is how often buffered execution records are written.
	LogFlushInterval time.Duration
	// LogResponseBytes is how much of each response's body an execution
	// record keeps, with the headers; 0 keeps no response.
	LogResponseBytes int

	// Backup is the daemon's scheduled backups (PICLOUD_BACKUP_*).
	Backup Backup

	// GCPercent is the Go garbage collector's target (GOGC); scripts
	// allocate a lot of short-lived objects, so a higher target than Go's
	// 100 buys throughput with memory that MemoryLimitMB bounds.
	GCPercent int
	// MemoryLimitMB is the daemon's soft memory limit (GOMEMLIMIT); 0 means a
	// twentieth of the machine's memory (or its cgroup's limit), from 24 to
	// 128 MiB.
	MemoryLimitMB int

	// ShutdownTimeout bounds the drain of in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// LogFormat is text or json.
	LogFormat string
}

// Backup says where, how often and how many scheduled backups the daemon
// keeps; a zero Schedule or an empty Dir means none.
type Backup struct {
	Dir            string
	Schedule       time.Duration
	Keep           int
	PassphraseFile string
}

// Enabled reports whether scheduled backups are on.
func (b Backup) Enabled() bool { return b.Dir != "" && b.Schedule > 0 }

// Sandbox holds the default limits of one execution and the admin ceilings
// (Max*) that no per-script setting may pass.
type Sandbox struct {
	WallTime         time.Duration
	MaxWallTime      time.Duration
	ResponseBytes    int
	MaxResponseBytes int
	ConsoleBytes     int
	MaxConsoleBytes  int
	CallDepth        int
	MaxCallDepth     int
	Timers           int
	MaxTimers        int
	Subrequests      int
	MaxSubrequests   int
	DataCalls        int
	MaxDataCalls     int
	// StorageMB is an app's default storage quota for its scripts' data
	// (limit.storage); MaxStorageMB the ceiling of per-app overrides.
	StorageMB    int
	MaxStorageMB int
	// MaxMemoryMB is each executor worker's resident memory ceiling; past
	// it the worker is killed and its executions end with limit.memory.
	// 0 means chosen from the machine's memory (see docs/executors.md).
	MaxMemoryMB int
}

// Fetch is the policy of scripts' outbound requests.
type Fetch struct {
	// Hosts, when not empty, is the only hosts scripts may fetch from
	// (exact names or *.domain).
	Hosts []string
	// PrivateNetworks lets scripts reach the private networks (a home's
	// devices).
	PrivateNetworks bool
	// Deny lists networks refused on top of the built-in rules.
	Deny []string
	// Allow lists addresses, address:port pairs or networks let through
	// the built-in rules (e.g. a service on the board itself).
	Allow []string
	// Timeout bounds one fetch.
	Timeout time.Duration
	// MaxResponseBytes bounds a fetched body.
	MaxResponseBytes int64
}

// SSH bounds the connections of the SSH server: those still in their
// handshake, which anyone can open, apart from the signed-in ones, and
// how long either may last.
type SSH struct {
	// MaxConnections caps the signed-in connections at once.
	MaxConnections int
	// MaxUnauthenticated caps the connections not signed in yet; past it
	// a new connection is closed at once.
	MaxUnauthenticated int
	// MaxUnauthenticatedPerAddress caps those from one client address (an
	// IPv4 address, an IPv6 /64 network).
	MaxUnauthenticatedPerAddress int
	// HandshakeTimeout bounds the handshake and sign-in of a connection.
	HandshakeTimeout time.Duration
	// IdleTimeout ends a signed-in connection after so long without input
	// from its user; 0 never does.
	IdleTimeout time.Duration
	// MaxSession ends a signed-in connection so long after its sign-in; 0
	// never does.
	MaxSession time.Duration
}

// Executors shapes the pool of executor worker processes.
type Executors struct {
	// Mode is "process" (scripts run in supervised worker processes) or
	// "inprocess" (in the daemon itself: no protection from hostile scripts).
	Mode string
	// Workers is the number of worker processes; 0 means chosen from the
	// machine's cores and memory.
	Workers int
	// Concurrency is how many executions one worker runs at once; 0 means
	// enough for MaxConcurrentExecutions spread over the workers.
	Concurrency int
	// KillGrace is how long past an execution's wall time the daemon waits
	// before it kills the worker running it.
	KillGrace time.Duration
	// User is the unprivileged user the workers run as when the daemon
	// runs as root; empty means picloud, else nobody.
	User string
}

// validAllow reports whether s is an address, address:port or network.
func validAllow(s string) bool {
	if _, err := netip.ParseAddrPort(s); err == nil {
		return true
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}

// validProxy reports whether s is an address or a network.
func validProxy(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Listen:  ":8080",
		DataDir: defaultDataDir(),
		SSHBind: ":2222",
		SSH: SSH{
			MaxConnections: 16, MaxUnauthenticated: 32, MaxUnauthenticatedPerAddress: 4,
			HandshakeTimeout: 10 * time.Second, IdleTimeout: 30 * time.Minute, MaxSession: 12 * time.Hour,
		},
		SessionTTL:              24 * time.Hour,
		MaxConcurrentExecutions: 32,
		BackgroundSharePercent:  50,
		QueueMaxMessageBytes:    128 << 10,
		SMTP:                    SMTP{MaxMessageBytes: 1 << 20, MaxMessagesPerMinute: 60},
		MaxRequestBodyBytes:     1 << 20,
		BodyReadTimeout:         30 * time.Second,
		Sandbox: Sandbox{
			WallTime: 5 * time.Second, MaxWallTime: 30 * time.Second,
			ResponseBytes: 8 << 20, MaxResponseBytes: 32 << 20,
			ConsoleBytes: 64 << 10, MaxConsoleBytes: 1 << 20,
			CallDepth: 512, MaxCallDepth: 2048,
			Timers: 1000, MaxTimers: 10000,
			Subrequests: 50, MaxSubrequests: 1000, DataCalls: 1000, MaxDataCalls: 100000,
			StorageMB: 256, MaxStorageMB: 16384,
		},
		Fetch:            Fetch{PrivateNetworks: true, Timeout: 10 * time.Second, MaxResponseBytes: 8 << 20},
		Executors:        Executors{Mode: "process", KillGrace: time.Second},
		Backup:           Backup{Keep: 7},
		LogRetention:     7 * 24 * time.Hour,
		LogMaxRecords:    100000,
		LogResponseBytes: 1024,
		LogFlushInterval: time.Second,
		GCPercent:        400,
		ShutdownTimeout:  10 * time.Second,
		LogLevel:         "info",
		LogFormat:        "text",
	}
}

// defaultDataDir is systemd's StateDirectory when set, /var/lib/picloud for
// root, and the XDG data directory for anyone else.
func defaultDataDir() string {
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		return strings.Split(d, ":")[0]
	}
	if os.Geteuid() == 0 {
		return "/var/lib/picloud"
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "picloud")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "picloud")
	}
	return "picloud-data"
}

// DefaultAdminSocket is admin.sock in systemd's RuntimeDirectory when set,
// in the data directory otherwise ("" without one).
func DefaultAdminSocket(dataDir string) string {
	if d := os.Getenv("RUNTIME_DIRECTORY"); d != "" {
		return filepath.Join(strings.Split(d, ":")[0], "admin.sock")
	}
	if dataDir == "" {
		return ""
	}
	return filepath.Join(dataDir, "admin.sock")
}

// Load builds the configuration from defaults, the file at path (missing is
// fine when path is the default one) and the environment, and validates it.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	cfg.AdminSocket = ""
	explicit := path != ""
	if !explicit {
		path = DefaultFile
	}
	values := map[string]source{}
	if err := readFile(path, values); err != nil {
		if !(errors.Is(err, os.ErrNotExist) && !explicit) {
			return cfg, err
		}
	}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && (strings.HasPrefix(k, "PICLOUD_") || k == "DATABASE_URL") {
			values[k] = source{value: v, where: "environment variable " + k}
		}
	}
	if err := apply(&cfg, values); err != nil {
		return cfg, err
	}
	if _, set := values["PICLOUD_ADMIN_SOCKET"]; !set {
		cfg.AdminSocket = DefaultAdminSocket(cfg.DataDir)
	}
	return cfg, cfg.Validate()
}

// SMTP is the relay of outbound email (PICLOUD_SMTP_*).
type SMTP struct {
	// Relay is the relay's host:port; empty: scripts cannot send email.
	Relay string
	// User signs in to the relay with the password in PasswordFile; empty:
	// no sign-in.
	User         string
	PasswordFile string
	// Senders are the addresses, and "@domain"s, scripts may send from.
	Senders []string
	// Bind is the listen address of the inbound SMTP server, host:port;
	// empty: no inbound email.
	Bind string
	// MaxMessageBytes is the largest message the inbound server accepts.
	MaxMessageBytes int
	// MaxMessagesPerMinute is how many messages one client address may
	// send the inbound server per minute.
	MaxMessagesPerMinute int
}

// MaxInboundMessageBytes is the ceiling of PICLOUD_SMTP_MAX_MESSAGE_BYTES.
const MaxInboundMessageBytes = 25 << 20

func (s SMTP) validate() []error {
	var errs []error
	if s.Bind != "" {
		if _, _, err := net.SplitHostPort(s.Bind); err != nil {
			errs = append(errs, fmt.Errorf("PICLOUD_SMTP_BIND %q is not host:port (e.g. :25 or 0.0.0.0:2525), or empty to receive no email", s.Bind))
		}
	}
	if s.MaxMessageBytes < 1024 || s.MaxMessageBytes > MaxInboundMessageBytes {
		errs = append(errs, fmt.Errorf("PICLOUD_SMTP_MAX_MESSAGE_BYTES is %d: it must be between 1024 and %d (25 MiB)", s.MaxMessageBytes, MaxInboundMessageBytes))
	}
	if s.MaxMessagesPerMinute < 1 {
		errs = append(errs, fmt.Errorf("PICLOUD_SMTP_MAX_MESSAGES_PER_MINUTE is %d: it must be at least 1", s.MaxMessagesPerMinute))
	}
	if s.Relay == "" {
		if s.User != "" || s.PasswordFile != "" || len(s.Senders) > 0 {
			errs = append(errs, errors.New("PICLOUD_SMTP_USER, PICLOUD_SMTP_PASSWORD_FILE and PICLOUD_SMTP_SENDERS need PICLOUD_SMTP_RELAY"))
		}
		return errs
	}
	if host, port, err := net.SplitHostPort(s.Relay); err != nil || host == "" || port == "" {
		errs = append(errs, fmt.Errorf("PICLOUD_SMTP_RELAY %q is not host:port (e.g. smtp.example.com:587)", s.Relay))
	}
	if (s.User == "") != (s.PasswordFile == "") {
		errs = append(errs, errors.New("PICLOUD_SMTP_USER and PICLOUD_SMTP_PASSWORD_FILE go together: set both to sign in to the relay, or neither"))
	}
	if len(s.Senders) == 0 {
		errs = append(errs, errors.New("PICLOUD_SMTP_SENDERS is empty: list the addresses (or @domains) scripts may send from"))
	}
	for _, a := range s.Senders {
		at := strings.LastIndexByte(a, '@')
		if at < 0 || at == len(a)-1 || strings.ContainsAny(a, " <>\"\r\n") {
			errs = append(errs, fmt.Errorf("PICLOUD_SMTP_SENDERS: %q is neither an address (news@example.com) nor a domain (@example.com)", a))
		}
	}
	return errs
}

// Validate checks the settings together.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("PICLOUD_LISTEN %q is not host:port (e.g. :8080 or 127.0.0.1:8080)", c.Listen))
	}
	if c.DataDir == "" && c.DatabaseURL == "" {
		errs = append(errs, errors.New("PICLOUD_DATA_DIR is empty: set it to a directory for PiCloud's data"))
	}
	if c.SSHBind != "" {
		if _, _, err := net.SplitHostPort(c.SSHBind); err != nil {
			errs = append(errs, fmt.Errorf("PICLOUD_SSH_BIND %q is not host:port (e.g. :2222), or empty to disable SSH", c.SSHBind))
		}
	}
	errs = append(errs, c.SSH.validate()...)
	errs = append(errs, c.SMTP.validate()...)
	if len(c.AdminSocket) > 100 {
		errs = append(errs, fmt.Errorf("PICLOUD_ADMIN_SOCKET %q is longer than a Unix socket path may be (about 100 bytes): choose a shorter path", c.AdminSocket))
	}
	if c.MaxConcurrentExecutions < 1 {
		errs = append(errs, fmt.Errorf("PICLOUD_MAX_CONCURRENT_EXECUTIONS is %d: it must be at least 1", c.MaxConcurrentExecutions))
	}
	if c.BackgroundSharePercent < 1 || c.BackgroundSharePercent > 100 {
		errs = append(errs, fmt.Errorf("PICLOUD_BACKGROUND_SHARE_PERCENT is %d: it must be between 1 and 100", c.BackgroundSharePercent))
	}
	if c.QueueMaxMessageBytes < 1 || c.QueueMaxMessageBytes > 1<<20 {
		errs = append(errs, fmt.Errorf("PICLOUD_QUEUE_MAX_MESSAGE_BYTES is %d: it must be between 1 and 1048576 (1 MiB)", c.QueueMaxMessageBytes))
	}
	if c.MaxRequestBodyBytes < 1 {
		errs = append(errs, errors.New("PICLOUD_MAX_REQUEST_BODY_BYTES must be at least 1"))
	}
	if c.BodyReadTimeout < time.Second {
		errs = append(errs, errors.New("PICLOUD_BODY_READ_TIMEOUT_SECONDS must be at least 1"))
	}
	for _, p := range c.TrustedProxies {
		if !validProxy(p) {
			errs = append(errs, fmt.Errorf("PICLOUD_TRUSTED_PROXIES: %q is not an address or network like 127.0.0.1 or 10.0.0.0/8 (name the proxy by its address, without port)", p))
		}
	}
	for _, h := range c.AdminHosts {
		if !validHostName(h) {
			errs = append(errs, fmt.Errorf("PICLOUD_ADMIN_HOSTS: %q is not a host name or IP address (give names like pi.example.com, without scheme, port or path)", h))
		}
	}
	if c.SessionTTL < time.Minute {
		errs = append(errs, errors.New("PICLOUD_SESSION_TTL_HOURS must be positive"))
	}
	s := c.Sandbox
	if s.WallTime <= 0 || s.MaxWallTime <= 0 {
		errs = append(errs, errors.New("PICLOUD_SANDBOX_WALL_TIME_MS and PICLOUD_SANDBOX_MAX_WALL_TIME_MS must be positive"))
	} else if s.WallTime > s.MaxWallTime {
		errs = append(errs, fmt.Errorf("PICLOUD_SANDBOX_WALL_TIME_MS (%v) is above the ceiling PICLOUD_SANDBOX_MAX_WALL_TIME_MS (%v): lower it or raise the ceiling", s.WallTime, s.MaxWallTime))
	}
	for _, l := range []struct {
		name          string
		value, maxVal int
	}{
		{"RESPONSE_BYTES", s.ResponseBytes, s.MaxResponseBytes},
		{"CONSOLE_BYTES", s.ConsoleBytes, s.MaxConsoleBytes},
		{"CALL_DEPTH", s.CallDepth, s.MaxCallDepth},
		{"TIMERS", s.Timers, s.MaxTimers},
		{"SUBREQUESTS", s.Subrequests, s.MaxSubrequests},
		{"DATA_CALLS", s.DataCalls, s.MaxDataCalls},
		{"STORAGE_MB", s.StorageMB, s.MaxStorageMB},
	} {
		switch {
		case l.value < 1 || l.maxVal < 1:
			errs = append(errs, fmt.Errorf("PICLOUD_SANDBOX_%s and PICLOUD_SANDBOX_MAX_%s must be at least 1", l.name, l.name))
		case l.value > l.maxVal:
			errs = append(errs, fmt.Errorf("PICLOUD_SANDBOX_%s (%d) is above the ceiling PICLOUD_SANDBOX_MAX_%s (%d): lower it or raise the ceiling", l.name, l.value, l.name, l.maxVal))
		}
	}
	if s.MaxResponseBytes > 48<<20 {
		errs = append(errs, errors.New("PICLOUD_SANDBOX_MAX_RESPONSE_BYTES is above 48 MiB, more than an executor worker can send back"))
	}
	if f := c.Fetch; f.Timeout <= 0 || f.MaxResponseBytes < 1 {
		errs = append(errs, errors.New("PICLOUD_FETCH_TIMEOUT_MS and PICLOUD_FETCH_MAX_RESPONSE_BYTES must be positive"))
	}
	for _, n := range c.Fetch.Deny {
		if _, err := netip.ParsePrefix(n); err != nil {
			errs = append(errs, fmt.Errorf("PICLOUD_FETCH_DENY: %q is not a network like 192.168.2.0/24", n))
		}
	}
	for _, a := range c.Fetch.Allow {
		if !validAllow(a) {
			errs = append(errs, fmt.Errorf("PICLOUD_FETCH_ALLOW: %q is not an address, address:port or network like 127.0.0.1:8123 or 10.0.0.0/8", a))
		}
	}
	if e := c.Executors; (e.Mode != "process" && e.Mode != "inprocess") || e.Workers < 0 || e.Concurrency < 0 || e.KillGrace <= 0 || s.MaxMemoryMB < 0 {
		errs = append(errs, fmt.Errorf("PICLOUD_EXECUTOR_MODE %q must be process or inprocess, PICLOUD_EXECUTOR_WORKERS, PICLOUD_EXECUTOR_CONCURRENCY and PICLOUD_SANDBOX_MAX_MEMORY_MB not negative (0 is automatic), PICLOUD_EXECUTOR_KILL_GRACE_MS positive", e.Mode))
	}
	if c.Executors.User == "root" {
		errs = append(errs, errors.New("PICLOUD_EXECUTOR_USER is root: the executor workers must run as an unprivileged user (leave it empty for picloud, else nobody)"))
	}
	if c.LogResponseBytes < 0 || c.LogResponseBytes > maxLogResponseBytes {
		errs = append(errs, fmt.Errorf("PICLOUD_LOG_RESPONSE_BYTES %d: use 0 (keep no response) to %d", c.LogResponseBytes, maxLogResponseBytes))
	}
	if c.LogMaxRecords < 1 || c.LogRetention <= 0 || c.LogFlushInterval <= 0 {
		errs = append(errs, errors.New("PICLOUD_LOG_MAX_RECORDS, PICLOUD_LOG_RETENTION_HOURS and PICLOUD_LOG_FLUSH_INTERVAL_MS must be positive"))
	}
	if b := c.Backup; b.Keep < 1 || (b.Schedule > 0 && b.Schedule < time.Second) || (b.Schedule > 0 && b.Dir == "") {
		errs = append(errs, errors.New("PICLOUD_BACKUP_KEEP must be at least 1, PICLOUD_BACKUP_SCHEDULE at least 1s, and a schedule needs PICLOUD_BACKUP_DIR"))
	}
	if c.GCPercent < 10 || c.MemoryLimitMB < 0 {
		errs = append(errs, errors.New("PICLOUD_GC_PERCENT must be at least 10 and PICLOUD_MEMORY_LIMIT_MB not negative"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("PICLOUD_LOG_LEVEL %q: use debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("PICLOUD_LOG_FORMAT %q: use text or json", c.LogFormat))
	}
	return errors.Join(errs...)
}

// validate checks the SSH server's bounds.
func (s SSH) validate() []error {
	var errs []error
	if s.MaxConnections < 1 || s.MaxUnauthenticated < 1 || s.MaxUnauthenticatedPerAddress < 1 {
		errs = append(errs, errors.New("PICLOUD_SSH_MAX_CONNECTIONS, PICLOUD_SSH_MAX_UNAUTHENTICATED and PICLOUD_SSH_MAX_UNAUTHENTICATED_PER_ADDRESS must be at least 1"))
	} else if s.MaxUnauthenticatedPerAddress > s.MaxUnauthenticated {
		errs = append(errs, fmt.Errorf("PICLOUD_SSH_MAX_UNAUTHENTICATED_PER_ADDRESS (%d) is above PICLOUD_SSH_MAX_UNAUTHENTICATED (%d): one address could take every slot; lower it", s.MaxUnauthenticatedPerAddress, s.MaxUnauthenticated))
	}
	if s.HandshakeTimeout < time.Second {
		errs = append(errs, errors.New("PICLOUD_SSH_HANDSHAKE_TIMEOUT_SECONDS must be at least 1"))
	}
	return errs
}

// validHostName accepts an IP address or a DNS name of letters, digits,
// '-' and dots.
func validHostName(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// BaseURL is PublicURL, or a URL derived from the listen address.
func (c Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "http://localhost"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// maxLogResponseBytes bounds PICLOUD_LOG_RESPONSE_BYTES: each execution
// record holds that much of its response, on the SD card.
const maxLogResponseBytes = 64 << 10

// BackgroundSlots is how many executions background work may run at once:
// BackgroundSharePercent of MaxConcurrentExecutions, at least one, and one
// fewer than the cap when it allows, so that HTTP always keeps a slot.
func (c Config) BackgroundSlots() int {
	n := c.MaxConcurrentExecutions * c.BackgroundSharePercent / 100
	return max(1, min(n, c.MaxConcurrentExecutions-1))
}
