package client

import (
	"context"
	"net/url"

	"github.com/picloud/picloud/api/model"
)

// Rollup is one script's requests in one minute or hour.
type Rollup = model.Rollup

// Rollups returns the minute rollups of the last since (e.g. "30m") of one
// app's scripts, or of every app the user may read when appID is "".
func (c *Client) Rollups(ctx context.Context, appID, since string) ([]Rollup, error) {
	q := url.Values{"since": {since}}
	if appID != "" {
		q.Set("app_id", appID)
	}
	var out struct{ Rollups []Rollup }
	return out.Rollups, c.do(ctx, "GET", admin+"/metrics?"+q.Encode(), nil, &out)
}
