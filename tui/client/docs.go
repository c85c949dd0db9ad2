package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/picloud/picloud/api/model"
)

// DocsCollection is a docs collection of an app with its documents, the
// bytes of their JSON text and its indexes.
type DocsCollection = model.DocsCollection

// DocSummary is a document in a listing: its JSON text cut short.
type DocSummary struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
	Size    int64  `json:"size"`
	Preview string `json:"preview"`
}

// DocsPage is a page of a collection's documents; Cursor asks for the next
// while Complete is false.
type DocsPage struct {
	Documents []DocSummary `json:"documents"`
	Cursor    string       `json:"cursor"`
	Complete  bool         `json:"complete"`
}

// Doc is one document: a JSON object without _id and _version.
type Doc struct {
	ID      string          `json:"id"`
	Version int64           `json:"version"`
	Size    int64           `json:"size"`
	Doc     json.RawMessage `json:"doc"`
}

// DocsQuery asks for a page of documents: Where and OrderBy are the SDK's
// find arguments as JSON text ("" for none); Contains a text the
// documents' JSON holds.
type DocsQuery struct {
	Where, OrderBy, Contains, Cursor string
	Limit                            int
}

func docsPath(appID, collection string) string {
	return admin + "/apps/" + url.PathEscape(appID) + "/docs/" + url.PathEscape(collection)
}

func docPath(appID, collection, id string) string {
	return docsPath(appID, collection) + "/documents/" + url.PathEscape(id)
}

// DocsCollections lists an app's docs collections.
func (c *Client) DocsCollections(ctx context.Context, appID string) ([]DocsCollection, error) {
	var out struct {
		Collections []DocsCollection `json:"collections"`
	}
	return out.Collections, c.do(ctx, "GET", admin+"/apps/"+url.PathEscape(appID)+"/docs", nil, &out)
}

// FindDocs returns a page of a collection's documents.
func (c *Client) FindDocs(ctx context.Context, appID, collection string, q DocsQuery) (DocsPage, error) {
	v := url.Values{}
	for k, s := range map[string]string{"where": q.Where, "order_by": q.OrderBy, "contains": q.Contains, "cursor": q.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := docsPath(appID, collection) + "/documents"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var p DocsPage
	return p, c.do(ctx, "GET", path, nil, &p)
}

// Doc returns one document.
func (c *Client) Doc(ctx context.Context, appID, collection, id string) (Doc, error) {
	var d Doc
	return d, c.do(ctx, "GET", docPath(appID, collection, id), nil, &d)
}

// ReplaceDoc writes doc over a document, only over ifVersion when it is
// not 0, and returns its new version.
func (c *Client) ReplaceDoc(ctx context.Context, appID, collection, id string, doc json.RawMessage, ifVersion int64) (int64, error) {
	body := struct {
		Doc       json.RawMessage `json:"doc"`
		IfVersion *int64          `json:"if_version,omitempty"`
	}{Doc: doc}
	if ifVersion > 0 {
		body.IfVersion = &ifVersion
	}
	var out struct {
		Version int64 `json:"version"`
	}
	return out.Version, c.do(ctx, "PUT", docPath(appID, collection, id), body, &out)
}

// DeleteDoc deletes one document; ifVersion, when not 0, only at that
// version.
func (c *Client) DeleteDoc(ctx context.Context, appID, collection, id string, ifVersion int64) error {
	path := docPath(appID, collection, id)
	if ifVersion > 0 {
		path += "?if_version=" + strconv.FormatInt(ifVersion, 10)
	}
	return c.do(ctx, "DELETE", path, nil, nil)
}
