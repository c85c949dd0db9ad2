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

// sessionCookiePath scopes the session cookie to the admin API: a browser
// sends it to /api/v1/admin and below only — never to user routes or to
// /api/v1/execute, where scripts would see it. The dashboard at /admin
// calls the admin API from the browser, which sends the cookie there.
const sessionCookiePath = "/api/v1/admin"

// setSessionCookie hands a browser its session: HttpOnly, SameSite=Strict,
// for the admin API only; a cookie of an earlier version (Path=/) is
// cleared.
func setSessionCookie(c *gin.Context, token string) {
	http.SetCookie(c.Writer, sessionCookieFor(c, sessionCookiePath, token))
	clearSessionCookie(c, "/")
}

// clearSessionCookie tells a browser to drop the session cookie of path.
func clearSessionCookie(c *gin.Context, path string) {
	ck := sessionCookieFor(c, path, "")
	ck.MaxAge = -1
	http.SetCookie(c.Writer, ck)
}

func sessionCookieFor(c *gin.Context, path, token string) *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: token, Path: path, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: isHTTPS(c)}
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
	clearSessionCookie(c, sessionCookiePath)
	clearSessionCookie(c, "/")
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
