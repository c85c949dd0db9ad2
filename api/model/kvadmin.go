package model

import (
	"encoding/json"
	"time"
)

// KVCollection is one kv collection of an app as an administrator sees it:
// its live keys and the bytes they take (keys, values and metadata).
type KVCollection struct {
	Name  string `json:"name"`
	Keys  int64  `json:"keys"`
	Bytes int64  `json:"bytes"`
}

// KVKeyInfo is one key of a collection without its value, as a listing of
// the admin API shows it.
type KVKeyInfo struct {
	Key       string          `json:"key"`
	Type      string          `json:"type"`
	Size      int64           `json:"size"` // bytes of the value
	Version   int64           `json:"version"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	ExpiresAt *time.Time      `json:"expires_at,omitempty"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// KVBrowseQuery selects keys of a collection for an administrator, in key
// order (bytewise).
type KVBrowseQuery struct {
	AppID, Collection string
	Prefix            string // only keys starting with it
	Contains          string // only keys holding it
	After             string // resume after this key (a cursor's)
	Limit             int
}
