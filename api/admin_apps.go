package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/model"
)

type appRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// listApps returns the apps the user may read.
func (s *server) listApps(c *gin.Context) {
	if apps, ok := s.readableApps(c); ok {
		c.JSON(http.StatusOK, gin.H{"apps": apps})
	}
}

// readableApps lists the apps the caller may read; it answers the request
// itself when it cannot.
func (s *server) readableApps(c *gin.Context) ([]model.App, bool) {
	all, err := s.deps.Manager.Apps(c)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	p := currentPrincipal(c)
	apps := []model.App{}
	for _, a := range all {
		if access.Can(p, access.ReadApp, a.ID) {
			apps = append(apps, a)
		}
	}
	return apps, true
}

func (s *server) createApp(c *gin.Context) {
	var req appRequest
	if !bindJSON(c, &req) {
		return
	}
	a, err := s.deps.Manager.CreateApp(c, s.actor(c), manager.AppInput{Name: req.Name, Description: req.Description})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/admin/apps/"+a.ID)
	c.JSON(http.StatusCreated, a)
}

func (s *server) getApp(c *gin.Context) {
	a, err := s.deps.Manager.App(c, c.GetString(appKey))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *server) updateApp(c *gin.Context) {
	var req appRequest
	if !bindJSON(c, &req) {
		return
	}
	a, err := s.deps.Manager.UpdateApp(c, s.actor(c), c.GetString(appKey), manager.AppInput{Name: req.Name, Description: req.Description})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *server) deleteApp(c *gin.Context) {
	if err := s.deps.Manager.DeleteApp(c, s.actor(c), c.GetString(appKey)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type domainRequest struct {
	Pattern string `json:"pattern"`
}

func (s *server) listDomains(c *gin.Context) {
	ds, err := s.deps.Manager.Domains(c, c.GetString(appKey))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"domains": ds})
}

func (s *server) claimDomain(c *gin.Context) {
	var req domainRequest
	if !bindJSON(c, &req) {
		return
	}
	d, err := s.deps.Manager.ClaimDomain(c, s.actor(c), c.GetString(appKey), req.Pattern)
	if err != nil {
		s.failClaim(c, err, req.Pattern)
		return
	}
	c.JSON(http.StatusCreated, d)
}

// failClaim answers a refused domain claim. The claims in the way are named
// only to a user who may read every app that holds them; anyone else learns
// only that the name is taken, nothing of apps that are not theirs.
func (s *server) failClaim(c *gin.Context, err error, pattern string) {
	var conflict *manager.ConflictError
	if errors.As(err, &conflict) {
		if ds, ok := conflict.Conflicts.([]model.Domain); ok && !s.readsAll(c, ds) {
			if p, err := hosts.ParsePattern(pattern); err == nil {
				pattern = p.String()
			}
			writeError(c, http.StatusConflict, fmt.Sprintf("the domain %s is taken: another app claims it or a pattern that matches the same host names", quoteHost(pattern)))
			return
		}
	}
	s.fail(c, err)
}

// readsAll reports whether the caller may read the apps of all the claims.
func (s *server) readsAll(c *gin.Context, ds []model.Domain) bool {
	p := currentPrincipal(c)
	for _, d := range ds {
		if !access.Can(p, access.ReadApp, d.AppID) {
			return false
		}
	}
	return true
}

func (s *server) releaseDomain(c *gin.Context) {
	id, ok := idParam(c, "domain_id")
	if !ok {
		return
	}
	if err := s.deps.Manager.ReleaseDomain(c, s.actor(c), c.GetString(appKey), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) getSettings(c *gin.Context) {
	st, err := s.deps.Manager.Settings(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

type settingsRequest struct {
	DefaultAppFallback *bool `json:"default_app_fallback"`
}

func (s *server) updateSettings(c *gin.Context) {
	var req settingsRequest
	if !bindJSON(c, &req) {
		return
	}
	st, err := s.deps.Manager.UpdateSettings(c, s.actor(c), req.DefaultAppFallback)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}
