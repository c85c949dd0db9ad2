package client

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// AppUser is a user of an app (the SDK's users module).
type AppUser struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id"`
	Email     string    `json:"email"`
	Verified  bool      `json:"verified"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// AppUsers lists up to limit users of an app by email, those whose email
// contains search.
func (c *Client) AppUsers(ctx context.Context, appID, search string, limit int) ([]AppUser, error) {
	var out struct{ Users []AppUser }
	q := url.Values{"search": {search}, "limit": {fmt.Sprint(limit)}}
	return out.Users, c.do(ctx, "GET", admin+"/apps/"+url.PathEscape(appID)+"/users?"+q.Encode(), nil, &out)
}

// SetAppUserDisabled disables a user of an app (its sessions end), or
// enables it again.
func (c *Client) SetAppUserDisabled(ctx context.Context, appID, id string, disabled bool) error {
	return c.do(ctx, "PATCH", admin+"/apps/"+url.PathEscape(appID)+"/users/"+url.PathEscape(id), map[string]bool{"disabled": disabled}, nil)
}

// DeleteAppUser deletes a user of an app.
func (c *Client) DeleteAppUser(ctx context.Context, appID, id string) error {
	return c.do(ctx, "DELETE", admin+"/apps/"+url.PathEscape(appID)+"/users/"+url.PathEscape(id), nil, nil)
}

// RevokeAppUserSessions ends every session of a user of an app.
func (c *Client) RevokeAppUserSessions(ctx context.Context, appID, id string) error {
	return c.do(ctx, "POST", admin+"/apps/"+url.PathEscape(appID)+"/users/"+url.PathEscape(id)+"/revoke-sessions", nil, nil)
}
