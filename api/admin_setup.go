package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/model"
)

// setupStatus says whether the first owner is still to be made.
func (s *server) setupStatus(c *gin.Context) {
	needed, expires, err := s.deps.Manager.SetupStatus(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	body := gin.H{"needed": needed}
	if needed && !expires.IsZero() {
		body["expires_at"] = expires.UTC()
	}
	c.JSON(http.StatusOK, body)
}

type setupRequest struct {
	Token    string `json:"token"`
	Username string `json:"username"`
	Password string `json:"password"`
}

type setupResponse struct {
	User      model.User `json:"user"`
	Token     string     `json:"token"`
	ExpiresAt time.Time  `json:"expires_at"`
}

// setup creates the first owner with the setup token, once, and logs them
// in as login does.
func (s *server) setup(c *gin.Context) {
	var req setupRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.Token == "" || req.Username == "" || req.Password == "" {
		writeError(c, http.StatusBadRequest, "token, username and password are required")
		return
	}
	u, token, expires, err := s.deps.Manager.Setup(c, s.actor(c), req.Token, req.Username, req.Password)
	if err != nil {
		s.fail(c, err)
		return
	}
	setSessionCookie(c, token)
	c.JSON(http.StatusCreated, setupResponse{User: u, Token: token, ExpiresAt: expires.UTC()})
}
