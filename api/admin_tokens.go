package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/model"
)

type tokenRequest struct {
	Name         string     `json:"name"`
	Apps         []string   `json:"apps"`
	Capabilities []string   `json:"capabilities"`
	ExpiresAt    *time.Time `json:"expires_at"`
}

// createToken makes an API token whose scope the user holds in full: every
// capability on every app it names (404 for an app the user cannot see,
// 403 for a capability their role lacks). The token is in the answer once.
func (s *server) createToken(c *gin.Context) {
	var req tokenRequest
	if !bindJSON(c, &req) {
		return
	}
	in, err := manager.ValidateToken(manager.TokenInput{Name: req.Name, Apps: req.Apps,
		Capabilities: req.Capabilities, ExpiresAt: req.ExpiresAt}, time.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, name := range in.Capabilities {
		capability, _ := access.Parse(name)
		if !capability.AppScoped() && !s.permit(c, capability, "") {
			return
		}
		for _, app := range in.Apps {
			if !s.permit(c, capability, app) {
				return
			}
		}
	}
	t, token, err := s.deps.Manager.CreateToken(c, s.actor(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, struct {
		model.APIToken
		Token string `json:"token"`
	}{t, token})
}

// listTokens lists the user's own API tokens; owners see everyone's with
// ?all=true.
func (s *server) listTokens(c *gin.Context) {
	userID := currentPrincipal(c).User.ID
	if c.Query("all") == "true" {
		if !s.permit(c, access.ManageUsers, "") {
			return
		}
		userID = ""
	}
	ts, err := s.deps.Manager.Tokens(c, userID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tokens": ts})
}

// revokeToken deletes one of the user's API tokens, or anyone's for an
// owner; another user's token is not found.
func (s *server) revokeToken(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	t, err := s.deps.Manager.Token(c, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := currentPrincipal(c)
	if t.UserID != p.User.ID && !access.Can(p, access.ManageUsers, "") {
		writeError(c, http.StatusNotFound, "not found")
		return
	}
	if err := s.deps.Manager.RevokeToken(c, s.actor(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
