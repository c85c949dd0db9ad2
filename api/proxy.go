package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"
)

// httpsKey marks a request that reached the client over HTTPS: TLS on its
// own connection, or a trusted proxy's X-Forwarded-Proto.
const httpsKey = "picloud.https"

// trustedProxies are the reverse proxies whose forwarded headers count:
// X-Forwarded-For for the client's address (through gin's ClientIP) and
// X-Forwarded-Proto for the scheme. From anyone else both are ignored.
type trustedProxies []netip.Prefix

// parseTrustedProxies reads addresses and networks (CIDRs).
func parseTrustedProxies(list []string) (trustedProxies, error) {
	var out trustedProxies
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not an address or a network like 10.0.0.0/8", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// trusts reports whether a connection from remoteAddr (host:port) comes
// from a trusted proxy.
func (t trustedProxies) trusts(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// viaHTTPS reports whether the client reached the daemon over HTTPS: the
// connection has TLS, or it comes from a trusted proxy that says, in
// X-Forwarded-Proto, that its own client used https.
func (t trustedProxies) viaHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !t.trusts(r.RemoteAddr) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// markHTTPS records for the handlers whether the request came over HTTPS.
func (s *server) markHTTPS(c *gin.Context) {
	c.Set(httpsKey, s.proxies.viaHTTPS(c.Request))
	c.Next()
}

// isHTTPS reports whether the client reached the daemon over HTTPS, so that
// its session cookie is Secure.
func isHTTPS(c *gin.Context) bool { return c.GetBool(httpsKey) }
