package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/model"
)

const appKey = "picloud.app"

// appOf finds the app a request is about; it answers the request itself
// (and returns ok=false) when it cannot.
type appOf func(s *server, c *gin.Context) (appID string, ok bool)

// allow lets a request through when the user holds capability c on the app
// that of finds (nil: an instance-wide capability). The app's id is left in
// the context for the handler.
func (s *server) allow(c access.Capability, of appOf) gin.HandlerFunc {
	return func(ctx *gin.Context) {
		app := ""
		if of != nil {
			var ok bool
			if app, ok = of(s, ctx); !ok {
				return
			}
		}
		if !s.permit(ctx, c, app) {
			return
		}
		ctx.Set(appKey, app)
		ctx.Next()
	}
}

// permit asks access.Can and answers a refusal: 404 for an app the user may
// not even read (its things are not theirs to know of), 403 otherwise.
func (s *server) permit(c *gin.Context, capability access.Capability, app string) bool {
	p := currentPrincipal(c)
	if access.Can(p, capability, app) {
		return true
	}
	if app != "" && !access.Can(p, access.ReadApp, app) {
		writeError(c, http.StatusNotFound, "not found")
		return false
	}
	switch {
	case p.Token != nil && capability == access.OwnCredentials:
		writeError(c, http.StatusForbidden, "API tokens cannot do this; log in (POST /api/v1/admin/auth/login) and use the session")
	case p.Token != nil:
		writeError(c, http.StatusForbidden, "this API token or your role does not allow this ("+string(capability)+")")
	default:
		writeError(c, http.StatusForbidden, "your role does not allow this ("+string(capability)+")")
	}
	return false
}

// appParam is the app named by the :id path parameter.
func appParam(s *server, c *gin.Context) (string, bool) { return idParam(c, "id") }

// scriptApp is the app of the script named by :id.
func scriptApp(s *server, c *gin.Context) (string, bool) {
	id, ok := idParam(c, "id")
	if !ok {
		return "", false
	}
	sc, err := s.deps.Manager.Script(c, id)
	if err != nil {
		s.fail(c, err)
		return "", false
	}
	return sc.AppID, true
}

// routeApp is the app of the route named by :id.
func routeApp(s *server, c *gin.Context) (string, bool) {
	id, ok := idParam(c, "id")
	if !ok {
		return "", false
	}
	r, err := s.deps.Manager.Route(c, id)
	if err != nil {
		s.fail(c, err)
		return "", false
	}
	return r.AppID, true
}

// triggerApp is the app of the trigger named by :id.
func triggerApp(s *server, c *gin.Context) (string, bool) {
	id, ok := idParam(c, "id")
	if !ok {
		return "", false
	}
	t, err := s.deps.Manager.Trigger(c, id)
	if err != nil {
		s.fail(c, err)
		return "", false
	}
	return t.AppID, true
}

// queryApp is the app_id of the query string, the default app when absent.
func queryApp(s *server, c *gin.Context) (string, bool) {
	return appFromField(c, c.Query("app_id"))
}

// appFromField validates an optional app id given by the client.
func appFromField(c *gin.Context, v string) (string, bool) {
	if v == "" {
		return model.DefaultAppID, true
	}
	u, err := uuid.Parse(v)
	if err != nil {
		writeError(c, http.StatusBadRequest, "app_id must be an app's id")
		return "", false
	}
	return u.String(), true
}

// logsApp is the app of the script_id filter, or the app_id of the query.
func logsApp(s *server, c *gin.Context) (string, bool) {
	if id := c.Query("script_id"); id != "" {
		u, err := uuid.Parse(id)
		if err != nil {
			writeError(c, http.StatusBadRequest, "script_id must be a script's id")
			return "", false
		}
		sc, err := s.deps.Manager.Script(c, u.String())
		if err != nil {
			s.fail(c, err)
			return "", false
		}
		return sc.AppID, true
	}
	return queryApp(s, c)
}

// hostApp is the app that serves the host of the match query (the default
// app when the host is not claimed and the fallback is on).
func hostApp(s *server, c *gin.Context) (string, bool) {
	app, _, ok, err := s.deps.Orchestrator.App(c, c.Query("host"))
	if err != nil {
		s.fail(c, err)
		return "", false
	}
	if !ok {
		c.AbortWithStatusJSON(http.StatusOK, gin.H{"matched": false, "reason": "no app serves this host"})
		return "", false
	}
	return app, true
}
