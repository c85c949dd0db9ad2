package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/picloud/picloud/api/model"
)

// logQuery reads script_id, before and limit from the query string.
func logQuery(c *gin.Context) (model.LogQuery, bool) {
	q := model.LogQuery{AppID: c.GetString(appKey)}
	if id := c.Query("script_id"); id != "" {
		u, err := uuid.Parse(id)
		if err != nil {
			writeError(c, http.StatusBadRequest, "script_id must be a script's id")
			return q, false
		}
		q.ScriptID = u.String()
	}
	for name, dst := range map[string]*int64{"before": &q.BeforeID} {
		if v := c.Query(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				writeError(c, http.StatusBadRequest, name+" must be a positive record id")
				return q, false
			}
			*dst = n
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(c, http.StatusBadRequest, "limit must be between 1 and 1000")
			return q, false
		}
		q.Limit = n
	}
	return q, true
}

// listLogs returns execution records, newest first.
func (s *server) listLogs(c *gin.Context) {
	q, ok := logQuery(c)
	if !ok {
		return
	}
	recs, err := s.deps.Manager.Executions(c, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"logs": recs})
}

// streamLogs sends execution records as Server-Sent Events as they happen.
func (s *server) streamLogs(c *gin.Context) {
	q, ok := logQuery(c)
	if !ok {
		return
	}
	sub := s.deps.Hub.Subscribe(func(r model.ExecutionRecord) bool {
		return r.AppID == q.AppID && (q.ScriptID == "" || r.ScriptID == q.ScriptID)
	})
	defer sub.Close()
	w := c.Writer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = w.WriteString(": connected\n\n")
	w.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case rec, ok := <-sub.C:
			if !ok {
				return
			}
			data, err := json.Marshal(rec)
			if err != nil {
				continue
			}
			if _, err := w.WriteString("event: execution\ndata: " + string(data) + "\n\n"); err != nil {
				return
			}
			w.Flush()
		case <-ping.C:
			if _, err := w.WriteString(": ping\n\n"); err != nil {
				return
			}
			w.Flush()
		case <-c.Request.Context().Done():
			return
		}
	}
}
