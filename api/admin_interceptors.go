package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

type interceptorRequest struct {
	ScriptID string `json:"script_id"`
	Path     string `json:"path"`
	Order    int    `json:"order"`
}

func (s *server) listInterceptors(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	is, err := s.deps.Manager.Interceptors(c, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"interceptors": is})
}

func (s *server) createInterceptor(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	var req interceptorRequest
	if !bindJSON(c, &req) {
		return
	}
	i, err := s.deps.Manager.CreateInterceptor(c, s.actor(c), id, req.ScriptID, req.Path, req.Order)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, i)
}

func (s *server) deleteInterceptor(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	if err := s.deps.Manager.DeleteInterceptor(c, s.actor(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// interceptorApp is the app of the interceptor named by :id.
func interceptorApp(s *server, c *gin.Context) (string, bool) {
	id, ok := idParam(c, "id")
	if !ok {
		return "", false
	}
	i, err := s.deps.Manager.Interceptor(c, id)
	if err != nil {
		s.fail(c, err)
		return "", false
	}
	return i.AppID, true
}
