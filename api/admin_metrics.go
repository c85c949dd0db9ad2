package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/model"
)

// metrics serves the Prometheus metrics.
func (s *server) metrics(c *gin.Context) {
	if s.deps.Metrics == nil {
		writeError(c, http.StatusNotFound, "metrics are not collected by this daemon")
		return
	}
	s.deps.Metrics.ServeHTTP(c.Writer, c.Request)
}

// rollupWindow is how far back a query reaches by default, and at most,
// for each step: what the retention keeps.
var rollupWindow = map[string][2]time.Duration{
	model.StepMinute: {time.Hour, 7 * 24 * time.Hour},
	model.StepHour:   {7 * 24 * time.Hour, 90 * 24 * time.Hour},
}

// listRollups returns the minute or hour rollups of a script (script_id),
// an app (app_id) or every app the caller may read, since a time (since:
// RFC 3339, or a duration back from now such as 30m or 24h).
func (s *server) listRollups(c *gin.Context) {
	q := model.RollupQuery{Step: c.DefaultQuery("step", model.StepMinute)}
	window, ok := rollupWindow[q.Step]
	if !ok {
		writeError(c, http.StatusBadRequest, "step must be minute or hour")
		return
	}
	now := time.Now()
	q.Since = now.Add(-window[0])
	if v := c.Query("since"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			q.Since = now.Add(-d)
		} else if t, err := time.Parse(time.RFC3339, v); err == nil {
			q.Since = t
		} else {
			writeError(c, http.StatusBadRequest, "since must be a time (RFC 3339, e.g. 2026-12-07T10:00:00Z) or a duration back from now (e.g. 30m, 24h)")
			return
		}
	}
	if oldest := now.Add(-window[1]); q.Since.Before(oldest) {
		q.Since = oldest // nothing older is kept
	}
	if c.Query("app_id") != "" || c.Query("script_id") != "" {
		app, ok := logsApp(s, c)
		if !ok || !s.permit(c, access.ReadApp, app) {
			return
		}
		q.AppIDs, q.ScriptID = []string{app}, c.Query("script_id")
	} else if q.AppIDs, ok = s.readableAppIDs(c); !ok {
		return
	}
	rollups := []model.Rollup{}
	if len(q.AppIDs) > 0 {
		var err error
		if rollups, err = s.deps.Manager.Rollups(c, q); err != nil {
			s.fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"step": q.Step, "since": q.Since.UTC(), "rollups": rollups})
}
