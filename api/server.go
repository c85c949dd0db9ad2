// Package api is PiCloud's HTTP surface, built on gin: the admin API, the
// execute endpoint, user-route dispatch, health and version. Handlers are
// thin: they decode, call the manager or the orchestrator, and encode.
package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/execlog"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/orchestrator"
)

// Config holds the settings of the HTTP surface.
type Config struct {
	// MaxRequestBodyBytes caps bodies sent to scripts (413 past it).
	MaxRequestBodyBytes int64
	// TrustedProxies may set X-Forwarded-For; none by default.
	TrustedProxies []string
	// Versions is what /version reports (every compatibility surface).
	Versions map[string]any
	// PublicURL is the base URL reported by /version.
	PublicURL string
}

// Deps are the services the handlers call.
type Deps struct {
	Manager      *manager.Service
	Orchestrator *orchestrator.Orchestrator
	Hub          *execlog.Hub
	// Health checks the parts /healthz vouches for; nil means always ok.
	Health func(ctx context.Context) error
	Logger *slog.Logger
}

// maxAdminBodyBytes caps admin request bodies: a script source of up to
// 1 MiB, JSON-escaped.
const maxAdminBodyBytes = 4 << 20

// server carries the handlers' dependencies.
type server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
}

// New returns the HTTP handler of the whole surface.
func New(cfg Config, deps Deps) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	s := &server{cfg: cfg, deps: deps, log: deps.Logger.With("component", "api")}
	r := gin.New()
	r.HandleMethodNotAllowed = false
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	r.Use(requestID(), s.recovery())

	r.GET("/healthz", s.healthz)
	r.HEAD("/healthz", s.healthz)
	r.GET("/version", s.version)

	admin := r.Group("/api/v1/admin", bodyLimit(maxAdminBodyBytes))
	admin.POST("/auth/login", s.login)
	authed := admin.Group("", s.authenticate)
	authed.POST("/auth/logout", s.logout)
	authed.GET("/auth/me", s.me)

	authed.GET("/scripts", s.listScripts)
	authed.POST("/scripts", s.createScript)
	authed.GET("/scripts/:id", s.getScript)
	authed.PUT("/scripts/:id", s.updateScript)
	authed.DELETE("/scripts/:id", s.deleteScript)
	authed.GET("/scripts/:id/versions", s.listVersions)
	authed.GET("/scripts/:id/versions/:version", s.getVersion)
	authed.POST("/scripts/:id/rollback", s.rollback)
	authed.GET("/scripts/:id/routes", s.listRoutes)
	authed.POST("/scripts/:id/routes", s.createRoute)
	authed.DELETE("/routes/:id", s.deleteRoute)
	authed.POST("/routes/check", s.checkRoute)
	authed.GET("/routes/match", s.matchRoute)
	authed.GET("/logs", s.listLogs)
	authed.GET("/logs/stream", s.streamLogs)

	r.Any("/api/v1/execute/:id", s.execute)
	r.Any("/api/v1/execute/:id/*rest", s.execute)
	r.Any("/admin", s.dashboard)
	r.Any("/admin/*rest", s.dashboard)
	r.NoRoute(s.dispatch)
	return r, nil
}

// notFound answers paths under /api/ that no endpoint serves.
func notFound(c *gin.Context) {
	writeError(c, http.StatusNotFound, "no such endpoint: "+c.Request.Method+" "+c.Request.URL.Path)
}

// dashboard reserves /admin for the browser dashboard.
func (s *server) dashboard(c *gin.Context) {
	writeError(c, http.StatusNotFound, "the browser dashboard is not part of this version; use the admin API under /api/v1/admin")
}
