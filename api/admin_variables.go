package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/model"
)

// variableView is a variable as the API shows it: a secret's value never
// appears.
type variableView struct {
	Name      string    `json:"name"`
	Secret    bool      `json:"secret"`
	Value     *string   `json:"value,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewOf(v model.Variable) variableView {
	out := variableView{Name: v.Name, Secret: v.Secret, UpdatedAt: v.UpdatedAt}
	if !v.Secret {
		value := v.Value
		out.Value = &value
	}
	return out
}

func (s *server) listVariables(c *gin.Context) {
	vs, err := s.deps.Manager.Variables(c, c.GetString(appKey))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]variableView, len(vs))
	for i, v := range vs {
		out[i] = viewOf(v)
	}
	c.JSON(http.StatusOK, gin.H{"variables": out})
}

func (s *server) getVariable(c *gin.Context) {
	v, err := s.deps.Manager.Variable(c, c.GetString(appKey), c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewOf(v))
}

type variableRequest struct {
	Value  *string `json:"value"`
	Secret bool    `json:"secret"`
}

// putVariable creates (201) or replaces (200) a variable.
func (s *server) putVariable(c *gin.Context) {
	var req variableRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.Value == nil {
		writeError(c, http.StatusBadRequest, "value is required (a string; \"secret\": true to keep it secret)")
		return
	}
	v, created, err := s.deps.Manager.SetVariable(c, s.actor(c), c.GetString(appKey), c.Param("name"), *req.Value, req.Secret)
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, viewOf(v))
}

func (s *server) deleteVariable(c *gin.Context) {
	if err := s.deps.Manager.DeleteVariable(c, s.actor(c), c.GetString(appKey), c.Param("name")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
