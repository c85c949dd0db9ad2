package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

// DocsCollections returns an app's docs collections by name: those with
// documents, with their count and the bytes of their JSON text, and those
// with indexes, with the indexes.
func (s *Store) DocsCollections(ctx context.Context, appID string) ([]model.DocsCollection, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT collection, count(*), coalesce(sum(octet_length(doc::text)), 0)::bigint
FROM docs_documents WHERE app_id = $1 GROUP BY collection ORDER BY collection`, appID)
	if err != nil {
		return nil, fmt.Errorf("list the docs collections: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (model.DocsCollection, error) {
		c := model.DocsCollection{Indexes: []model.DocsIndexInfo{}}
		err := row.Scan(&c.Name, &c.Documents, &c.Bytes)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list the docs collections: %w", mapError(err))
	}
	indexes, err := s.listDocsIndexes(ctx, `WHERE app_id = $1 ORDER BY collection, created_at, name`, appID)
	if err != nil {
		return nil, err
	}
	return withIndexes(out, indexes), nil
}

// withIndexes adds each index to its collection of cs (sorted by name),
// and a collection without documents for an index of none of them.
func withIndexes(cs []model.DocsCollection, indexes []model.DocsIndexInfo) []model.DocsCollection {
	at := make(map[string]int, len(cs))
	for i, c := range cs {
		at[c.Name] = i
	}
	for _, ix := range indexes {
		i, ok := at[ix.Collection]
		if !ok {
			i = len(cs)
			at[ix.Collection] = i
			cs = append(cs, model.DocsCollection{Name: ix.Collection, Indexes: []model.DocsIndexInfo{}})
		}
		cs[i].Indexes = append(cs[i].Indexes, ix)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	return cs
}

// DocsIndexes returns the indexes of an app's collection, oldest first.
func (s *Store) DocsIndexes(ctx context.Context, appID, collection string) ([]model.DocsIndexInfo, error) {
	return s.listDocsIndexes(ctx, `WHERE app_id = $1 AND collection = $2 ORDER BY created_at, name`, appID, collection)
}

func (s *Store) listDocsIndexes(ctx context.Context, where string, args ...any) ([]model.DocsIndexInfo, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT name, collection, paths::text, is_unique, created_at FROM docs_indexes `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list the docs indexes: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (model.DocsIndexInfo, error) {
		var ix model.DocsIndexInfo
		var paths []byte
		if err := row.Scan(&ix.Name, &ix.Collection, &paths, &ix.Unique, &ix.CreatedAt); err != nil {
			return ix, err
		}
		var segs [][]string
		if err := json.Unmarshal(paths, &segs); err != nil {
			return ix, fmt.Errorf("the paths of index %s: %w", ix.Name, err)
		}
		for _, p := range segs {
			ix.Paths = append(ix.Paths, strings.Join(p, "."))
		}
		return ix, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the docs indexes: %w", mapError(err))
	}
	if out == nil {
		out = []model.DocsIndexInfo{}
	}
	return out, nil
}

// DropDocsIndex drops the index name of an app's collection and says
// whether it was there. Deleting its record drops the index (the trigger
// of docs_indexes); it takes turns with the app's ensureIndex calls.
func (s *Store) DropDocsIndex(ctx context.Context, appID, collection, name string) (bool, error) {
	var dropped bool
	err := s.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.q(ctx).Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('docs_indexes ' || $1, 0))`,
			docsExec, appID); err != nil {
			return err
		}
		tag, err := s.q(ctx).Exec(ctx, `DELETE FROM docs_indexes WHERE app_id = $1::uuid AND collection = $2 AND name = $3`,
			docsExec, appID, collection, name)
		dropped = tag.RowsAffected() > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("drop index %s of collection %q: %w", name, collection, mapError(err))
	}
	return dropped, nil
}
