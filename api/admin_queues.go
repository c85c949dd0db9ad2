package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/model"
)

// queueRoutes serves an app's queues: what each holds, its messages, and
// the retry, delete and redrive of dead ones.
func (s *server) queueRoutes(authed *gin.RouterGroup) {
	read, write := s.allow(access.ReadApp, appParam), s.allow(access.WriteApp, appParam)
	authed.GET("/apps/:id/queues", read, s.listQueues)
	authed.GET("/apps/:id/queues/:queue/messages", read, s.browseQueue)
	authed.POST("/apps/:id/queues/:queue/messages/:msg/retry", write, s.queueMessageAction("retry"))
	authed.DELETE("/apps/:id/queues/:queue/messages/:msg", write, s.queueMessageAction("delete"))
	authed.POST("/apps/:id/queues/:queue/redrive", write, s.redriveQueue)
}

func (s *server) listQueues(c *gin.Context) {
	qs, err := s.deps.Manager.Queues(c, c.GetString(appKey))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"queues": qs})
}

// queueMessageJSON is a message as the API shows it, its body as the
// JSON value that was sent.
func queueMessageJSON(m model.QueueMessage) gin.H {
	b, _ := json.Marshal(m)
	var out gin.H
	_ = json.Unmarshal(b, &out)
	out["body"] = json.RawMessage(m.Body)
	return out
}

func (s *server) browseQueue(c *gin.Context) {
	limit, ok := limitQuery(c, "messages")
	if !ok {
		return
	}
	ms, err := s.deps.Manager.QueueMessages(c, c.GetString(appKey), c.Param("queue"), c.Query("state"), c.Query("after"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]gin.H, 0, len(ms))
	for _, m := range ms {
		out = append(out, queueMessageJSON(m))
	}
	c.JSON(http.StatusOK, gin.H{"messages": out})
}

func (s *server) queueMessageAction(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		err := s.deps.Manager.QueueMessageAction(c, s.actor(c), c.GetString(appKey), c.Param("queue"), c.Param("msg"), action)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

func (s *server) redriveQueue(c *gin.Context) {
	n, err := s.deps.Manager.RedriveQueue(c, s.actor(c), c.GetString(appKey), c.Param("queue"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"moved": n})
}
