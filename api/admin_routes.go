package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/access"
)

type routeRequest struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	AppID  string `json:"app_id"`
}

func (s *server) listRoutes(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	rs, err := s.deps.Manager.Routes(c, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"routes": rs})
}

func (s *server) createRoute(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	var req routeRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.AppID != "" {
		writeError(c, http.StatusBadRequest, "a route belongs to its script's app; app_id is not accepted here")
		return
	}
	r, err := s.deps.Manager.CreateRoute(c, s.actor(c), id, req.Method, req.Path)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (s *server) deleteRoute(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	if err := s.deps.Manager.DeleteRoute(c, s.actor(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// checkRoute says whether a route could be added, and what it conflicts with.
func (s *server) checkRoute(c *gin.Context) {
	var req routeRequest
	if !bindJSON(c, &req) {
		return
	}
	app, ok := appFromField(c, req.AppID)
	if !ok || !s.permit(c, access.ReadApp, app) {
		return
	}
	cs, err := s.deps.Manager.CheckRoute(c, app, req.Method, req.Path)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"ok": len(cs) == 0, "conflicts": cs})
}

// matchRoute says which app and script a request would reach, with its
// domain and route parameters and the interceptors that run before it.
func (s *server) matchRoute(c *gin.Context) {
	method, path := c.Query("method"), c.Query("path")
	if method == "" {
		method = http.MethodGet
	}
	if path == "" || path[0] != '/' {
		writeError(c, http.StatusBadRequest, "path is required and must start with /")
		return
	}
	t, ok, err := s.deps.Orchestrator.Resolve(c, c.Query("host"), method, path)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !ok {
		c.JSON(http.StatusOK, gin.H{"matched": false})
		return
	}
	chain := make([]gin.H, 0, len(t.Interceptors))
	for _, i := range t.Interceptors {
		h := gin.H{"interceptor_id": i.ID, "path": i.Path, "order": i.Order, "script_id": i.ScriptID}
		if i.Script != nil {
			h["script_name"], h["version"] = i.Script.Name, i.Script.ActiveVersion
		}
		chain = append(chain, h)
	}
	c.JSON(http.StatusOK, gin.H{"matched": true, "app_id": t.AppID, "route_id": t.RouteID, "script_id": t.Script.ID,
		"script_name": t.Script.Name, "version": t.Script.ActiveVersion, "params": t.Params, "interceptors": chain})
}
