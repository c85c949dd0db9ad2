package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

// dataTable is a table of scripts' data that counts against an app's
// storage quota: rows with app_id, collection the collection a row is in
// (NULL: none), bytes the size of a row, live what makes a row count.
type dataTable struct{ kind, table, collection, bytes, live string }

// dataTables are the tables of scripts' data, one line each. An app user
// counts its email, password hash and data, and AppUserTokenBytes per
// live token.
var dataTables = []dataTable{
	{"kv", "kv_entries", "collection", `octet_length(key) + octet_length(value) + COALESCE(octet_length(metadata::text), 0)`, kvLive},
	{"docs", "docs_documents", "collection", `octet_length(doc::text)`, "true"},
	{"users", "app_users u", "NULL::text", fmt.Sprintf(`octet_length(u.email) + COALESCE(octet_length(u.password_hash), 0) + octet_length(u.data::text)
  + %d * (SELECT count(*) FROM app_user_tokens t WHERE t.user_id = u.id AND t.expires_at > now())`, model.AppUserTokenBytes), "true"},
}

// AppDataUsage is what an app's data takes, per kind of store.
func (s *Store) AppDataUsage(ctx context.Context, appID string) ([]model.StoreUsage, error) {
	parts := make([]string, len(dataTables))
	for i, t := range dataTables {
		parts[i] = fmt.Sprintf(`SELECT '%s', count(DISTINCT %s), count(*), COALESCE(sum(%s), 0)::bigint FROM %s WHERE app_id = $1 AND %s`,
			t.kind, t.collection, t.bytes, t.table, t.live)
	}
	rows, err := s.q(ctx).Query(ctx, strings.Join(parts, "\nUNION ALL\n"), appID)
	if err != nil {
		return nil, fmt.Errorf("measure the data of app %s: %w", appID, mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (model.StoreUsage, error) {
		var u model.StoreUsage
		err := row.Scan(&u.Kind, &u.Collections, &u.Items, &u.Bytes)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("measure the data of app %s: %w", appID, mapError(err))
	}
	return out, nil
}

// AppsStorage is every app's data in bytes with its own quota (nil for
// the default), by name: one pass over the data tables.
func (s *Store) AppsStorage(ctx context.Context) ([]model.AppStorage, error) {
	parts := make([]string, len(dataTables))
	for i, t := range dataTables {
		parts[i] = fmt.Sprintf(`SELECT app_id, %s AS bytes FROM %s WHERE %s`, t.bytes, t.table, t.live)
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT a.id::text, a.name, COALESCE(u.bytes, 0)::bigint, l.storage_bytes FROM apps a
LEFT JOIN (SELECT app_id, sum(bytes) AS bytes FROM (`+strings.Join(parts, "\nUNION ALL\n")+`) d GROUP BY app_id) u ON u.app_id = a.id
LEFT JOIN app_limits l ON l.app_id = a.id
ORDER BY a.name`)
	if err != nil {
		return nil, fmt.Errorf("measure the apps' data: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (model.AppStorage, error) {
		var a model.AppStorage
		err := row.Scan(&a.AppID, &a.App, &a.UsedBytes, &a.OwnQuotaBytes)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("measure the apps' data: %w", mapError(err))
	}
	return out, nil
}

// AppStorageQuota is an app's own storage quota in bytes, nil when it has
// the default.
func (s *Store) AppStorageQuota(ctx context.Context, appID string) (*int64, error) {
	var q *int64
	err := s.q(ctx).QueryRow(ctx, `SELECT storage_bytes FROM app_limits WHERE app_id = $1`, appID).Scan(&q)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("load the storage quota of app %s: %w", appID, mapError(err))
	}
	return q, nil
}

// SetAppStorageQuota gives an app its own storage quota, or the default
// again with nil. An unknown app is model.ErrNotFound.
func (s *Store) SetAppStorageQuota(ctx context.Context, appID string, bytes *int64) error {
	tag, err := s.q(ctx).Exec(ctx, `INSERT INTO app_limits (app_id, storage_bytes) SELECT id, $2 FROM apps WHERE id = $1
ON CONFLICT (app_id) DO UPDATE SET storage_bytes = EXCLUDED.storage_bytes, updated_at = now()`, appID, bytes)
	if err != nil {
		return fmt.Errorf("set the storage quota of app %s: %w", appID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set the storage quota of app %s: %w", appID, model.ErrNotFound)
	}
	return nil
}
