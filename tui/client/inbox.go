package client

import (
	"context"
	"net/url"
	"time"
)

// InboxMessage is a message an app received by email. Raw is set only
// when one message is asked for.
type InboxMessage struct {
	ID           string    `json:"id"`
	ScriptID     string    `json:"script_id"`
	From         string    `json:"from"`
	To           string    `json:"to"`
	Subject      string    `json:"subject"`
	Size         int       `json:"size"`
	State        string    `json:"state"`
	Attempts     int       `json:"attempts"`
	LastError    string    `json:"last_error"`
	RejectReason string    `json:"reject_reason"`
	ReceivedAt   time.Time `json:"received_at"`
	Raw          string    `json:"raw"`
	RawTruncated bool      `json:"raw_truncated"`
}

func inboxPath(appID string) string {
	return admin + "/apps/" + url.PathEscape(appID) + "/email/inbox"
}

// InboxMessages lists an app's received messages, newest first (the
// newest 500).
func (c *Client) InboxMessages(ctx context.Context, appID string) ([]InboxMessage, error) {
	var out struct{ Messages []InboxMessage }
	return out.Messages, c.do(ctx, "GET", inboxPath(appID)+"?limit=500", nil, &out)
}

// InboxMessage returns one received message with its text.
func (c *Client) InboxMessage(ctx context.Context, appID, id string) (InboxMessage, error) {
	var out InboxMessage
	return out, c.do(ctx, "GET", inboxPath(appID)+"/"+url.PathEscape(id), nil, &out)
}

// RetryInboxMessage delivers a failed or rejected message again.
func (c *Client) RetryInboxMessage(ctx context.Context, appID, id string) error {
	return c.do(ctx, "POST", inboxPath(appID)+"/"+url.PathEscape(id)+"/retry", nil, nil)
}

// DeleteInboxMessage deletes a received message.
func (c *Client) DeleteInboxMessage(ctx context.Context, appID, id string) error {
	return c.do(ctx, "DELETE", inboxPath(appID)+"/"+url.PathEscape(id), nil, nil)
}
