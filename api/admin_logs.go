package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/picloud/picloud/api/access"
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
	s.stream(c, func(r model.ExecutionRecord) bool {
		return r.AppID == q.AppID && (q.ScriptID == "" || r.ScriptID == q.ScriptID)
	}, func(p model.Principal) bool { return access.Can(p, access.ReadApp, q.AppID) })
}

// readableAppIDs lists the ids of the apps the caller may read.
func (s *server) readableAppIDs(c *gin.Context) ([]string, bool) {
	apps, ok := s.readableApps(c)
	ids := make([]string, len(apps))
	for i, a := range apps {
		ids[i] = a.ID
	}
	return ids, ok
}

// listAllLogs returns the execution records of every app the caller may
// read, newest first.
func (s *server) listAllLogs(c *gin.Context) {
	if c.Query("app_id") != "" || c.Query("script_id") != "" {
		writeError(c, http.StatusBadRequest, "the log of all apps takes no app_id or script_id; use /api/v1/admin/logs for one app or script")
		return
	}
	q, ok := logQuery(c)
	if !ok {
		return
	}
	if q.AppIDs, ok = s.readableAppIDs(c); !ok {
		return
	}
	recs := []model.ExecutionRecord{}
	if len(q.AppIDs) > 0 {
		var err error
		if recs, err = s.deps.Manager.Executions(c, q); err != nil {
			s.fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"logs": recs})
}

// streamAllLogs streams the executions of every app the caller could read
// when the stream began.
func (s *server) streamAllLogs(c *gin.Context) {
	ids, ok := s.readableAppIDs(c)
	if !ok {
		return
	}
	apps := make(map[string]bool, len(ids))
	for _, id := range ids {
		apps[id] = true
	}
	s.stream(c, func(r model.ExecutionRecord) bool { return apps[r.AppID] }, nil)
}

// streamKeepAlive is how often a log stream sends a keep-alive and checks
// again the credentials it was opened with.
const streamKeepAlive = 15 * time.Second

// stream sends the execution records that keep passes as Server-Sent
// Events until the client goes away, or until, at a keep-alive, its
// credentials no longer hold (see recheck); it then sends an "end" event
// saying why and ends.
func (s *server) stream(c *gin.Context, keep func(model.ExecutionRecord) bool, allowed func(model.Principal) bool) {
	sub := s.deps.Hub.Subscribe(keep)
	defer sub.Close()
	w := c.Writer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = w.WriteString(": connected\n\n")
	w.Flush()
	ping := time.NewTicker(streamKeepAlive)
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
			if why := s.recheck(c, allowed); why != "" {
				data, _ := json.Marshal(gin.H{"error": why})
				_, _ = w.WriteString("event: end\ndata: " + string(data) + "\n\n")
				w.Flush()
				return
			}
			if _, err := w.WriteString(": ping\n\n"); err != nil {
				return
			}
			w.Flush()
		case <-c.Request.Context().Done():
			return
		}
	}
}

// recheck authenticates a stream's request again, as a new request with
// the same credentials would be: a session logged out or expired, an API
// token revoked or a user disabled since the stream began end it, as does
// the loss of what allowed (when not nil) requires. It returns why the
// stream may not go on, or "" while it may. A check that cannot be made
// ends the stream too: the client reconnects, and is checked anew.
func (s *server) recheck(c *gin.Context, allowed func(model.Principal) bool) string {
	var p model.Principal
	var err error
	if tok := c.GetString(tokenKey); tok != "" {
		p, _, err = s.deps.Manager.Authenticate(c, tok)
	} else if id, ok := identityOf(c.Request); ok && id.UserID == "" {
		p, err = s.deps.Manager.LocalOwner(c)
	} else if ok {
		p, err = s.deps.Manager.UserPrincipal(c, id.UserID)
	} else {
		return "this stream has no credentials to check"
	}
	switch {
	case errors.Is(err, model.ErrUnauthorized):
		return "the session or token of this stream is no longer valid (logged out, revoked or expired, or its user disabled): log in again"
	case err != nil:
		s.log.Warn("re-check a log stream's credentials", "request_id", c.GetString(requestIDKey), "err", err)
		return "the credentials of this stream could not be checked again; reconnect"
	case allowed != nil && !allowed(p):
		return "the credentials of this stream no longer allow reading these logs"
	}
	return ""
}
