package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/model"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// login checks a password and opens a session: the token in the body for
// API clients, and an HttpOnly, SameSite=Strict cookie for browsers.
func (s *server) login(c *gin.Context) {
	var req loginRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.Username == "" || req.Password == "" {
		writeError(c, http.StatusBadRequest, "username and password are required")
		return
	}
	token, expires, err := s.deps.Manager.Login(c, s.actor(c), req.Username, req.Password)
	if err != nil {
		s.fail(c, err)
		return
	}
	setSessionCookie(c, token)
	c.JSON(http.StatusOK, loginResponse{Token: token, ExpiresAt: expires.UTC()})
}

// setSessionCookie hands a browser its session: HttpOnly, SameSite=Strict.
func setSessionCookie(c *gin.Context, token string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.Request.TLS != nil,
	})
}

// logout revokes the session and clears the cookie.
func (s *server) logout(c *gin.Context) {
	if c.GetString(tokenKey) == "" {
		writeError(c, http.StatusBadRequest, "this request has no session to log out of: it acts as the user of its connection (the local socket or an SSH session)")
		return
	}
	if err := s.deps.Manager.Logout(c, s.actor(c), c.GetString(tokenKey)); err != nil {
		s.fail(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, MaxAge: -1,
		SameSite: http.SameSiteStrictMode, Secure: c.Request.TLS != nil,
	})
	c.Status(http.StatusNoContent)
}

// me returns the logged-in user, and the API token in use, if any.
func (s *server) me(c *gin.Context) {
	p := currentPrincipal(c)
	c.JSON(http.StatusOK, struct {
		model.User
		Token *model.APIToken `json:"token,omitempty"`
	}{p.User, p.Token})
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword changes the logged-in user's own password; their other
// sessions end, this one stays.
func (s *server) changePassword(c *gin.Context) {
	var req changePasswordRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.CurrentPassword == "" || req.NewPassword == "" {
		writeError(c, http.StatusBadRequest, "current_password and new_password are required")
		return
	}
	if err := s.deps.Manager.ChangePassword(c, s.actor(c), c.GetString(tokenKey), req.CurrentPassword, req.NewPassword); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
