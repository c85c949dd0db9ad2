package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// adminHost answers 421 to an admin request whose Host is not an admin
// host: a page on a hostile name that resolves to the board (DNS
// rebinding), or an app's domain, gets nothing of the admin API.
func (s *server) adminHost(c *gin.Context) {
	if !s.adminHosts.Allows(c.Request.Host) {
		writeError(c, http.StatusMisdirectedRequest, "the admin API does not answer on the host name "+quoteHost(c.Request.Host)+
			"; use the board's own name or address, or add this name to PICLOUD_ADMIN_HOSTS if it is the board's")
		return
	}
	c.Next()
}

// quoteHost quotes a Host header for a message, shortened.
func quoteHost(h string) string {
	if len(h) > 100 {
		h = h[:100] + "…"
	}
	return `"` + h + `"`
}

// crossOrigin refuses cross-site browser requests that change something
// and would be authenticated by the session cookie, or would log in (Go's
// http.CrossOriginProtection: Sec-Fetch-Site, else Origin against Host).
// Requests with an Authorization header pass: a browser never adds one to
// a cross-site request it was not allowed to make, and the cookie then
// counts for nothing.
func (s *server) crossOrigin(c *gin.Context) {
	if c.GetHeader("Authorization") != "" {
		c.Next()
		return
	}
	if err := s.csrf.Check(c.Request); err != nil {
		writeError(c, http.StatusForbidden, "cross-origin request refused: the admin API takes browser changes only from its own pages; API clients send 'Authorization: Bearer <token>'")
		return
	}
	c.Next()
}

// userContentPolicy makes a page that a script serves on an admin host
// name (the default app answers there) an origin of its own, so that its
// scripts cannot use the admin session of whoever opens it; see
// writeResponse.
const userContentPolicy = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"
