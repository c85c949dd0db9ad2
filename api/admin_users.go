package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/manager"
)

type userRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

func (s *server) listUsers(c *gin.Context) {
	users, err := s.deps.Manager.Users(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"users": users})
}

// createUser makes a user; the role defaults to member (app roles only).
func (s *server) createUser(c *gin.Context) {
	var req userRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.Role == "" {
		req.Role = "member"
	}
	u, err := s.deps.Manager.AddUser(c, s.actor(c), req.Username, req.Password, req.Role)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, u)
}

type roleRequest struct {
	AppID string `json:"app_id"`
	Role  string `json:"role"`
}

func (s *server) grantRole(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	var req roleRequest
	if !bindJSON(c, &req) {
		return
	}
	app, ok := appFromField(c, req.AppID)
	if !ok {
		return
	}
	if err := s.deps.Manager.GrantAppRole(c, s.actor(c), id, app, req.Role); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) revokeRole(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	app, ok := idParam(c, "app_id")
	if !ok {
		return
	}
	if err := s.deps.Manager.RevokeAppRole(c, s.actor(c), id, app); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type userUpdateRequest struct {
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
}

// updateUser changes a user's instance role, or disables or enables them.
func (s *server) updateUser(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	var req userUpdateRequest
	if !bindJSON(c, &req) {
		return
	}
	u, err := s.deps.Manager.UpdateUser(c, s.actor(c), id, manager.UserChange{Role: req.Role, Disabled: req.Disabled})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

type passwordRequest struct {
	Password string `json:"password"`
}

// resetPassword sets another user's password and ends their sessions.
func (s *server) resetPassword(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	var req passwordRequest
	if !bindJSON(c, &req) {
		return
	}
	if err := s.deps.Manager.ResetPassword(c, s.actor(c), id, req.Password); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
