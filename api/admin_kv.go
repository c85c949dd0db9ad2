package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/model"
)

// kvRoutes serves the scripts' kv data of an app. A key is the rest of the
// path after /keys/, percent-decoded once: it may hold "/" (as it is or as
// %2F, the same key), and "%", "?", "#" and spaces as %25, %3F, %23, %20.
func (s *server) kvRoutes(authed *gin.RouterGroup) {
	read, write := s.allow(access.ReadApp, appParam), s.allow(access.WriteApp, appParam)
	authed.GET("/apps/:id/kv", read, s.listKVCollections)
	authed.GET("/apps/:id/kv/:collection/keys", read, s.browseKV)
	authed.GET("/apps/:id/kv/:collection/keys/*key", read, s.getKV)
	authed.PUT("/apps/:id/kv/:collection/keys/*key", write, s.putKV)
	authed.DELETE("/apps/:id/kv/:collection/keys/*key", write, s.deleteKV)
}

// kvKey is the key of the path: everything after /keys/.
func kvKey(c *gin.Context) string { return strings.TrimPrefix(c.Param("key"), "/") }

func (s *server) listKVCollections(c *gin.Context) {
	cs, err := s.deps.Manager.KVCollections(c, c.GetString(appKey))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"collections": cs})
}

func (s *server) browseKV(c *gin.Context) {
	b := manager.KVBrowse{Prefix: c.Query("prefix"), Contains: c.Query("contains"), Cursor: c.Query("cursor")}
	limit, ok := limitQuery(c, "keys")
	if !ok {
		return
	}
	b.Limit = limit
	page, err := s.deps.Manager.KVKeys(c, c.GetString(appKey), c.Param("collection"), b)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// kvValueView is a key with its value: JSON as JSON, text as a string,
// bytes as a string of base64 (standard, padded).
type kvValueView struct {
	Key       string          `json:"key"`
	Type      string          `json:"type"`
	Value     json.RawMessage `json:"value"`
	Size      int             `json:"size"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	Version   int64           `json:"version"`
	ExpiresAt *time.Time      `json:"expires_at,omitempty"`
}

func kvValueOf(e model.KVEntry) (kvValueView, error) {
	v := kvValueView{Key: e.Key, Type: e.Type, Size: len(e.Value), Metadata: e.Metadata, Version: e.Version, ExpiresAt: e.ExpiresAt}
	var err error
	switch e.Type {
	case "json":
		v.Value = json.RawMessage(e.Value)
	case "bytes":
		v.Value, err = json.Marshal(base64.StdEncoding.EncodeToString(e.Value))
	default:
		v.Value, err = json.Marshal(string(e.Value))
	}
	return v, err
}

func (s *server) getKV(c *gin.Context) {
	e, err := s.deps.Manager.KVValue(c, c.GetString(appKey), c.Param("collection"), kvKey(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	v, err := kvValueOf(e)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// kvPutRequest writes a key. Value has the shape GET gives: any JSON for
// type json, a string for text, a string of base64 for bytes. if_version
// absent writes whatever is there, null only if the key is absent, a
// number only over that version.
type kvPutRequest struct {
	Type      string          `json:"type"`
	Value     json.RawMessage `json:"value"`
	Metadata  json.RawMessage `json:"metadata"`
	TTL       *float64        `json:"ttl"`
	ExpiresAt *time.Time      `json:"expires_at"`
	IfVersion json.RawMessage `json:"if_version"`
}

// write is the request as the data service's checks take it.
func (r kvPutRequest) write(app, collection, key string) (data.KVWrite, string) {
	w := data.KVWrite{AppID: app, Collection: collection, Key: key, Type: r.Type, Metadata: r.Metadata,
		TTL: r.TTL, ExpiresAt: r.ExpiresAt}
	if r.Value == nil {
		return w, "value is required"
	}
	switch r.Type {
	case "json":
		w.Value = string(r.Value)
	case "text":
		if !stringValue(r.Value, &w.Value) {
			return w, "the value of a text key must be a string"
		}
	case "bytes":
		if !stringValue(r.Value, &w.Value) {
			return w, "the value of a bytes key must be a string of base64"
		}
	default:
		return w, `type must be "text", "json" or "bytes"`
	}
	if r.IfVersion != nil {
		w.CheckVersion = true
		if string(r.IfVersion) != "null" {
			var n int64
			if err := json.Unmarshal(r.IfVersion, &n); err != nil || n < 1 {
				return w, "if_version must be a version number, or null for a key that is absent"
			}
			w.IfVersion = &n
		}
	}
	return w, ""
}

// stringValue decodes a JSON string into v.
func stringValue(raw json.RawMessage, v *string) bool {
	return string(raw) != "null" && json.Unmarshal(raw, v) == nil
}

func (s *server) putKV(c *gin.Context) {
	var req kvPutRequest
	if !bindJSON(c, &req) {
		return
	}
	w, problem := req.write(c.GetString(appKey), c.Param("collection"), kvKey(c))
	if problem != "" {
		writeError(c, http.StatusBadRequest, problem)
		return
	}
	version, err := s.deps.Manager.PutKV(c, s.actor(c), w)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"key": w.Key, "version": version})
}

func (s *server) deleteKV(c *gin.Context) {
	ifVersion, ok := ifVersionQuery(c)
	if !ok {
		return
	}
	if err := s.deps.Manager.DeleteKV(c, s.actor(c), c.GetString(appKey), c.Param("collection"), kvKey(c), ifVersion); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
