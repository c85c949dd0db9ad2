package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/manager"
)

// inboxRoutes serves an app's received email: the list, one message, and
// the retry and delete of one.
func (s *server) inboxRoutes(authed *gin.RouterGroup) {
	read, write := s.allow(access.ReadApp, appParam), s.allow(access.WriteApp, appParam)
	authed.GET("/apps/:id/email/inbox", read, s.listInbox)
	authed.GET("/apps/:id/email/inbox/:msg", read, s.getInboxMessage)
	authed.POST("/apps/:id/email/inbox/:msg/retry", write, s.inboxMessageAction("retry"))
	authed.DELETE("/apps/:id/email/inbox/:msg", write, s.inboxMessageAction("delete"))
}

func (s *server) listInbox(c *gin.Context) {
	limit, ok := limitQuery(c, "messages")
	if !ok {
		return
	}
	ms, err := s.deps.Manager.InboxMessages(c, c.GetString(appKey), c.Query("state"), c.Query("cursor"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := gin.H{"messages": ms}
	if limit == 0 {
		limit = manager.DefaultInboxBrowseLimit
	}
	if len(ms) > 0 && len(ms) == limit {
		out["next_cursor"] = ms[len(ms)-1].ID // a full page: there may be more
	}
	c.JSON(http.StatusOK, out)
}

func (s *server) getInboxMessage(c *gin.Context) {
	m, err := s.deps.Manager.InboxMessage(c, c.GetString(appKey), c.Param("msg"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

func (s *server) inboxMessageAction(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.deps.Manager.InboxMessageAction(c, s.actor(c), c.GetString(appKey), c.Param("msg"), action); err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}
