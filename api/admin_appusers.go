package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// defaultAppUsersPage is how many app users a list returns when not told.
const defaultAppUsersPage = 100

// listAppUsers lists an app's users in email order: ?search= keeps those
// whose email contains it, ?after= starts after an email, ?limit= caps
// the page.
func (s *server) listAppUsers(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	limit := defaultAppUsersPage
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(c, http.StatusBadRequest, "limit must be a number")
			return
		}
		limit = n
	}
	us, err := s.deps.Manager.AppUsers(c, id, c.Query("search"), c.Query("after"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"users": us, "complete": len(us) < limit})
}

type appUserPatch struct {
	Disabled *bool `json:"disabled"`
}

// updateAppUser disables a user of an app, or enables it again.
func (s *server) updateAppUser(c *gin.Context) {
	id, uid, ok := appUserParams(c)
	if !ok {
		return
	}
	var req appUserPatch
	if !bindJSON(c, &req) {
		return
	}
	if req.Disabled == nil {
		writeError(c, http.StatusBadRequest, `give {"disabled": true} or {"disabled": false}`)
		return
	}
	u, err := s.deps.Manager.SetAppUserDisabled(c, s.actor(c), id, uid, *req.Disabled)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

func (s *server) deleteAppUser(c *gin.Context) {
	id, uid, ok := appUserParams(c)
	if !ok {
		return
	}
	if err := s.deps.Manager.DeleteAppUser(c, s.actor(c), id, uid); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) revokeAppUserSessions(c *gin.Context) {
	id, uid, ok := appUserParams(c)
	if !ok {
		return
	}
	n, err := s.deps.Manager.RevokeAppUserSessions(c, s.actor(c), id, uid)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"revoked": n})
}

// appUserParams are the app's and its user's ids from the path; it
// answers the request itself when either is not an id.
func appUserParams(c *gin.Context) (app, user string, ok bool) {
	if app, ok = idParam(c, "id"); !ok {
		return "", "", false
	}
	if user, ok = idParam(c, "user_id"); !ok {
		return "", "", false
	}
	return app, user, true
}
