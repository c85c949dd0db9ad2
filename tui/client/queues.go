package client

import (
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// Queue is one of an app's queues with what it holds now.
type Queue struct {
	Queue            string  `json:"queue"`
	Depth            int     `json:"depth"`
	InFlight         int     `json:"in_flight"`
	Retrying         int     `json:"retrying"`
	Failed           int     `json:"failed"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
}

// QueueMessage is a message of a queue.
type QueueMessage struct {
	ID          string          `json:"id"`
	Queue       string          `json:"queue"`
	Body        json.RawMessage `json:"body"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	OriginQueue string          `json:"origin_queue"`
	LastError   string          `json:"last_error"`
	CreatedAt   time.Time       `json:"created_at"`
}

func queuePath(appID, queue string) string {
	return admin + "/apps/" + url.PathEscape(appID) + "/queues/" + url.PathEscape(queue)
}

// Queues lists an app's queues by name.
func (c *Client) Queues(ctx context.Context, appID string) ([]Queue, error) {
	var out struct{ Queues []Queue }
	return out.Queues, c.do(ctx, "GET", admin+"/apps/"+url.PathEscape(appID)+"/queues", nil, &out)
}

// QueueMessages lists the first messages of a queue, oldest first.
func (c *Client) QueueMessages(ctx context.Context, appID, queue string) ([]QueueMessage, error) {
	var out struct{ Messages []QueueMessage }
	return out.Messages, c.do(ctx, "GET", queuePath(appID, queue)+"/messages?limit=1000", nil, &out)
}

// RetryQueueMessage delivers a message again now.
func (c *Client) RetryQueueMessage(ctx context.Context, appID, queue, id string) error {
	return c.do(ctx, "POST", queuePath(appID, queue)+"/messages/"+url.PathEscape(id)+"/retry", nil, nil)
}

// DeleteQueueMessage deletes a message.
func (c *Client) DeleteQueueMessage(ctx context.Context, appID, queue, id string) error {
	return c.do(ctx, "DELETE", queuePath(appID, queue)+"/messages/"+url.PathEscape(id), nil, nil)
}

// RedriveQueue sends a queue's dead messages back to be delivered and
// returns how many moved.
func (c *Client) RedriveQueue(ctx context.Context, appID, queue string) (int, error) {
	var out struct{ Moved int }
	return out.Moved, c.do(ctx, "POST", queuePath(appID, queue)+"/redrive", nil, &out)
}
