package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/picloud/picloud/appliance/config"
)

// FirstUserHint is how to create the first admin user of the packaged
// service: as the service's user, with the service's environment (its state
// directory and the database the package made).
const FirstUserHint = `printf '%s' 'a long password' | sudo systemd-run --quiet --pipe --wait \
    -p User=picloud -p StateDirectory=picloud -p EnvironmentFile=-/var/lib/picloud/database.env \
    /usr/bin/picloud user add admin --password-stdin`

// setupState is the answer of GET /api/v1/admin/setup.
type setupState struct {
	Needed    bool      `json:"needed"`
	ExpiresAt time.Time `json:"expires_at"`
}

// printSetup tells how to create the first owner while no user exists:
// over HTTP with the setup token, or with picloud user add on the board.
// When the daemon cannot say, it gives the command anyway.
func printSetup(w io.Writer, cfg config.Config, client *http.Client, local string) {
	var st setupState
	res, err := client.Get(local + "/api/v1/admin/setup")
	if err == nil {
		if res.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET /api/v1/admin/setup: %s", res.Status)
		} else {
			err = json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&st)
		}
		res.Body.Close()
	}
	if err == nil && !st.Needed {
		fmt.Fprintf(w, "  users:   set up; log in with POST %s/api/v1/admin/auth/login\n", cfg.BaseURL())
		return
	}
	fmt.Fprintln(w, "\nNo user exists yet. Create the first owner")
	path := SetupTokenPath(cfg)
	switch {
	case err != nil || path == "":
	case st.ExpiresAt.IsZero() || time.Now().After(st.ExpiresAt):
		fmt.Fprintln(w, "  over HTTP: the one-time setup token expired; restart the daemon for a new one\n    (sudo systemctl restart picloud), or")
	default:
		cat := "cat"
		if f, err := os.Open(path); err != nil {
			cat = "sudo cat"
		} else {
			f.Close()
		}
		fmt.Fprintf(w, "  over HTTP, with the one-time setup token in %s (valid until %s):\n", path, st.ExpiresAt.Local().Format("2006-01-02 15:04 MST"))
		fmt.Fprintf(w, "    curl -X POST %s/api/v1/admin/setup -H 'Content-Type: application/json' \\\n", cfg.BaseURL())
		fmt.Fprintf(w, "      -d \"{\\\"token\\\":\\\"$(%s %s)\\\",\\\"username\\\":\\\"admin\\\",\\\"password\\\":\\\"a long password\\\"}\"\n", cat, path)
		fmt.Fprintln(w, "  or")
	}
	fmt.Fprintf(w, "  on the board:\n    %s\n", strings.ReplaceAll(firstUserCommand(cfg, os.Args[0]), "\n", "\n    "))
}

// packagedDataDir is the packaged service's state directory.
const packagedDataDir = "/var/lib/picloud"

// firstUserCommand is the command that makes the first owner for the
// daemon cfg describes: the packaged service's (FirstUserHint) when it
// keeps its data where the package does, else this program (self, as it
// was invoked) run by the same user with the same environment, as after
// `make run`.
func firstUserCommand(cfg config.Config, self string) string {
	if isPackaged(cfg) {
		return FirstUserHint
	}
	return "printf '%s' 'a long password' | " + self + " user add admin --password-stdin"
}

// settingHint says where to change the setting name for the daemon cfg
// describes: the packaged service reads /etc/picloud/picloud.conf; a daemon
// started by hand (make run) reads its environment.
func settingHint(cfg config.Config, name string) string {
	if isPackaged(cfg) {
		return "set " + name + " in " + config.DefaultFile
	}
	return "set " + name + " in the daemon's environment, e.g. " + name + "=… make run"
}

// isPackaged reports whether cfg keeps its data where the package does.
func isPackaged(cfg config.Config) bool {
	return cfg.DataDir == packagedDataDir || cfg.DataDir == ""
}

// Status tells whether the daemon configured by cfg answers, how to reach it
// and how to create the first user. It returns an error when the daemon does
// not answer or is unhealthy.
func Status(ctx context.Context, cfg config.Config, w io.Writer) error {
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return fmt.Errorf("PICLOUD_LISTEN %q: %w", cfg.Listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	local := "http://" + net.JoinHostPort(host, port)
	client := &http.Client{Timeout: 5 * time.Second}

	fmt.Fprintf(w, "PiCloud at %s\n", cfg.BaseURL())
	res, err := client.Get(local + "/healthz")
	if err != nil {
		fmt.Fprintf(w, "  daemon:  not answering on %s (%v)\n", local, err)
		fmt.Fprintln(w, "  see:     systemctl status picloud; journalctl -u picloud -e")
		return fmt.Errorf("the daemon does not answer on %s", local)
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	res.Body.Close()
	healthy := res.StatusCode == http.StatusOK
	if healthy {
		fmt.Fprintln(w, "  daemon:  running and healthy")
	} else {
		fmt.Fprintf(w, "  daemon:  running but unhealthy: %s\n", body)
	}
	if res, err := client.Get(local + "/version"); err == nil {
		var v map[string]any
		_ = json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&v)
		res.Body.Close()
		fmt.Fprintf(w, "  version: %v (schema %v)\n", v["picloud"], v["schema"])
	}
	if name, err := os.Hostname(); err == nil && cfg.PublicURL == "" {
		fmt.Fprintf(w, "  from other machines: http://%s.local:%s (%s)\n", name, port, settingHint(cfg, "PICLOUD_PUBLIC_URL"))
	}
	if cfg.DataDir != "" {
		if total, free, err := diskUsage(cfg.DataDir); err == nil {
			fmt.Fprintf(w, "  disk:    %s free of %s (%s)\n", humanBytes(free), humanBytes(total), cfg.DataDir)
			if warn := diskWarning(total, free); warn != "" {
				fmt.Fprintf(w, "  warning: %s\n", warn)
			}
		}
	}
	fmt.Fprintf(w, "  admin API: %s/api/v1/admin (docs/api.md)\n", cfg.BaseURL())
	printTerminal(w, cfg)
	printSetup(w, cfg, client, local)
	if !healthy {
		return fmt.Errorf("the daemon is unhealthy")
	}
	return nil
}

// printTerminal tells how to reach the terminal UI: on the board through
// the admin socket, from elsewhere over SSH.
func printTerminal(w io.Writer, cfg config.Config) {
	if cfg.AdminSocket != "" {
		fmt.Fprintf(w, "  terminal:  picloud tui (through %s)\n", cfg.AdminSocket)
	}
	if cfg.SSHBind != "" {
		host, port, _ := net.SplitHostPort(cfg.SSHBind)
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "localhost"
			if name, err := os.Hostname(); err == nil {
				host = name + ".local"
			}
		}
		fmt.Fprintf(w, "  ssh:       ssh -p %s %s (with a key registered by picloud user add-key NAME < KEY.pub)\n", port, host)
	}
}
