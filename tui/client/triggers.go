package client

import (
	"context"
	"net/url"
	"time"
)

// Trigger is a trigger of a script, with the settings of its type (for
// "cron": Schedule, Timezone, Misfire, MaxRetries).
type Trigger struct {
	ID         string     `json:"id"`
	AppID      string     `json:"app_id"`
	ScriptID   string     `json:"script_id"`
	Type       string     `json:"type"`
	Schedule   string     `json:"schedule"`
	Timezone   string     `json:"timezone"`
	Misfire    string     `json:"misfire"`
	MaxRetries int        `json:"max_retries"`
	Queue      string     `json:"queue"`   // a queue trigger's
	Address    string     `json:"address"` // an email trigger's
	CreatedAt  time.Time  `json:"created_at"`
	NextRunAt  *time.Time `json:"next_run_at"`
	LastRunAt  *time.Time `json:"last_run_at"`
}

// Triggers lists a script's triggers, oldest first.
func (c *Client) Triggers(ctx context.Context, scriptID string) ([]Trigger, error) {
	var out struct{ Triggers []Trigger }
	return out.Triggers, c.do(ctx, "GET", admin+"/scripts/"+url.PathEscape(scriptID)+"/triggers", nil, &out)
}

// AddCronTrigger adds a cron trigger to a script; timezone "" is UTC.
func (c *Client) AddCronTrigger(ctx context.Context, scriptID, schedule, timezone string) (Trigger, error) {
	var t Trigger
	body := map[string]string{"type": "cron", "schedule": schedule}
	if timezone != "" {
		body["timezone"] = timezone
	}
	return t, c.do(ctx, "POST", admin+"/scripts/"+url.PathEscape(scriptID)+"/triggers", body, &t)
}

// DeleteTrigger deletes a trigger.
func (c *Client) DeleteTrigger(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", admin+"/triggers/"+url.PathEscape(id), nil, nil)
}

// RunTrigger runs a trigger once now, besides its schedule.
func (c *Client) RunTrigger(ctx context.Context, id string) error {
	return c.do(ctx, "POST", admin+"/triggers/"+url.PathEscape(id)+"/run", nil, nil)
}
