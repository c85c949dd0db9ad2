package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

// kvBytes is what a key takes, as the admin API counts it: the key, the
// value and the metadata.
const kvBytes = `octet_length(key) + octet_length(value) + coalesce(octet_length(metadata::text), 0)`

// KVCollections returns an app's kv collections (those with live keys) by
// name, with their live keys and the bytes they take.
func (s *Store) KVCollections(ctx context.Context, appID string) ([]model.KVCollection, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT collection, count(*), coalesce(sum(`+kvBytes+`), 0)::bigint
FROM kv_entries WHERE app_id = $1 AND `+kvLive+` GROUP BY collection ORDER BY collection`, appID)
	if err != nil {
		return nil, fmt.Errorf("list the kv collections: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (model.KVCollection, error) {
		var c model.KVCollection
		err := row.Scan(&c.Name, &c.Keys, &c.Bytes)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list the kv collections: %w", mapError(err))
	}
	return out, nil
}

// BrowseKV returns up to q.Limit live keys of a collection in key order,
// without their values. A prefix narrows the index range; Contains is
// checked on each key of the collection (of the range), which is a scan
// of those keys.
func (s *Store) BrowseKV(ctx context.Context, q model.KVBrowseQuery) ([]model.KVKeyInfo, error) {
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
	if q.Contains != "" {
		add("strpos(key, $%d) > 0", q.Contains)
	}
	if q.After != "" {
		add("key > $%d", q.After)
	}
	args = append(args, q.Limit)
	rows, err := s.q(ctx).Query(ctx, fmt.Sprintf(`SELECT key, type, octet_length(value), version, metadata, expires_at, updated_at
FROM kv_entries WHERE app_id = $1 AND collection = $2 AND %s%s ORDER BY key LIMIT $%d`,
		kvLive, where.String(), len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("browse collection %q: %w", q.Collection, mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (model.KVKeyInfo, error) {
		var k model.KVKeyInfo
		err := row.Scan(&k.Key, &k.Type, &k.Size, &k.Version, &k.Metadata, &k.ExpiresAt, &k.UpdatedAt)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("browse collection %q: %w", q.Collection, mapError(err))
	}
	return out, nil
}
