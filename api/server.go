// Package api is PiCloud's HTTP surface, built on gin: the admin API, the
// execute endpoint, user-route dispatch, health and version. Handlers are
// thin: they decode, call the manager or the orchestrator, and encode.
package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/dashboard"
	"github.com/picloud/picloud/api/execlog"
	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
)

// Config holds the settings of the HTTP surface.
type Config struct {
	// MaxRequestBodyBytes caps bodies sent to scripts (413 past it).
	MaxRequestBodyBytes int64
	// BodyReadTimeout bounds the time to read a request body, from the end
	// of its headers (408 past it); zero means 30 seconds.
	BodyReadTimeout time.Duration
	// TrustedProxies are the addresses and networks (CIDRs) of reverse
	// proxies whose X-Forwarded-For and X-Forwarded-Proto count; none by
	// default, and from anyone else these headers are ignored.
	TrustedProxies []string
	// Versions is what /version reports (every compatibility surface).
	Versions map[string]any
	// PublicURL is the base URL reported by /version.
	PublicURL string
	// AdminHosts are the host names the admin API and dashboard answer
	// on; nil means loopback and IP addresses only.
	AdminHosts *hosts.AdminHosts
}

// Deps are the services the handlers call.
type Deps struct {
	Manager      *manager.Service
	Orchestrator *orchestrator.Orchestrator
	Hub          *execlog.Hub
	// Health checks the parts /healthz vouches for; nil means always ok.
	Health func(ctx context.Context) error
	// System reports the board's and the daemon's health for
	// GET /api/v1/admin/system; nil reports only the versions.
	System func(ctx context.Context) (model.SystemStatus, error)
	// Metrics serves GET /metrics in Prometheus's format; nil answers 404.
	Metrics http.Handler
	// Backup writes a backup of the board, or of the app named app, to w
	// (POST /api/v1/admin/backups); nil answers 404.
	Backup func(ctx context.Context, w io.Writer, app string, passphrase []byte) error
	Logger *slog.Logger
}

// maxAdminBodyBytes caps admin request bodies: a script source of up to
// 1 MiB, JSON-escaped.
const maxAdminBodyBytes = 4 << 20

// server carries the handlers' dependencies.
type server struct {
	cfg        Config
	deps       Deps
	log        *slog.Logger
	adminHosts *hosts.AdminHosts
	csrf       *http.CrossOriginProtection
	proxies    trustedProxies
}

// New returns the HTTP handler of the whole surface.
func New(cfg Config, deps Deps) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	s := &server{cfg: cfg, deps: deps, log: deps.Logger.With("component", "api"),
		adminHosts: cfg.AdminHosts, csrf: http.NewCrossOriginProtection()}
	if s.adminHosts == nil {
		s.adminHosts = hosts.NewAdminHosts(nil, true)
	}
	r := gin.New()
	r.HandleMethodNotAllowed = false
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	var err error
	if s.proxies, err = parseTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	// The client's address comes from X-Forwarded-For alone, and only
	// through a trusted proxy: not from X-Real-IP, which proxies pass on
	// from their clients unchecked.
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	r.Use(requestID(), s.recovery(), s.markHTTPS, bodyDeadline(cfg.BodyReadTimeout))

	r.GET("/healthz", s.healthz)
	r.HEAD("/healthz", s.healthz)
	r.GET("/version", s.version)
	r.GET("/api/v1/picloud.d.ts", typeDefinitions)

	admin := r.Group("/api/v1/admin", s.adminHost, refuseURLCredentials, s.crossOrigin, bodyLimit(maxAdminBodyBytes))
	admin.POST("/auth/login", s.login)
	admin.GET("/setup", s.setupStatus)
	admin.POST("/setup", s.setup)
	authed := admin.Group("", s.authenticate)
	own := s.allow(access.OwnCredentials, nil) // a session's, never an API token's
	authed.POST("/auth/logout", own, s.logout)
	authed.GET("/auth/me", s.me)
	authed.POST("/auth/password", own, s.changePassword)
	authed.GET("/tokens", own, s.listTokens)
	authed.POST("/tokens", own, s.createToken)
	authed.DELETE("/tokens/:id", own, s.revokeToken)
	authed.GET("/auth/keys", own, s.listSSHKeys)
	authed.POST("/auth/keys", own, s.addSSHKey)
	authed.DELETE("/auth/keys/:key_id", own, s.deleteSSHKey)

	authed.GET("/apps", s.listApps)
	authed.POST("/apps", s.allow(access.ManageApps, nil), s.createApp)
	authed.GET("/apps/:id", s.allow(access.ReadApp, appParam), s.getApp)
	authed.PATCH("/apps/:id", s.allow(access.ManageApps, appParam), s.updateApp)
	authed.DELETE("/apps/:id", s.allow(access.ManageApps, appParam), s.deleteApp)
	authed.GET("/apps/:id/usage", s.allow(access.ReadApp, appParam), s.appUsage)
	authed.PUT("/apps/:id/limits", s.allow(access.ManageApps, appParam), s.setAppLimits)
	authed.GET("/apps/:id/email-senders", s.allow(access.ReadApp, appParam), s.getEmailSenders)
	authed.PUT("/apps/:id/email-senders", s.allow(access.ManageInstance, appParam), s.setEmailSenders)
	authed.GET("/apps/:id/domains", s.allow(access.ReadApp, appParam), s.listDomains)
	authed.POST("/apps/:id/domains", s.allow(access.WriteApp, appParam), s.claimDomain)
	authed.DELETE("/apps/:id/domains/:domain_id", s.allow(access.WriteApp, appParam), s.releaseDomain)
	authed.POST("/apps/:id/deploy", s.allow(access.WriteApp, appParam), s.deployApp)
	authed.GET("/apps/:id/variables", s.allow(access.ReadApp, appParam), s.listVariables)
	authed.GET("/apps/:id/variables/:name", s.allow(access.ReadApp, appParam), s.getVariable)
	authed.PUT("/apps/:id/variables/:name", s.allow(access.WriteApp, appParam), s.putVariable)
	authed.DELETE("/apps/:id/variables/:name", s.allow(access.WriteApp, appParam), s.deleteVariable)
	s.kvRoutes(authed)
	s.queueRoutes(authed)
	s.inboxRoutes(authed)
	s.docsRoutes(authed)
	authed.GET("/apps/:id/interceptors", s.allow(access.ReadApp, appParam), s.listInterceptors)
	authed.POST("/apps/:id/interceptors", s.allow(access.WriteApp, appParam), s.createInterceptor)
	authed.DELETE("/interceptors/:id", s.allow(access.WriteApp, interceptorApp), s.deleteInterceptor)
	authed.GET("/apps/:id/users", s.allow(access.ManageApps, appParam), s.listAppUsers)
	authed.PATCH("/apps/:id/users/:user_id", s.allow(access.ManageApps, appParam), s.updateAppUser)
	authed.DELETE("/apps/:id/users/:user_id", s.allow(access.ManageApps, appParam), s.deleteAppUser)
	authed.POST("/apps/:id/users/:user_id/revoke-sessions", s.allow(access.ManageApps, appParam), s.revokeAppUserSessions)

	authed.GET("/settings", s.allow(access.ManageApps, nil), s.getSettings)
	authed.GET("/system", s.allow(access.ManageApps, nil), s.system)
	authed.PATCH("/settings", s.allow(access.ManageInstance, nil), s.updateSettings)
	authed.POST("/backups", s.allow(access.ManageInstance, nil), s.createBackup)
	authed.GET("/users", s.allow(access.ManageUsers, nil), s.listUsers)
	authed.POST("/users", s.allow(access.ManageUsers, nil), s.createUser)
	authed.PATCH("/users/:id", s.allow(access.ManageUsers, nil), s.updateUser)
	authed.POST("/users/:id/password", s.allow(access.ManageUsers, nil), s.resetPassword)
	authed.POST("/users/:id/roles", s.allow(access.ManageUsers, nil), s.grantRole)
	authed.DELETE("/users/:id/roles/:app_id", s.allow(access.ManageUsers, nil), s.revokeRole)
	authed.GET("/users/:id/keys", s.allow(access.ManageUsers, nil), s.listSSHKeys)
	authed.POST("/users/:id/keys", s.allow(access.ManageUsers, nil), s.addSSHKey)
	authed.DELETE("/users/:id/keys/:key_id", s.allow(access.ManageUsers, nil), s.deleteSSHKey)

	authed.GET("/scripts", s.allow(access.ReadApp, queryApp), s.listScripts)
	authed.POST("/scripts", s.createScript) // the app is in the body
	authed.GET("/scripts/:id", s.allow(access.ReadApp, scriptApp), s.getScript)
	authed.PUT("/scripts/:id", s.allow(access.WriteApp, scriptApp), s.updateScript)
	authed.DELETE("/scripts/:id", s.allow(access.WriteApp, scriptApp), s.deleteScript)
	authed.GET("/scripts/:id/versions", s.allow(access.ReadApp, scriptApp), s.listVersions)
	authed.GET("/scripts/:id/versions/:version", s.allow(access.ReadApp, scriptApp), s.getVersion)
	authed.POST("/scripts/:id/rollback", s.allow(access.WriteApp, scriptApp), s.rollback)
	authed.GET("/scripts/:id/limits", s.allow(access.ReadApp, scriptApp), s.getLimits)
	authed.PUT("/scripts/:id/limits", s.allow(access.WriteApp, scriptApp), s.setLimits)
	authed.GET("/scripts/:id/capture", s.allow(access.ReadApp, scriptApp), s.getCapture)
	authed.PUT("/scripts/:id/capture", s.allow(access.ManageApps, scriptApp), s.setCapture)
	authed.DELETE("/scripts/:id/capture", s.allow(access.ManageApps, scriptApp), s.deleteCapture)
	authed.GET("/scripts/:id/capture/requests", s.allow(access.ReadApp, scriptApp), s.listCaptured)
	authed.POST("/scripts/:id/versions/:version/replay", s.allow(access.WriteApp, scriptApp), s.replayVersion)
	authed.GET("/scripts/:id/routes", s.allow(access.ReadApp, scriptApp), s.listRoutes)
	authed.POST("/scripts/:id/routes", s.allow(access.WriteApp, scriptApp), s.createRoute)
	authed.DELETE("/routes/:id", s.allow(access.WriteApp, routeApp), s.deleteRoute)
	authed.GET("/scripts/:id/triggers", s.allow(access.ReadApp, scriptApp), s.listTriggers)
	authed.POST("/scripts/:id/triggers", s.allow(access.WriteApp, scriptApp), s.createTrigger)
	authed.DELETE("/triggers/:id", s.allow(access.WriteApp, triggerApp), s.deleteTrigger)
	authed.POST("/triggers/:id/run", s.allow(access.WriteApp, triggerApp), s.runTrigger)
	authed.POST("/routes/check", s.checkRoute) // the app is in the body
	authed.GET("/routes/match", s.allow(access.ReadApp, hostApp), s.matchRoute)
	authed.GET("/logs", s.allow(access.ReadApp, logsApp), s.listLogs)
	authed.GET("/logs/stream", s.allow(access.ReadApp, logsApp), s.streamLogs)
	authed.GET("/logs/all", s.listAllLogs)          // the apps the caller may read
	authed.GET("/logs/all/stream", s.streamAllLogs) // the same, as they happen
	authed.GET("/audit", s.allow(access.ReadAudit, nil), s.listAudit)
	authed.GET("/metrics", s.listRollups) // the app or script asked, or every app the caller may read

	// Prometheus scrapes with an API token that holds metrics.read; owners
	// and admins may read it with their session or through the socket.
	r.GET("/metrics", s.adminHost, refuseURLCredentials, s.authenticate, s.allow(access.ReadMetrics, nil), s.metrics)

	r.Any("/api/v1/execute/:id", s.execute)
	r.Any("/api/v1/execute/:id/*rest", s.execute)
	board, err := dashboard.New()
	if err != nil {
		return nil, err
	}
	serveBoard := gin.WrapH(board)
	r.Any("/admin", s.adminHost, serveBoard)
	r.Any("/admin/*rest", s.adminHost, serveBoard)
	r.NoRoute(s.dispatch)
	return r, nil
}

// notFound answers paths under /api/ that no endpoint serves.
func notFound(c *gin.Context) {
	writeError(c, http.StatusNotFound, "no such endpoint: "+c.Request.Method+" "+c.Request.URL.Path)
}
