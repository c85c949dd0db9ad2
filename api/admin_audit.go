package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/picloud/picloud/api/model"
)

// listAudit returns audit records, newest first, filtered by app, user and
// time, a page at a time (before= the last id of the previous page).
func (s *server) listAudit(c *gin.Context) {
	var q model.AuditQuery
	for name, dst := range map[string]*string{"app_id": &q.AppID, "user_id": &q.UserID} {
		if v := c.Query(name); v != "" {
			u, err := uuid.Parse(v)
			if err != nil {
				writeError(c, http.StatusBadRequest, name+" must be an id")
				return
			}
			*dst = u.String()
		}
	}
	for name, dst := range map[string]*time.Time{"since": &q.Since, "until": &q.Until} {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeError(c, http.StatusBadRequest, name+" must be a time like 2026-01-31T18:00:00Z (RFC 3339)")
				return
			}
			*dst = t
		}
	}
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeError(c, http.StatusBadRequest, "before must be a positive record id")
			return
		}
		q.BeforeID = n
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(c, http.StatusBadRequest, "limit must be between 1 and 1000")
			return
		}
		q.Limit = n
	}
	recs, err := s.deps.Manager.Audit(c, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"audit": recs})
}
