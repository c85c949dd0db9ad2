package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/model"
)

// triggerJSON is a trigger as the API shows it: its settings next to its
// own fields, as they were given.
func triggerJSON(t model.Trigger) gin.H {
	out := gin.H{}
	var cfg map[string]any
	if json.Unmarshal(t.Config, &cfg) == nil {
		for k, v := range cfg {
			out[k] = v
		}
	}
	out["id"], out["app_id"], out["script_id"], out["type"] = t.ID, t.AppID, t.ScriptID, t.Type
	out["created_at"] = t.CreatedAt.UTC().Format(time.RFC3339Nano)
	out["next_run_at"], out["last_run_at"] = timeOrNil(t.NextRunAt), timeOrNil(t.LastRunAt)
	return out
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (s *server) listTriggers(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	ts, err := s.deps.Manager.Triggers(c, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]gin.H, 0, len(ts))
	for _, t := range ts {
		out = append(out, triggerJSON(t))
	}
	c.JSON(http.StatusOK, gin.H{"triggers": out})
}

// createTrigger reads {"type": …, settings of that type…}; the manager
// checks the settings strictly.
func (s *server) createTrigger(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	var body map[string]json.RawMessage
	if !bindJSON(c, &body) {
		return
	}
	var typ string
	if raw, ok := body["type"]; ok {
		if err := json.Unmarshal(raw, &typ); err != nil {
			writeError(c, http.StatusBadRequest, "type must be a string, such as \"cron\"")
			return
		}
	}
	delete(body, "type")
	config, err := json.Marshal(body)
	if err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.deps.Manager.CreateTrigger(c, s.actor(c), id, typ, config)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, triggerJSON(t))
}

func (s *server) deleteTrigger(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	if err := s.deps.Manager.DeleteTrigger(c, s.actor(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// runTrigger runs a trigger once now; the run is in the execution log.
func (s *server) runTrigger(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	if err := s.deps.Manager.RunTrigger(c, s.actor(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"queued": true})
}
