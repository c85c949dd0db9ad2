package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/picloud/picloud/api/model"
)

type (
	// KVCollection is a kv collection of an app with its live keys and
	// the bytes they take.
	KVCollection = model.KVCollection
	// KVKey is one key of a collection without its value.
	KVKey = model.KVKeyInfo
)

// KVPage is a page of a collection's keys; Cursor asks for the next while
// Complete is false.
type KVPage struct {
	Keys     []KVKey `json:"keys"`
	Cursor   string  `json:"cursor"`
	Complete bool    `json:"complete"`
}

// KVValue is one key with its value: for type json the JSON itself, for
// text a JSON string, for bytes a JSON string of base64.
type KVValue struct {
	Key       string          `json:"key"`
	Type      string          `json:"type"`
	Value     json.RawMessage `json:"value"`
	Size      int             `json:"size"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	Version   int64           `json:"version"`
	ExpiresAt *time.Time      `json:"expires_at,omitempty"`
}

// KVWrite writes one key; Value is in KVValue's shape. IfVersion, when
// set, writes only over that version.
type KVWrite struct {
	Type      string          `json:"type"`
	Value     json.RawMessage `json:"value"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	ExpiresAt *time.Time      `json:"expires_at,omitempty"`
	IfVersion *int64          `json:"if_version,omitempty"`
}

// KVQuery asks for a page of keys.
type KVQuery struct {
	Prefix, Contains, Cursor string
	Limit                    int
}

func kvPath(appID, collection string) string {
	return admin + "/apps/" + url.PathEscape(appID) + "/kv/" + url.PathEscape(collection)
}

// keyPath is the path of a key: the API takes the rest of the path as the
// key, decoded once; dots are escaped too, so that no client folds a key
// of "." or ".." away as a path segment.
func keyPath(appID, collection, key string) string {
	return kvPath(appID, collection) + "/keys/" + strings.ReplaceAll(url.PathEscape(key), ".", "%2E")
}

// KVCollections lists an app's kv collections.
func (c *Client) KVCollections(ctx context.Context, appID string) ([]KVCollection, error) {
	var out struct {
		Collections []KVCollection `json:"collections"`
	}
	return out.Collections, c.do(ctx, "GET", admin+"/apps/"+url.PathEscape(appID)+"/kv", nil, &out)
}

// KVKeys returns a page of a collection's keys.
func (c *Client) KVKeys(ctx context.Context, appID, collection string, q KVQuery) (KVPage, error) {
	v := url.Values{}
	for k, s := range map[string]string{"prefix": q.Prefix, "contains": q.Contains, "cursor": q.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := kvPath(appID, collection) + "/keys"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var p KVPage
	return p, c.do(ctx, "GET", path, nil, &p)
}

// KVValue returns one key with its value.
func (c *Client) KVValue(ctx context.Context, appID, collection, key string) (KVValue, error) {
	var v KVValue
	return v, c.do(ctx, "GET", keyPath(appID, collection, key), nil, &v)
}

// PutKV writes one key and returns its new version.
func (c *Client) PutKV(ctx context.Context, appID, collection, key string, w KVWrite) (int64, error) {
	var out struct {
		Version int64 `json:"version"`
	}
	return out.Version, c.do(ctx, "PUT", keyPath(appID, collection, key), w, &out)
}

// DeleteKV deletes one key; ifVersion, when not 0, only at that version.
func (c *Client) DeleteKV(ctx context.Context, appID, collection, key string, ifVersion int64) error {
	path := keyPath(appID, collection, key)
	if ifVersion > 0 {
		path += "?if_version=" + strconv.FormatInt(ifVersion, 10)
	}
	return c.do(ctx, "DELETE", path, nil, nil)
}
