package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/manager"
)

type deployRequest struct {
	Scripts []manager.DeployScript `json:"scripts"`
	Routes  []manager.DeployRoute  `json:"routes"`
	Vars    map[string]string      `json:"vars"`
	Draft   bool                   `json:"draft"`
	DryRun  bool                   `json:"dry_run"`
}

// deployApp applies an app's desired scripts, routes, triggers and plain
// variables in one
// transaction, or with dry_run answers the plan without changing anything.
func (s *server) deployApp(c *gin.Context) {
	var req deployRequest
	if !bindJSON(c, &req) {
		return
	}
	plan, err := s.deps.Manager.Deploy(c, s.actor(c), c.GetString(appKey), manager.DeployInput{
		Scripts: req.Scripts, Routes: req.Routes, Vars: req.Vars, Draft: req.Draft, DryRun: req.DryRun})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, plan)
}
