package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/model"
)

// Paging of the keys of a collection.
const (
	MaxKVPage     = data.MaxList // keys in one page
	defaultKVPage = 100
)

// KVBrowse asks for a page of a collection's keys.
type KVBrowse struct {
	Prefix   string // only keys starting with it
	Contains string // only keys holding it
	Cursor   string // from the page before; "" for the first
	Limit    int    // 0: 100
}

// KVPage is a page of a collection's keys; Cursor, when the listing is not
// Complete, asks for the next.
type KVPage struct {
	Keys     []model.KVKeyInfo `json:"keys"`
	Cursor   string            `json:"cursor,omitempty"`
	Complete bool              `json:"complete"`
}

// KVCollections lists an app's kv collections with their keys and bytes.
func (s *Service) KVCollections(ctx context.Context, appID string) ([]model.KVCollection, error) {
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return nil, err
	}
	cs, err := s.store.KVCollections(ctx, appID)
	if cs == nil {
		cs = []model.KVCollection{}
	}
	return cs, err
}

// KVKeys returns a page of a collection's keys, in key order, without
// their values.
func (s *Service) KVKeys(ctx context.Context, appID, collection string, b KVBrowse) (KVPage, error) {
	if err := data.CheckCollection(collection); err != nil {
		return KVPage{}, err
	}
	q := model.KVBrowseQuery{AppID: appID, Collection: collection, Prefix: b.Prefix, Contains: b.Contains, Limit: b.Limit}
	switch {
	case q.Limit == 0:
		q.Limit = defaultKVPage
	case q.Limit < 0 || q.Limit > MaxKVPage:
		return KVPage{}, fmt.Errorf("%w: limit must be from 1 to %d", model.ErrInvalid, MaxKVPage)
	}
	for what, v := range map[string]string{"prefix": b.Prefix, "contains": b.Contains} {
		if v != "" && data.CheckKey(v) != nil {
			return KVPage{}, fmt.Errorf("%w: %s must be valid UTF-8 without NUL characters, at most %d bytes", model.ErrInvalid, what, data.MaxKeyBytes)
		}
	}
	if b.Cursor != "" {
		after, err := data.DecodeCursor(b.Cursor)
		if err != nil {
			return KVPage{}, err
		}
		q.After = after
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return KVPage{}, err
	}
	want := q.Limit
	q.Limit++ // one more tells whether the listing is complete
	keys, err := s.store.BrowseKV(ctx, q)
	if err != nil {
		return KVPage{}, err
	}
	page := KVPage{Keys: keys, Complete: len(keys) <= want}
	if !page.Complete {
		page.Keys = keys[:want]
		page.Cursor = data.EncodeCursor(page.Keys[want-1].Key)
	}
	if page.Keys == nil {
		page.Keys = []model.KVKeyInfo{}
	}
	return page, nil
}

// KVValue returns one key of a collection with its value.
func (s *Service) KVValue(ctx context.Context, appID, collection, key string) (model.KVEntry, error) {
	if err := checkKVName(collection, key); err != nil {
		return model.KVEntry{}, err
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return model.KVEntry{}, err
	}
	return s.store.GetKV(ctx, appID, collection, key)
}

// PutKV writes one key of an app's collection, with the checks and limits
// of a script's put, and returns its new version. The audit record names
// the collection and the key, never the value.
func (s *Service) PutKV(ctx context.Context, a model.Actor, w data.KVWrite) (int64, error) {
	p, err := data.CheckKVWrite(w, s.now())
	if err != nil {
		return 0, err
	}
	if err := s.reserveStorage(ctx, w.AppID, fmt.Sprintf("write key %q", p.Key), len(p.Key)+len(p.Value)+len(p.Metadata)); err != nil {
		return 0, err
	}
	var version int64
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.store.AppByID(ctx, w.AppID); err != nil {
			return err
		}
		if version, err = s.store.PutKV(ctx, p); err != nil {
			return kvConflict(err, "write", p.Key, p.IfVersion)
		}
		return s.audit(ctx, a, "kv.put", w.AppID, p.Key, map[string]any{"collection": p.Collection,
			"type": p.Type, "bytes": len(p.Value), "version": version})
	})
	if err != nil {
		return 0, err
	}
	s.log.Info("kv key written", "app", w.AppID, "collection", p.Collection, "user", a.Username)
	return version, nil
}

// DeleteKV deletes one key of an app's collection; with ifVersion, only
// that version of it. A key that is not there is model.ErrNotFound.
func (s *Service) DeleteKV(ctx context.Context, a model.Actor, appID, collection, key string, ifVersion *int64) error {
	if err := checkKVName(collection, key); err != nil {
		return err
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.store.AppByID(ctx, appID); err != nil {
			return err
		}
		deleted, err := s.store.DeleteKV(ctx, appID, collection, key, ifVersion)
		if err != nil {
			return kvConflict(err, "delete", key, ifVersion)
		}
		if !deleted {
			return fmt.Errorf("key %q of collection %q: %w", key, collection, model.ErrNotFound)
		}
		s.storageFreed(appID)
		details := map[string]any{"collection": collection}
		if ifVersion != nil {
			details["if_version"] = *ifVersion
		}
		return s.audit(ctx, a, "kv.delete", appID, key, details)
	})
	if err != nil {
		return err
	}
	s.log.Info("kv key deleted", "app", appID, "collection", collection, "user", a.Username)
	return nil
}

func checkKVName(collection, key string) error {
	if err := data.CheckCollection(collection); err != nil {
		return err
	}
	return data.CheckKey(key)
}

// kvConflict words a failed version check for a person.
func kvConflict(err error, op, key string, ifVersion *int64) error {
	if !errors.Is(err, model.ErrConflict) {
		return err
	}
	if ifVersion == nil && op == "write" {
		return fmt.Errorf("%w: key %q exists (if_version null asks for an absent key); nothing was changed", model.ErrConflict, key)
	}
	return fmt.Errorf("%w: key %q is not at version %d any more (or is gone); nothing was changed", model.ErrConflict, key, *ifVersion)
}
