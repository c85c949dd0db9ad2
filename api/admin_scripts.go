package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/model"
)

type scriptRequest struct {
	Name     string `json:"name"`
	Source   string `json:"source"`
	Language string `json:"language"`
	AppID    string `json:"app_id"`
	// BaseVersion is, on a save, the script's latest version the edit
	// started from; absent, the save does not check.
	BaseVersion *int `json:"base_version"`
	// Activate, on a save, false stores the new version as a draft: the
	// active version keeps serving. Absent, the new version goes live.
	Activate *bool `json:"activate"`
}

func (s *server) listScripts(c *gin.Context) {
	list, err := s.deps.Manager.Scripts(c, c.GetString(appKey))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"scripts": list})
}

func (s *server) createScript(c *gin.Context) {
	var req scriptRequest
	if !bindJSON(c, &req) {
		return
	}
	app, ok := appFromField(c, req.AppID)
	if !ok || !s.permit(c, access.WriteApp, app) {
		return
	}
	if req.Activate != nil && !*req.Activate {
		writeError(c, http.StatusBadRequest, "a new script's version 1 is always active; save a draft with PUT on the script once it exists")
		return
	}
	sc, err := s.deps.Manager.CreateScript(c, s.actor(c), manager.ScriptInput{
		AppID: app, Name: req.Name, Language: req.Language, Source: req.Source})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/admin/scripts/"+sc.ID)
	c.JSON(http.StatusCreated, sc)
}

func (s *server) getScript(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	sc, err := s.deps.Manager.Script(c, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sc)
}

func (s *server) updateScript(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	var req scriptRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.Language != "" || req.AppID != "" {
		writeError(c, http.StatusBadRequest, "a script's language and app cannot change; create a new script instead")
		return
	}
	in := manager.ScriptInput{Name: req.Name, Source: req.Source, Draft: req.Activate != nil && !*req.Activate}
	if req.BaseVersion != nil {
		if *req.BaseVersion < 1 {
			writeError(c, http.StatusBadRequest, "base_version must be a version number (1 or more): the script's latest_version when the edit began")
			return
		}
		in.BaseVersion = *req.BaseVersion
	}
	sc, err := s.deps.Manager.UpdateScript(c, s.actor(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sc)
}

func (s *server) deleteScript(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	if err := s.deps.Manager.DeleteScript(c, s.actor(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) listVersions(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	vs, err := s.deps.Manager.Versions(c, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"versions": vs})
}

func (s *server) getVersion(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	n, err := strconv.Atoi(c.Param("version"))
	if err != nil || n < 1 {
		writeError(c, http.StatusNotFound, "not found")
		return
	}
	v, err := s.deps.Manager.Version(c, id, n)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

type rollbackRequest struct {
	Version int `json:"version"`
}

func (s *server) rollback(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	var req rollbackRequest
	if !bindJSON(c, &req) {
		return
	}
	sc, err := s.deps.Manager.Rollback(c, s.actor(c), id, req.Version)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sc)
}

func (s *server) getLimits(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	v, err := s.deps.Manager.ScriptLimits(c, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (s *server) setLimits(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	var req model.ScriptLimits
	if !bindJSON(c, &req) {
		return
	}
	v, err := s.deps.Manager.SetScriptLimits(c, s.actor(c), id, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
