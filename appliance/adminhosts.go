package appliance

import (
	"net/url"
	"os"

	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/appliance/config"
)

// adminHosts is the set of host names the admin API answers on:
// PICLOUD_ADMIN_HOSTS, or by default the machine's name, its .local name
// and IP addresses; the host of PICLOUD_PUBLIC_URL and loopback in either
// case.
func adminHosts(cfg config.Config) *hosts.AdminHosts {
	var extra []string
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Hostname() != "" {
		extra = append(extra, u.Hostname())
	}
	if len(cfg.AdminHosts) > 0 {
		return hosts.NewAdminHosts(append(extra, cfg.AdminHosts...), false)
	}
	name, _ := os.Hostname()
	return hosts.DefaultAdminHosts(name).With(extra...)
}
