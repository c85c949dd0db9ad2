package config

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Key is one configuration setting, the same name in the file and the
// environment.
type Key struct {
	Name string
	Doc  string
	set  func(c *Config, v string) error
}

// Keys lists every setting; docs/configuration.md is checked against it.
var Keys = []Key{
	{"PICLOUD_LISTEN", "HTTP listen address, host:port.", str(func(c *Config) *string { return &c.Listen })},
	{"PICLOUD_PUBLIC_URL", "Base URL people use to reach the platform, reported by /version.", str(func(c *Config) *string { return &c.PublicURL })},
	{"PICLOUD_DATA_DIR", "Directory for PiCloud's state, including the private PostgreSQL cluster.", str(func(c *Config) *string { return &c.DataDir })},
	{"DATABASE_URL", "PostgreSQL connection URL; when set, the private cluster is not started.", str(func(c *Config) *string { return &c.DatabaseURL })},
	{"PICLOUD_DATABASE_URL", "Same as DATABASE_URL.", str(func(c *Config) *string { return &c.DatabaseURL })},
	{"PICLOUD_POSTGRES_BIN_DIR", "Directory of the PostgreSQL server binaries (default: the newest /usr/lib/postgresql/N/bin).", str(func(c *Config) *string { return &c.PostgresBinDir })},
	{"PICLOUD_POSTGRES_USER", "Unprivileged user the private cluster runs as when PiCloud runs as root.", str(func(c *Config) *string { return &c.PostgresUser })},
	{"PICLOUD_SESSION_TTL_HOURS", "Hours an idle admin session stays valid; each use extends it.", dur(time.Hour, func(c *Config) *time.Duration { return &c.SessionTTL })},
	{"PICLOUD_MAX_CONCURRENT_EXECUTIONS", "Scripts running at once; requests past it get 503 with Retry-After: 1.", integer(func(c *Config) *int { return &c.MaxConcurrentExecutions })},
	{"PICLOUD_BACKGROUND_SHARE_PERCENT", "Percent of PICLOUD_MAX_CONCURRENT_EXECUTIONS that background work (cron runs) may use; the rest stays free for HTTP.", integer(func(c *Config) *int { return &c.BackgroundSharePercent })},
	{"PICLOUD_CRON_SECONDS", "For tests: cron schedules take a leading seconds field (6 fields). Leave it off.", boolean(func(c *Config) *bool { return &c.CronSeconds })},
	{"PICLOUD_QUEUE_MAX_MESSAGE_BYTES", "Largest queue message body, as JSON, a script may send; at most 1048576.", integer(func(c *Config) *int { return &c.QueueMaxMessageBytes })},
	{"PICLOUD_SMTP_RELAY", "SMTP relay of scripts' outbound email, host:port; empty: email.send is refused.", str(func(c *Config) *string { return &c.SMTP.Relay })},
	{"PICLOUD_SMTP_USER", "User that signs in to the SMTP relay; empty: no sign-in.", str(func(c *Config) *string { return &c.SMTP.User })},
	{"PICLOUD_SMTP_PASSWORD_FILE", "File holding the SMTP relay's password, read at start.", str(func(c *Config) *string { return &c.SMTP.PasswordFile })},
	{"PICLOUD_SMTP_SENDERS", "Comma-separated addresses, or @domains, that scripts may send email from.", list(func(c *Config) *[]string { return &c.SMTP.Senders })},
	{"PICLOUD_SMTP_BIND", "Listen address of the inbound SMTP server that receives mail for email triggers, host:port; empty: no inbound email.", str(func(c *Config) *string { return &c.SMTP.Bind })},
	{"PICLOUD_SMTP_MAX_MESSAGE_BYTES", "Largest message the inbound SMTP server accepts; at most 26214400.", integer(func(c *Config) *int { return &c.SMTP.MaxMessageBytes })},
	{"PICLOUD_SMTP_MAX_MESSAGES_PER_MINUTE", "Messages one client address may send the inbound SMTP server per minute; past it, 421.", integer(func(c *Config) *int { return &c.SMTP.MaxMessagesPerMinute })},
	{"PICLOUD_MAX_REQUEST_BODY_BYTES", "Largest request body a script receives; larger ones get 413.", int64Key(func(c *Config) *int64 { return &c.MaxRequestBodyBytes })},
	{"PICLOUD_BODY_READ_TIMEOUT_SECONDS", "Longest time a client may take to send a request body, from the end of its headers; past it, 408 and the connection is closed.", dur(time.Second, func(c *Config) *time.Duration { return &c.BodyReadTimeout })},
	{"PICLOUD_ADMIN_HOSTS", "Comma-separated host names the admin API answers on, besides localhost; default: the machine's name, its .local name and IP addresses.", list(func(c *Config) *[]string { return &c.AdminHosts })},
	{"PICLOUD_TRUSTED_PROXIES", "Comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed; from anyone else they are ignored.", list(func(c *Config) *[]string { return &c.TrustedProxies })},
	{"PICLOUD_ADMIN_SOCKET", "Unix socket of the admin API on the board, for picloud tui; requests over it act as the local owner. Empty disables it.", str(func(c *Config) *string { return &c.AdminSocket })},
	{"PICLOUD_SSH_BIND", "Listen address of the SSH server that serves the terminal UI to registered keys, host:port; empty disables it.", str(func(c *Config) *string { return &c.SSHBind })},
	{"PICLOUD_SSH_MAX_CONNECTIONS", "Signed-in SSH connections at once.", integer(func(c *Config) *int { return &c.SSH.MaxConnections })},
	{"PICLOUD_SSH_MAX_UNAUTHENTICATED", "SSH connections not signed in yet at once; past it a connection is closed at once.", integer(func(c *Config) *int { return &c.SSH.MaxUnauthenticated })},
	{"PICLOUD_SSH_MAX_UNAUTHENTICATED_PER_ADDRESS", "SSH connections not signed in yet from one client address (IPv4 address, IPv6 /64) at once.", integer(func(c *Config) *int { return &c.SSH.MaxUnauthenticatedPerAddress })},
	{"PICLOUD_SSH_HANDSHAKE_TIMEOUT_SECONDS", "Time an SSH connection has to finish its handshake and sign in.", dur(time.Second, func(c *Config) *time.Duration { return &c.SSH.HandshakeTimeout })},
	{"PICLOUD_SSH_IDLE_TIMEOUT_SECONDS", "A signed-in SSH connection without input for this long is closed; 0 never.", dur(time.Second, func(c *Config) *time.Duration { return &c.SSH.IdleTimeout })},
	{"PICLOUD_SSH_MAX_SESSION_MINUTES", "A signed-in SSH connection is closed this long after its sign-in; 0 never.", dur(time.Minute, func(c *Config) *time.Duration { return &c.SSH.MaxSession })},
	{"PICLOUD_SANDBOX_WALL_TIME_MS", "Default wall-time limit of one execution, in milliseconds.", dur(time.Millisecond, func(c *Config) *time.Duration { return &c.Sandbox.WallTime })},
	{"PICLOUD_SANDBOX_MAX_WALL_TIME_MS", "Ceiling of the wall-time limit that no script setting may pass.", dur(time.Millisecond, func(c *Config) *time.Duration { return &c.Sandbox.MaxWallTime })},
	{"PICLOUD_SANDBOX_RESPONSE_BYTES", "Default largest response body of a script (limit.output).", integer(func(c *Config) *int { return &c.Sandbox.ResponseBytes })},
	{"PICLOUD_SANDBOX_MAX_RESPONSE_BYTES", "Ceiling of the response size limit that no script setting may pass.", integer(func(c *Config) *int { return &c.Sandbox.MaxResponseBytes })},
	{"PICLOUD_SANDBOX_CONSOLE_BYTES", "Default console output of one execution; past it the execution ends (limit.console).", integer(func(c *Config) *int { return &c.Sandbox.ConsoleBytes })},
	{"PICLOUD_SANDBOX_MAX_CONSOLE_BYTES", "Ceiling of the console limit that no script setting may pass.", integer(func(c *Config) *int { return &c.Sandbox.MaxConsoleBytes })},
	{"PICLOUD_SANDBOX_CALL_DEPTH", "Default depth of nested JavaScript calls (limit.stack).", integer(func(c *Config) *int { return &c.Sandbox.CallDepth })},
	{"PICLOUD_SANDBOX_MAX_CALL_DEPTH", "Ceiling of the call depth limit that no script setting may pass.", integer(func(c *Config) *int { return &c.Sandbox.MaxCallDepth })},
	{"PICLOUD_SANDBOX_TIMERS", "Default number of timers an execution may have pending at once (limit.timers).", integer(func(c *Config) *int { return &c.Sandbox.Timers })},
	{"PICLOUD_SANDBOX_MAX_TIMERS", "Ceiling of the timers limit that no script setting may pass.", integer(func(c *Config) *int { return &c.Sandbox.MaxTimers })},
	{"PICLOUD_SANDBOX_SUBREQUESTS", "Default number of fetch and invoke calls per execution (limit.subrequests).", integer(func(c *Config) *int { return &c.Sandbox.Subrequests })},
	{"PICLOUD_SANDBOX_MAX_SUBREQUESTS", "Ceiling of the subrequests limit that no script setting may pass.", integer(func(c *Config) *int { return &c.Sandbox.MaxSubrequests })},
	{"PICLOUD_SANDBOX_DATA_CALLS", "Default number of data (kv) calls per execution (limit.data_calls).", integer(func(c *Config) *int { return &c.Sandbox.DataCalls })},
	{"PICLOUD_SANDBOX_MAX_DATA_CALLS", "Ceiling of the data calls limit that no script setting may pass.", integer(func(c *Config) *int { return &c.Sandbox.MaxDataCalls })},
	{"PICLOUD_SANDBOX_STORAGE_MB", "Default storage quota of an app's data (kv), in MiB (limit.storage).", integer(func(c *Config) *int { return &c.Sandbox.StorageMB })},
	{"PICLOUD_SANDBOX_MAX_STORAGE_MB", "Ceiling of the storage quota that no app's own may pass, in MiB.", integer(func(c *Config) *int { return &c.Sandbox.MaxStorageMB })},
	{"PICLOUD_SANDBOX_MAX_MEMORY_MB", "Resident memory ceiling of each executor worker; 0 chooses from the machine's memory.", integer(func(c *Config) *int { return &c.Sandbox.MaxMemoryMB })},
	{"PICLOUD_FETCH_HOSTS", "Comma-separated hosts scripts may fetch from (exact, or *.example.com); empty allows every host the rules below allow.", list(func(c *Config) *[]string { return &c.Fetch.Hosts })},
	{"PICLOUD_FETCH_PRIVATE_NETWORKS", "true lets scripts reach private networks (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10); false refuses them.", boolean(func(c *Config) *bool { return &c.Fetch.PrivateNetworks })},
	{"PICLOUD_FETCH_DENY", "Comma-separated networks scripts may not reach, on top of the built-in rules.", list(func(c *Config) *[]string { return &c.Fetch.Deny })},
	{"PICLOUD_FETCH_ALLOW", "Comma-separated addresses, address:port pairs or networks let through the built-in rules (e.g. 127.0.0.1:8123 for a service on the board); never the ports PiCloud itself listens on.", list(func(c *Config) *[]string { return &c.Fetch.Allow })},
	{"PICLOUD_FETCH_TIMEOUT_MS", "Time limit of one fetch, response body included.", dur(time.Millisecond, func(c *Config) *time.Duration { return &c.Fetch.Timeout })},
	{"PICLOUD_FETCH_MAX_RESPONSE_BYTES", "Largest response body a fetch reads.", int64Key(func(c *Config) *int64 { return &c.Fetch.MaxResponseBytes })},
	{"PICLOUD_EXECUTOR_MODE", "process (supervised worker processes) or inprocess (unprotected, for debugging).", str(func(c *Config) *string { return &c.Executors.Mode })},
	{"PICLOUD_EXECUTOR_WORKERS", "Executor worker processes; 0 chooses from the machine's cores and memory.", integer(func(c *Config) *int { return &c.Executors.Workers })},
	{"PICLOUD_EXECUTOR_CONCURRENCY", "Executions one worker runs at once; 0 spreads PICLOUD_MAX_CONCURRENT_EXECUTIONS over the workers.", integer(func(c *Config) *int { return &c.Executors.Concurrency })},
	{"PICLOUD_EXECUTOR_KILL_GRACE_MS", "How long past its wall time an execution may run before its worker is killed.", dur(time.Millisecond, func(c *Config) *time.Duration { return &c.Executors.KillGrace })},
	{"PICLOUD_EXECUTOR_USER", "Unprivileged user the executor workers run as when PiCloud runs as root; empty means picloud, else nobody.", str(func(c *Config) *string { return &c.Executors.User })},
	{"PICLOUD_LOG_RETENTION_HOURS", "Age after which execution records are deleted.", dur(time.Hour, func(c *Config) *time.Duration { return &c.LogRetention })},
	{"PICLOUD_LOG_MAX_RECORDS", "Most execution records kept; the oldest go first.", integer(func(c *Config) *int { return &c.LogMaxRecords })},
	{"PICLOUD_LOG_RESPONSE_BYTES", "How much of each response's body an execution record keeps, with its headers (0 to 65536; 0 keeps no response).", integer(func(c *Config) *int { return &c.LogResponseBytes })},
	{"PICLOUD_LOG_FLUSH_INTERVAL_MS", "How often buffered execution records are written to the database.", dur(time.Millisecond, func(c *Config) *time.Duration { return &c.LogFlushInterval })},
	{"PICLOUD_BACKUP_DIR", "Directory the daemon writes scheduled backups to; empty means no scheduled backups.", str(func(c *Config) *string { return &c.Backup.Dir })},
	{"PICLOUD_BACKUP_SCHEDULE", "Time between scheduled backups, as a Go duration (24h, 6h, 30m); 0 or empty means none.", goDuration(func(c *Config) *time.Duration { return &c.Backup.Schedule })},
	{"PICLOUD_BACKUP_KEEP", "Scheduled backups kept in PICLOUD_BACKUP_DIR; the oldest are deleted.", integer(func(c *Config) *int { return &c.Backup.Keep })},
	{"PICLOUD_BACKUP_PASSPHRASE_FILE", "File (mode 0600) whose first line is the passphrase of scheduled backups; without it their secrets cannot be restored.", str(func(c *Config) *string { return &c.Backup.PassphraseFile })},
	{"PICLOUD_GC_PERCENT", "Go garbage collector target (like GOGC) of the daemon and the workers (at most 150 for the workers under 1 GB of memory); higher is faster and uses more memory.", integer(func(c *Config) *int { return &c.GCPercent })},
	{"PICLOUD_MEMORY_LIMIT_MB", "Soft memory limit of the daemon (like GOMEMLIMIT); 0 means a twentieth of the machine's memory, from 24 to 128 MiB.", integer(func(c *Config) *int { return &c.MemoryLimitMB })},
	{"PICLOUD_SHUTDOWN_TIMEOUT_SECONDS", "How long SIGTERM waits for in-flight requests.", dur(time.Second, func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"PICLOUD_LOG_LEVEL", "debug, info, warn or error.", str(func(c *Config) *string { return &c.LogLevel })},
	{"PICLOUD_LOG_FORMAT", "text or json.", str(func(c *Config) *string { return &c.LogFormat })},
}

type source struct{ value, where string }

// apply sets each known key; an unknown PICLOUD_* key is an error, so that a
// typo does not go unnoticed.
func apply(c *Config, values map[string]source) error {
	known := map[string]Key{}
	for _, k := range Keys {
		known[k.Name] = k
	}
	for name, src := range values {
		k, ok := known[name]
		if !ok {
			if strings.HasPrefix(name, "PICLOUD_CONFIG") {
				continue
			}
			return fmt.Errorf("%s: unknown setting %s (see docs/configuration.md)", src.where, name)
		}
		if err := k.set(c, strings.TrimSpace(src.value)); err != nil {
			return fmt.Errorf("%s: %w", src.where, err)
		}
	}
	return nil
}

// readFile reads KEY=VALUE lines; blank lines and lines starting with # are
// skipped, values may be quoted.
func readFile(path string, into map[string]source) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read configuration: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%s:%d: expected KEY=VALUE, got %q", path, n, line)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		into[strings.TrimSpace(k)] = source{value: v, where: fmt.Sprintf("%s:%d", path, n)}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read configuration %s: %w", path, err)
	}
	return nil
}

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

func integer(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*field(c) = n
		return nil
	}
}

func int64Key(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*field(c) = n
		return nil
	}
}

func dur(unit time.Duration, field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a non-negative whole number", v)
		}
		*field(c) = time.Duration(n) * unit
		return nil
	}
}

// goDuration reads a Go duration (24h, 90m); empty is 0.
func goDuration(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v == "" {
			*field(c) = 0
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration such as 24h or 30m", v)
		}
		*field(c) = d
		return nil
	}
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*field(c) = b
		return nil
	}
}

func list(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		var out []string
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		*field(c) = out
		return nil
	}
}
