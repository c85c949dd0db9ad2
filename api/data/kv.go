package data

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// kvArgs are the arguments of every kv operation, as the SDK sends them.
type kvArgs struct {
	Key          string          `json:"key"`
	Keys         []string        `json:"keys"`
	Type         string          `json:"type"`
	Value        *string         `json:"value"`
	Metadata     json.RawMessage `json:"metadata"`
	TTL          *float64        `json:"ttl"`
	ExpiresAt    *float64        `json:"expiresAt"` // ms since the epoch
	CheckVersion bool            `json:"checkVersion"`
	IfVersion    *int64          `json:"ifVersion"`
	Delta        *float64        `json:"delta"`
	Prefix       string          `json:"prefix"`
	Start        string          `json:"start"`
	End          string          `json:"end"`
	Cursor       string          `json:"cursor"`
	Reverse      bool            `json:"reverse"`
	Limit        int             `json:"limit"`
	Values       bool            `json:"values"`
}

func toEntry(e model.KVEntry, withKey bool) engine.KVEntry {
	out := engine.KVEntry{Type: e.Type, Metadata: e.Metadata, Version: e.Version}
	if withKey {
		out.Key = e.Key
	}
	if e.Value != nil {
		v := string(e.Value)
		if e.Type == "bytes" {
			v = base64.StdEncoding.EncodeToString(e.Value)
		}
		out.Value = &v
	}
	if e.ExpiresAt != nil {
		ms := e.ExpiresAt.UnixMilli()
		out.ExpiresAt = &ms
	}
	return out
}

func (s *Service) kvKeyArgs(call engine.DataCall) (kvArgs, error) {
	var a kvArgs
	if err := decodeArgs(call, &a); err != nil {
		return a, err
	}
	return a, checkName("a key", a.Key, MaxKeyBytes)
}

func (s *Service) kvGet(ctx context.Context, app string, call engine.DataCall) (any, error) {
	a, err := s.kvKeyArgs(call)
	if err != nil {
		return nil, err
	}
	e, err := s.kv.GetKV(ctx, app, call.Collection, a.Key)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toEntry(e, false), nil
}

func (s *Service) kvGetMany(ctx context.Context, app string, call engine.DataCall) (any, error) {
	var a kvArgs
	if err := decodeArgs(call, &a); err != nil {
		return nil, err
	}
	if len(a.Keys) > MaxMany {
		return nil, tooLarge("getMany: at most %d keys at once, not %d", MaxMany, len(a.Keys))
	}
	for _, k := range a.Keys {
		if err := checkName("a key", k, MaxKeyBytes); err != nil {
			return nil, err
		}
	}
	found, err := s.kv.GetManyKV(ctx, app, call.Collection, a.Keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]engine.KVEntry, len(found))
	for _, e := range found {
		out[e.Key] = toEntry(e, false)
	}
	return out, nil
}

func (s *Service) kvPut(ctx context.Context, app string, call engine.DataCall) (any, error) {
	a, err := s.kvKeyArgs(call)
	if err != nil {
		return nil, err
	}
	p, err := preparePut(app, call.Collection, a, s.now())
	if err != nil {
		return nil, err
	}
	if err := s.reserve(ctx, app, "put(\""+a.Key+"\")", int64(len(a.Key)+len(p.Value)+len(p.Metadata))); err != nil {
		return nil, err
	}
	version, err := s.kv.PutKV(ctx, p)
	if errors.Is(err, model.ErrConflict) {
		return nil, mismatch("put", a.Key, a.IfVersion)
	}
	if err != nil {
		return nil, err
	}
	return map[string]int64{"version": version}, nil
}

// preparePut checks a put's arguments, the key's included, and returns the
// write for the store: the checks and limits of every write of a key,
// whether a script or an administrator makes it.
func preparePut(app, collection string, a kvArgs, now time.Time) (model.KVPut, error) {
	if err := checkName("a key", a.Key, MaxKeyBytes); err != nil {
		return model.KVPut{}, err
	}
	p := model.KVPut{AppID: app, Collection: collection, Key: a.Key, Type: a.Type,
		CheckVersion: a.CheckVersion, IfVersion: a.IfVersion}
	var err error
	if p.Value, err = decodeValue(a); err != nil {
		return model.KVPut{}, err
	}
	if len(p.Value) > MaxValueBytes {
		return model.KVPut{}, tooLarge("the value of key %q is %d bytes, over the %d allowed (1 MiB)", a.Key, len(p.Value), MaxValueBytes)
	}
	if a.Metadata != nil && string(a.Metadata) != "null" {
		if len(a.Metadata) > MaxMetadataBytes {
			return model.KVPut{}, tooLarge("the metadata of key %q is %d bytes of JSON, over the %d allowed", a.Key, len(a.Metadata), MaxMetadataBytes)
		}
		if !json.Valid(a.Metadata) {
			return model.KVPut{}, invalid("put(%q): the metadata is not valid JSON", a.Key)
		}
		p.Metadata = a.Metadata
	}
	if p.ExpiresAt, err = expiry(a, now); err != nil {
		return model.KVPut{}, err
	}
	if p.IfVersion != nil && *p.IfVersion < 1 {
		return model.KVPut{}, invalid("put(%q): ifVersion must be a version number, or null", a.Key)
	}
	return p, nil
}

// mismatch is the error of a write whose ifVersion did not hold.
func mismatch(op, key string, ifVersion *int64) error {
	msg := op + "(\"" + key + "\"): the key exists (ifVersion: null asks for an absent key); nothing was changed"
	if ifVersion != nil {
		msg = op + "(\"" + key + "\"): the key is not at version " + itoa(*ifVersion) + " any more (or is gone); nothing was changed"
	}
	return &engine.DataError{Code: engine.CodeDataConflict, Message: msg}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// decodeValue turns a put's value into the bytes stored.
func decodeValue(a kvArgs) ([]byte, error) {
	if a.Value == nil {
		return nil, invalid("put(%q): a value is required", a.Key)
	}
	switch a.Type {
	case "text":
		return []byte(*a.Value), nil
	case "json":
		if !json.Valid([]byte(*a.Value)) {
			return nil, invalid("put(%q): the value is not valid JSON", a.Key)
		}
		return []byte(*a.Value), nil
	case "bytes":
		b, err := base64.StdEncoding.DecodeString(*a.Value)
		if err != nil {
			return nil, invalid("put(%q): the binary value is not base64", a.Key)
		}
		return b, nil
	}
	return nil, invalid("put(%q): unknown value type %q", a.Key, a.Type)
}

// expiry is when a put's key expires: ttl seconds from now, or expiresAt.
func expiry(a kvArgs, now time.Time) (*time.Time, error) {
	var at time.Time
	switch {
	case a.TTL != nil && a.ExpiresAt != nil:
		return nil, invalid("put(%q): give ttl or expiresAt, not both", a.Key)
	case a.TTL != nil:
		if !(*a.TTL > 0) || *a.TTL > 100*365*24*3600 {
			return nil, invalid("put(%q): ttl must be a positive number of seconds", a.Key)
		}
		at = now.Add(time.Duration(*a.TTL * float64(time.Second)))
	case a.ExpiresAt != nil:
		ms := *a.ExpiresAt
		if math.IsNaN(ms) || math.IsInf(ms, 0) || ms > 1e15 || ms < 0 {
			return nil, invalid("put(%q): expiresAt is not a usable time", a.Key)
		}
		at = time.UnixMilli(int64(ms))
		if !at.After(now) {
			return nil, invalid("put(%q): expiresAt is in the past", a.Key)
		}
	default:
		return nil, nil
	}
	return &at, nil
}

func (s *Service) kvDelete(ctx context.Context, app string, call engine.DataCall) (any, error) {
	a, err := s.kvKeyArgs(call)
	if err != nil {
		return nil, err
	}
	var ifVersion *int64
	if a.CheckVersion {
		if a.IfVersion == nil {
			return nil, invalid("delete(%q): ifVersion must be a version number", a.Key)
		}
		ifVersion = a.IfVersion
	}
	deleted, err := s.kv.DeleteKV(ctx, app, call.Collection, a.Key, ifVersion)
	if errors.Is(err, model.ErrConflict) {
		return nil, mismatch("delete", a.Key, ifVersion)
	}
	if err != nil {
		return nil, err
	}
	if deleted {
		s.freed(app)
	}
	return map[string]bool{"deleted": deleted}, nil
}

func (s *Service) kvIncr(ctx context.Context, app string, call engine.DataCall) (any, error) {
	a, err := s.kvKeyArgs(call)
	if err != nil {
		return nil, err
	}
	delta := 1.0
	if a.Delta != nil {
		delta = *a.Delta
	}
	// A number's JSON text is at most 24 bytes.
	if err := s.reserve(ctx, app, "incr(\""+a.Key+"\")", int64(len(a.Key)+24)); err != nil {
		return nil, err
	}
	n, version, err := s.kv.IncrKV(ctx, app, call.Collection, a.Key, delta)
	if errors.Is(err, model.ErrInvalid) {
		return nil, &engine.DataError{Code: engine.CodeDataNotNumber,
			Message: "incr(\"" + a.Key + "\"): the key holds something other than a number; nothing was changed"}
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"value": n, "version": version}, nil
}

// cursorPrefix versions the cursors list returns: base64url of it and the
// last key of the page.
const cursorPrefix = "k1:"

func encodeCursor(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + key))
}

func decodeCursor(c string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), cursorPrefix) {
		return "", false
	}
	key := string(b[len(cursorPrefix):])
	return key, checkName("", key, MaxKeyBytes) == nil
}

func (s *Service) kvList(ctx context.Context, app string, call engine.DataCall) (any, error) {
	var a kvArgs
	if err := decodeArgs(call, &a); err != nil {
		return nil, err
	}
	q := model.KVListQuery{AppID: app, Collection: call.Collection, Prefix: a.Prefix, Start: a.Start, End: a.End,
		Reverse: a.Reverse, Limit: a.Limit, Values: a.Values}
	switch {
	case q.Limit == 0:
		q.Limit = MaxList
	case q.Limit < 0 || q.Limit > MaxList:
		return nil, invalid("list: limit must be from 1 to %d", MaxList)
	}
	if a.Prefix != "" && (a.Start != "" || a.End != "") {
		return nil, invalid("list: give prefix or start/end, not both")
	}
	for _, f := range []struct{ name, v string }{{"prefix", a.Prefix}, {"start", a.Start}, {"end", a.End}} {
		if f.v != "" {
			if err := checkName("list: "+f.name, f.v, MaxKeyBytes); err != nil {
				return nil, err
			}
		}
	}
	if a.Cursor != "" {
		after, ok := decodeCursor(a.Cursor)
		if !ok {
			return nil, invalid("list: the cursor is not one that list returned")
		}
		q.After = after
	}
	want := q.Limit
	q.Limit++ // one more tells whether the listing is complete
	found, err := s.kv.ListKV(ctx, q)
	if err != nil {
		return nil, err
	}
	complete := len(found) <= want
	if !complete {
		found = found[:want]
	}
	items := make([]engine.KVEntry, len(found))
	for i, e := range found {
		items[i] = toEntry(e, true)
	}
	out := map[string]any{"items": items, "complete": complete}
	if !complete {
		out["cursor"] = encodeCursor(found[len(found)-1].Key)
	}
	return out, nil
}
