package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/engine"
)

// healthz answers ok when the database (and what else Health checks) is up.
func (s *server) healthz(c *gin.Context) {
	if s.deps.Health != nil {
		if err := s.deps.Health(c); err != nil {
			s.log.Warn("health check failed", "err", err)
			c.String(http.StatusServiceUnavailable, "unhealthy: %v\n", err)
			return
		}
	}
	c.String(http.StatusOK, "ok")
}

// version reports every compatibility surface's version and the base URL.
func (s *server) version(c *gin.Context) {
	out := gin.H{"public_url": s.cfg.PublicURL}
	for k, v := range s.cfg.Versions {
		out[k] = v
	}
	c.JSON(http.StatusOK, out)
}

// typeDefinitions serves picloud.d.ts, the declarations editors use to
// autocomplete scripts.
func typeDefinitions(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "application/typescript; charset=utf-8", []byte(engine.TypeDefinitions))
}
