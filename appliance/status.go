package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/picloud/picloud/appliance/config"
)

// FirstUserHint is how to create the first admin user of the packaged
// service: as the service's user, with the service's environment (its state
// directory and the database the package made).
const FirstUserHint = `printf '%s' 'a long password' | sudo systemd-run --quiet --pipe --wait \
    -p User=picloud -p StateDirectory=picloud -p EnvironmentFile=-/var/lib/picloud/database.env \
    /usr/bin/picloud user add admin --password-stdin`

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
		fmt.Fprintf(w, "  from other machines: http://%s.local:%s (set PICLOUD_PUBLIC_URL in %s)\n", name, port, config.DefaultFile)
	}
	fmt.Fprintf(w, "  dashboard: %s/admin/\n\nNo user exists by default. Create the first one with:\n  %s\n", cfg.BaseURL(), FirstUserHint)
	if !healthy {
		return fmt.Errorf("the daemon is unhealthy")
	}
	return nil
}
