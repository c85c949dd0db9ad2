package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

// Every read of kv_entries sees only live keys: an expired key is gone the
// moment it expires, whether or not the purge has deleted it yet.
const kvLive = `(expires_at IS NULL OR expires_at > now())`

const kvColumns = `key, type, value, metadata, version, expires_at`

func scanKV(row pgx.CollectableRow) (model.KVEntry, error) {
	var e model.KVEntry
	err := row.Scan(&e.Key, &e.Type, &e.Value, &e.Metadata, &e.Version, &e.ExpiresAt)
	return e, err
}

// GetKV returns a live key of an app's collection, or model.ErrNotFound.
func (s *Store) GetKV(ctx context.Context, appID, collection, key string) (model.KVEntry, error) {
	var e model.KVEntry
	err := s.q(ctx).QueryRow(ctx, `SELECT `+kvColumns+` FROM kv_entries
WHERE app_id = $1 AND collection = $2 AND key = $3 AND `+kvLive, appID, collection, key).Scan(&e.Key, &e.Type, &e.Value, &e.Metadata, &e.Version, &e.ExpiresAt)
	if err != nil {
		return model.KVEntry{}, fmt.Errorf("get key %q of collection %q: %w", key, collection, mapError(err))
	}
	return e, nil
}

// GetManyKV returns the live keys among keys, in no particular order.
func (s *Store) GetManyKV(ctx context.Context, appID, collection string, keys []string) ([]model.KVEntry, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+kvColumns+` FROM kv_entries
WHERE app_id = $1 AND collection = $2 AND key = ANY($3) AND `+kvLive, appID, collection, keys)
	if err != nil {
		return nil, fmt.Errorf("get keys of collection %q: %w", collection, mapError(err))
	}
	out, err := pgx.CollectRows(rows, scanKV)
	if err != nil {
		return nil, fmt.Errorf("get keys of collection %q: %w", collection, mapError(err))
	}
	return out, nil
}

// PutKV writes a key and returns its new version. With p.CheckVersion it
// writes only over the version asked for (or no live key), else fails
// with model.ErrConflict. An expired key counts as absent.
func (s *Store) PutKV(ctx context.Context, p model.KVPut) (int64, error) {
	var meta any
	if p.Metadata != nil {
		meta = []byte(p.Metadata)
	}
	args := []any{p.AppID, p.Collection, p.Key, p.Type, p.Value, meta, p.ExpiresAt}
	var sql string
	switch {
	case !p.CheckVersion:
		sql = `INSERT INTO kv_entries AS kv (app_id, collection, key, type, value, metadata, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (app_id, collection, key) DO UPDATE SET type = EXCLUDED.type, value = EXCLUDED.value,
    metadata = EXCLUDED.metadata, expires_at = EXCLUDED.expires_at, version = nextval('kv_versions'), updated_at = now()
RETURNING version`
	case p.IfVersion == nil: // only if absent
		sql = `INSERT INTO kv_entries AS kv (app_id, collection, key, type, value, metadata, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (app_id, collection, key) DO UPDATE SET type = EXCLUDED.type, value = EXCLUDED.value,
    metadata = EXCLUDED.metadata, expires_at = EXCLUDED.expires_at, version = nextval('kv_versions'),
    created_at = now(), updated_at = now()
WHERE NOT (kv.expires_at IS NULL OR kv.expires_at > now())
RETURNING version`
	default:
		args = append(args, *p.IfVersion)
		sql = `UPDATE kv_entries SET type = $4, value = $5, metadata = $6, expires_at = $7,
    version = nextval('kv_versions'), updated_at = now()
WHERE app_id = $1 AND collection = $2 AND key = $3 AND version = $8 AND ` + kvLive + `
RETURNING version`
	}
	var version int64
	err := s.q(ctx).QueryRow(ctx, sql, args...).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("put key %q of collection %q: %w", p.Key, p.Collection, model.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("put key %q of collection %q: %w", p.Key, p.Collection, mapError(err))
	}
	return version, nil
}

// DeleteKV deletes a key and says whether a live one was there. With
// ifVersion, it deletes only that version, else fails with
// model.ErrConflict.
func (s *Store) DeleteKV(ctx context.Context, appID, collection, key string, ifVersion *int64) (bool, error) {
	sql := `DELETE FROM kv_entries WHERE app_id = $1 AND collection = $2 AND key = $3 RETURNING ` + kvLive
	args := []any{appID, collection, key}
	if ifVersion != nil {
		sql = `DELETE FROM kv_entries WHERE app_id = $1 AND collection = $2 AND key = $3 AND version = $4 AND ` + kvLive + ` RETURNING true`
		args = append(args, *ifVersion)
	}
	var live bool
	err := s.q(ctx).QueryRow(ctx, sql, args...).Scan(&live)
	switch {
	case errors.Is(err, pgx.ErrNoRows) && ifVersion != nil:
		return false, fmt.Errorf("delete key %q of collection %q: %w", key, collection, model.ErrConflict)
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("delete key %q of collection %q: %w", key, collection, mapError(err))
	}
	return live, nil
}

// IncrKV adds delta to a key holding a JSON number, atomically, and returns
// the new number and version; an absent (or expired) key counts as 0. A key
// holding anything else fails with model.ErrInvalid and is left alone.
func (s *Store) IncrKV(ctx context.Context, appID, collection, key string, delta float64) (float64, int64, error) {
	live := strings.ReplaceAll(kvLive, "expires_at", "kv.expires_at")
	var n float64
	var version int64
	err := s.q(ctx).QueryRow(ctx, `
INSERT INTO kv_entries AS kv (app_id, collection, key, type, value)
VALUES ($1, $2, $3, 'json', convert_to(($4::float8)::text, 'UTF8'))
ON CONFLICT (app_id, collection, key) DO UPDATE SET
    value = convert_to((CASE WHEN `+live+` THEN convert_from(kv.value, 'UTF8')::float8 + $4::float8
        ELSE $4::float8 END)::text, 'UTF8'),
    type = 'json',
    metadata = CASE WHEN `+live+` THEN kv.metadata END,
    expires_at = CASE WHEN `+live+` THEN kv.expires_at END,
    version = nextval('kv_versions'), updated_at = now()
WHERE NOT `+live+` OR CASE WHEN kv.type = 'json'
    THEN jsonb_typeof(convert_from(kv.value, 'UTF8')::jsonb) = 'number' ELSE false END
RETURNING convert_from(value, 'UTF8')::float8, version`, appID, collection, key, delta).Scan(&n, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, fmt.Errorf("increment key %q of collection %q: it holds something other than a number: %w", key, collection, model.ErrInvalid)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("increment key %q of collection %q: %w", key, collection, mapError(err))
	}
	return n, version, nil
}

// ListKV returns up to q.Limit live keys of a collection in key order.
func (s *Store) ListKV(ctx context.Context, q model.KVListQuery) ([]model.KVEntry, error) {
	value := `NULL::bytea`
	if q.Values {
		value = `value`
	}
	var where strings.Builder
	args := []any{q.AppID, q.Collection}
	add := func(cond string, v any) {
		args = append(args, v)
		fmt.Fprintf(&where, " AND "+cond, len(args))
	}
	if q.Prefix != "" {
		add("key >= $%d", q.Prefix)
		add("starts_with(key, $%d)", q.Prefix)
	}
	if q.Start != "" {
		add("key >= $%d", q.Start)
	}
	if q.End != "" {
		add("key < $%d", q.End)
	}
	order := "ASC"
	if q.After != "" {
		if q.Reverse {
			add("key < $%d", q.After)
		} else {
			add("key > $%d", q.After)
		}
	}
	if q.Reverse {
		order = "DESC"
	}
	args = append(args, q.Limit)
	rows, err := s.q(ctx).Query(ctx, fmt.Sprintf(`SELECT key, type, %s, metadata, version, expires_at FROM kv_entries
WHERE app_id = $1 AND collection = $2 AND %s%s ORDER BY key %s LIMIT $%d`, value, kvLive, where.String(), order, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list collection %q: %w", q.Collection, mapError(err))
	}
	out, err := pgx.CollectRows(rows, scanKV)
	if err != nil {
		return nil, fmt.Errorf("list collection %q: %w", q.Collection, mapError(err))
	}
	return out, nil
}

// PurgeExpiredKV deletes up to limit expired keys, of any app, and says how
// many it deleted.
func (s *Store) PurgeExpiredKV(ctx context.Context, limit int) (int, error) {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM kv_entries WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM kv_entries WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED))`, limit)
	if err != nil {
		return 0, fmt.Errorf("purge expired keys: %w", mapError(err))
	}
	return int(tag.RowsAffected()), nil
}
