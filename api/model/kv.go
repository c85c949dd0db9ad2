package model

import (
	"encoding/json"
	"time"
)

// KVEntry is one key of an app's kv collection.
type KVEntry struct {
	Key       string
	Type      string // text, json or bytes: how the script put the value
	Value     []byte // nil when a listing leaves values out
	Metadata  json.RawMessage
	Version   int64
	ExpiresAt *time.Time
}

// KVPut writes one key.
type KVPut struct {
	AppID, Collection, Key string
	Type                   string
	Value                  []byte
	Metadata               json.RawMessage // nil: none
	ExpiresAt              *time.Time      // nil: never
	// With CheckVersion, the write happens only if the key's version is
	// IfVersion, or, for a nil IfVersion, if the key is absent; otherwise
	// it fails with ErrConflict and changes nothing.
	CheckVersion bool
	IfVersion    *int64
}

// KVListQuery selects keys of a collection in key order (bytewise).
type KVListQuery struct {
	AppID, Collection string
	Prefix            string // only keys starting with it
	Start, End        string // Start ≤ key < End, each when set
	After             string // resume after this key (a cursor's)
	Reverse           bool
	Limit             int
	Values            bool // load the values too
}
