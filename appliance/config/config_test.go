package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadLayers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "picloud.conf")
	writeFile(t, file, "# comment\nPICLOUD_LISTEN=127.0.0.1:9000\nPICLOUD_SESSION_TTL_HOURS = 2\nPICLOUD_LOG_LEVEL=\"debug\"\n")
	cfg, err := Load(file, []string{"PICLOUD_SESSION_TTL_HOURS=3", "HOME=/x", "DATABASE_URL=postgres://db/x"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9000" {
		t.Errorf("Listen = %q, want the file's value", cfg.Listen)
	}
	if cfg.SessionTTL != 3*time.Hour {
		t.Errorf("SessionTTL = %v, want the environment's 3h over the file's 2h", cfg.SessionTTL)
	}
	if cfg.LogLevel != "debug" {
		t.Errorf("LogLevel = %q, want quotes stripped", cfg.LogLevel)
	}
	if cfg.DatabaseURL != "postgres://db/x" {
		t.Errorf("DatabaseURL = %q", cfg.DatabaseURL)
	}
	if cfg.MaxConcurrentExecutions != 32 || cfg.Sandbox.WallTime != 5*time.Second {
		t.Errorf("defaults lost: %+v", cfg)
	}
}

func TestLoadMissingDefaultFileIsFine(t *testing.T) {
	if _, err := os.Stat(DefaultFile); err == nil {
		t.Skip(DefaultFile + " exists on this machine")
	}
	if _, err := Load("", nil); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	writeFile(t, bad, "PICLOUD_LISTEN\n")
	for _, tc := range []struct {
		name, file string
		env        []string
		want       string
	}{
		{"explicit file missing", filepath.Join(dir, "nope.conf"), nil, "no such file"},
		{"line without =", bad, nil, "bad.conf:1: expected KEY=VALUE"},
		{"unknown key", "", []string{"PICLOUD_LISTN=:1"}, "unknown setting PICLOUD_LISTN"},
		{"not a number", "", []string{"PICLOUD_MAX_CONCURRENT_EXECUTIONS=many"}, "environment variable PICLOUD_MAX_CONCURRENT_EXECUTIONS: \"many\" is not a whole number"},
		{"zero cap", "", []string{"PICLOUD_MAX_CONCURRENT_EXECUTIONS=0"}, "must be at least 1"},
		{"bad listen", "", []string{"PICLOUD_LISTEN=8080"}, "is not host:port"},
		{"default above ceiling", "", []string{"PICLOUD_SANDBOX_WALL_TIME_MS=60000", "PICLOUD_SANDBOX_MAX_WALL_TIME_MS=1000"}, "above the ceiling"},
		{"bad level", "", []string{"PICLOUD_LOG_LEVEL=loud"}, "use debug, info, warn or error"},
		{"admin host with a port", "", []string{"PICLOUD_ADMIN_HOSTS=pi.example.com, pi.local:8080"}, `PICLOUD_ADMIN_HOSTS: "pi.local:8080" is not a host name`},
		{"admin host URL", "", []string{"PICLOUD_ADMIN_HOSTS=https://pi.example.com"}, "is not a host name"},
		{"no SSH handshake time", "", []string{"PICLOUD_SSH_HANDSHAKE_TIMEOUT_SECONDS=0"}, "PICLOUD_SSH_HANDSHAKE_TIMEOUT_SECONDS must be at least 1"},
		{"no SSH connections", "", []string{"PICLOUD_SSH_MAX_CONNECTIONS=0"}, "PICLOUD_SSH_MAX_CONNECTIONS"},
		{"per address above all", "", []string{"PICLOUD_SSH_MAX_UNAUTHENTICATED=8", "PICLOUD_SSH_MAX_UNAUTHENTICATED_PER_ADDRESS=9"}, "PICLOUD_SSH_MAX_UNAUTHENTICATED_PER_ADDRESS (9) is above PICLOUD_SSH_MAX_UNAUTHENTICATED (8)"},
		{"negative idle timeout", "", []string{"PICLOUD_SSH_IDLE_TIMEOUT_SECONDS=-1"}, "PICLOUD_SSH_IDLE_TIMEOUT_SECONDS: \"-1\" is not a non-negative whole number"},
		{"no body time", "", []string{"PICLOUD_BODY_READ_TIMEOUT_SECONDS=0"}, "PICLOUD_BODY_READ_TIMEOUT_SECONDS must be at least 1"},
		{"proxy by name", "", []string{"PICLOUD_TRUSTED_PROXIES=127.0.0.1, caddy"}, `PICLOUD_TRUSTED_PROXIES: "caddy" is not an address or network`},
		{"proxy with a port", "", []string{"PICLOUD_TRUSTED_PROXIES=127.0.0.1:443"}, `"127.0.0.1:443" is not an address or network`},
		{"workers as root", "", []string{"PICLOUD_EXECUTOR_USER=root"}, "PICLOUD_EXECUTOR_USER is root: the executor workers must run as an unprivileged user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.file, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSSHBounds(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "empty.conf")
	writeFile(t, conf, "")
	cfg, err := Load(conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := SSH{MaxConnections: 16, MaxUnauthenticated: 32, MaxUnauthenticatedPerAddress: 4,
		HandshakeTimeout: 10 * time.Second, IdleTimeout: 30 * time.Minute, MaxSession: 12 * time.Hour}
	if cfg.SSH != want {
		t.Errorf("defaults: %+v, want %+v", cfg.SSH, want)
	}
	cfg, err = Load(conf, []string{"PICLOUD_SSH_HANDSHAKE_TIMEOUT_SECONDS=3", "PICLOUD_SSH_IDLE_TIMEOUT_SECONDS=0",
		"PICLOUD_SSH_MAX_SESSION_MINUTES=90", "PICLOUD_SSH_MAX_UNAUTHENTICATED_PER_ADDRESS=1"})
	if err != nil {
		t.Fatal(err)
	}
	want.HandshakeTimeout, want.IdleTimeout, want.MaxSession, want.MaxUnauthenticatedPerAddress = 3*time.Second, 0, 90*time.Minute, 1
	if cfg.SSH != want {
		t.Errorf("set: %+v, want %+v", cfg.SSH, want)
	}
}

func TestAdminHosts(t *testing.T) {
	cfg, err := Load("", []string{"PICLOUD_ADMIN_HOSTS= pi.example.com, 192.168.1.20,,::1 "})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.AdminHosts, " "); got != "pi.example.com 192.168.1.20 ::1" {
		t.Fatalf("AdminHosts = %q", got)
	}
}

func TestTrustedProxies(t *testing.T) {
	cfg, err := Load("", []string{"PICLOUD_TRUSTED_PROXIES=127.0.0.1, ::1,10.0.0.0/8 ,fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.TrustedProxies, " "); got != "127.0.0.1 ::1 10.0.0.0/8 fd00::/8" {
		t.Fatalf("TrustedProxies = %q", got)
	}
	if cfg, err := Load("", nil); err != nil || cfg.TrustedProxies != nil {
		t.Fatalf("default TrustedProxies = %q, %v; want none", cfg.TrustedProxies, err)
	}
}

func TestBaseURL(t *testing.T) {
	for listen, want := range map[string]string{":8080": "http://localhost:8080", "127.0.0.1:81": "http://127.0.0.1:81", "[::]:80": "http://localhost:80"} {
		c := Default()
		c.Listen = listen
		if got := c.BaseURL(); got != want {
			t.Errorf("BaseURL(%q) = %q, want %q", listen, got, want)
		}
	}
	c := Default()
	c.PublicURL = "https://pi.example.com/"
	if got := c.BaseURL(); got != "https://pi.example.com" {
		t.Errorf("BaseURL = %q", got)
	}
}

// TestDocsListEveryKey keeps docs/configuration.md true to Keys.
func TestDocsListEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys {
		if !strings.Contains(string(doc), "`"+k.Name+"`") {
			t.Errorf("docs/configuration.md does not document %s", k.Name)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAdminSocketDefault(t *testing.T) {
	t.Setenv("RUNTIME_DIRECTORY", "")
	dir := t.TempDir()
	conf := filepath.Join(dir, "empty.conf")
	writeFile(t, conf, "")
	cfg, err := Load(conf, []string{"PICLOUD_DATA_DIR=/srv/pi"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AdminSocket != "/srv/pi/admin.sock" || cfg.SSHBind != ":2222" {
		t.Errorf("defaults: socket %q, SSH %q", cfg.AdminSocket, cfg.SSHBind)
	}
	t.Setenv("RUNTIME_DIRECTORY", "/run/picloud")
	if cfg, _ = Load(conf, nil); cfg.AdminSocket != "/run/picloud/admin.sock" {
		t.Errorf("with a runtime directory: %q", cfg.AdminSocket)
	}
	if cfg, _ = Load(conf, []string{"PICLOUD_ADMIN_SOCKET=", "PICLOUD_SSH_BIND="}); cfg.AdminSocket != "" || cfg.SSHBind != "" {
		t.Errorf("disabled: socket %q, SSH %q", cfg.AdminSocket, cfg.SSHBind)
	}
	if _, err := Load(conf, []string{"PICLOUD_SSH_BIND=2222"}); err == nil || !strings.Contains(err.Error(), "PICLOUD_SSH_BIND") {
		t.Errorf("bad SSH address: %v", err)
	}
}

// TestSMTP checks the relay's settings: read together, and each mistake
// refused naming the setting.
func TestSMTP(t *testing.T) {
	cfg, err := Load("", []string{"PICLOUD_SMTP_RELAY=smtp.example.com:587", "PICLOUD_SMTP_USER=pi",
		"PICLOUD_SMTP_PASSWORD_FILE=/etc/picloud/smtp", "PICLOUD_SMTP_SENDERS=news@example.com, @shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	want := SMTP{Relay: "smtp.example.com:587", User: "pi", PasswordFile: "/etc/picloud/smtp", Senders: []string{"news@example.com", "@shop.example"}}
	if cfg.SMTP.Relay != want.Relay || cfg.SMTP.User != want.User || cfg.SMTP.PasswordFile != want.PasswordFile ||
		strings.Join(cfg.SMTP.Senders, " ") != strings.Join(want.Senders, " ") {
		t.Errorf("SMTP = %+v, want %+v", cfg.SMTP, want)
	}
	// Inbound email is off by default, and needs no relay.
	if cfg.SMTP.Bind != "" || cfg.SMTP.MaxMessageBytes != 1<<20 || cfg.SMTP.MaxMessagesPerMinute != 60 {
		t.Errorf("inbound defaults: %+v", cfg.SMTP)
	}
	if in, err := Load("", []string{"PICLOUD_SMTP_BIND=:2525"}); err != nil || in.SMTP.Bind != ":2525" {
		t.Errorf("PICLOUD_SMTP_BIND alone: %+v, %v", in.SMTP, err)
	}
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"PICLOUD_SMTP_RELAY=smtp.example.com", "PICLOUD_SMTP_SENDERS=@x.example"}, "PICLOUD_SMTP_RELAY"},
		{[]string{"PICLOUD_SMTP_RELAY=smtp.example.com:25"}, "PICLOUD_SMTP_SENDERS is empty"},
		{[]string{"PICLOUD_SMTP_RELAY=smtp.example.com:25", "PICLOUD_SMTP_SENDERS=example.com"}, "neither an address"},
		{[]string{"PICLOUD_SMTP_RELAY=smtp.example.com:25", "PICLOUD_SMTP_SENDERS=@x.example", "PICLOUD_SMTP_USER=pi"}, "go together"},
		{[]string{"PICLOUD_SMTP_SENDERS=@x.example"}, "need PICLOUD_SMTP_RELAY"},
		{[]string{"PICLOUD_SMTP_BIND=2525"}, "PICLOUD_SMTP_BIND"},
		{[]string{"PICLOUD_SMTP_MAX_MESSAGE_BYTES=100"}, "PICLOUD_SMTP_MAX_MESSAGE_BYTES is 100"},
		{[]string{"PICLOUD_SMTP_MAX_MESSAGE_BYTES=26214401"}, "between 1024 and 26214400"},
		{[]string{"PICLOUD_SMTP_MAX_MESSAGES_PER_MINUTE=0"}, "PICLOUD_SMTP_MAX_MESSAGES_PER_MINUTE is 0"},
	} {
		if _, err := Load("", c.env); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%v): %v, want an error saying %q", c.env, err, c.want)
		}
	}
}
