package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/picloud/picloud/api/model"
)

// Queries that filter or order on a document's paths run as unnamed
// statements (pgx.QueryExecModeExec): PostgreSQL then plans them for the
// values at hand, which lets it match (doc #> path) and the app and
// collection against the partial expression indexes of ensureIndex; a
// cached generic plan could not. Their arguments are therefore all text
// (or text[], int8) with explicit casts in the SQL.
const docsExec = pgx.QueryExecModeExec

// pgProgramLimit is PostgreSQL's program_limit_exceeded, which an index
// row too large for its btree raises.
const pgProgramLimit = "54000"

// InsertDoc stores a new document under id and returns its version. A
// unique index's values already taken fail with a *model.DocsDuplicate.
func (s *Store) InsertDoc(ctx context.Context, appID, collection, id string, doc []byte) (int64, error) {
	var version int64
	err := s.q(ctx).QueryRow(ctx, `INSERT INTO docs_documents (app_id, collection, id, doc)
VALUES ($1::uuid, $2, $3::uuid, $4::text::jsonb) RETURNING version`,
		docsExec, appID, collection, id, string(doc)).Scan(&version)
	if err != nil {
		return 0, fmt.Errorf("insert a document into collection %q: %w", collection, s.docsError(ctx, err))
	}
	return version, nil
}

// GetDoc returns a document, or model.ErrNotFound.
func (s *Store) GetDoc(ctx context.Context, appID, collection, id string) (model.Doc, error) {
	d := model.Doc{ID: id}
	err := s.q(ctx).QueryRow(ctx, `SELECT doc::text, version FROM docs_documents
WHERE app_id = $1::uuid AND collection = $2 AND id = $3::uuid`, docsExec, appID, collection, id).Scan(&d.Doc, &d.Version)
	if err != nil {
		return model.Doc{}, fmt.Errorf("get document %s of collection %q: %w", id, collection, mapError(err))
	}
	return d, nil
}

// ReplaceDoc writes doc over a document and returns its new version. With
// ifVersion it writes only over that version, else fails with
// model.ErrConflict; without, an absent document is model.ErrNotFound.
func (s *Store) ReplaceDoc(ctx context.Context, appID, collection, id string, doc []byte, ifVersion *int64) (int64, error) {
	sql := `UPDATE docs_documents SET doc = $4::text::jsonb, version = nextval('docs_versions'), updated_at = now()
WHERE app_id = $1::uuid AND collection = $2 AND id = $3::uuid`
	args := []any{docsExec, appID, collection, id, string(doc)}
	if ifVersion != nil {
		sql += ` AND version = $5::int8`
		args = append(args, *ifVersion)
	}
	var version int64
	err := s.q(ctx).QueryRow(ctx, sql+` RETURNING version`, args...).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows) && ifVersion != nil:
		return 0, fmt.Errorf("replace document %s of collection %q: %w", id, collection, model.ErrConflict)
	case err != nil:
		return 0, fmt.Errorf("replace document %s of collection %q: %w", id, collection, s.docsError(ctx, err))
	}
	return version, nil
}

// UpdateDoc changes a document to what change makes of it, atomically, and
// returns the new version: the document is locked from its read to its
// write. ifVersion and an absent document fail as in ReplaceDoc; an error
// of change is returned as it is, with nothing written.
func (s *Store) UpdateDoc(ctx context.Context, appID, collection, id string, ifVersion *int64,
	change func(doc []byte) ([]byte, error)) (int64, error) {
	var version int64
	err := s.Atomically(ctx, func(ctx context.Context) error {
		var doc []byte
		var current int64
		err := s.q(ctx).QueryRow(ctx, `SELECT doc::text, version FROM docs_documents
WHERE app_id = $1::uuid AND collection = $2 AND id = $3::uuid FOR UPDATE`, docsExec, appID, collection, id).Scan(&doc, &current)
		switch {
		case errors.Is(err, pgx.ErrNoRows) && ifVersion != nil:
			return model.ErrConflict
		case err != nil:
			return mapError(err)
		case ifVersion != nil && current != *ifVersion:
			return model.ErrConflict
		}
		next, err := change(doc)
		if err != nil {
			return err
		}
		version, err = s.ReplaceDoc(ctx, appID, collection, id, next, nil)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("update document %s of collection %q: %w", id, collection, err)
	}
	return version, nil
}

// DeleteDoc deletes a document and says whether it was there. With
// ifVersion it deletes only that version, else fails with
// model.ErrConflict.
func (s *Store) DeleteDoc(ctx context.Context, appID, collection, id string, ifVersion *int64) (bool, error) {
	sql := `DELETE FROM docs_documents WHERE app_id = $1::uuid AND collection = $2 AND id = $3::uuid`
	args := []any{docsExec, appID, collection, id}
	if ifVersion != nil {
		sql += ` AND version = $4::int8`
		args = append(args, *ifVersion)
	}
	tag, err := s.q(ctx).Exec(ctx, sql, args...)
	switch {
	case err != nil:
		return false, fmt.Errorf("delete document %s of collection %q: %w", id, collection, mapError(err))
	case tag.RowsAffected() == 0 && ifVersion != nil:
		return false, fmt.Errorf("delete document %s of collection %q: %w", id, collection, model.ErrConflict)
	}
	return tag.RowsAffected() > 0, nil
}

// FindDocs returns up to q.Limit documents of a collection that match q,
// in q's order, each with its values of the order's paths.
func (s *Store) FindDocs(ctx context.Context, q model.DocsQuery) ([]model.Doc, error) {
	sql, args := buildFind(q)
	rows, err := s.q(ctx).Query(ctx, sql, append([]any{docsExec}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("find in collection %q: %w", q.Collection, mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (model.Doc, error) {
		var d model.Doc
		dest := []any{&d.ID, &d.Doc, &d.Version}
		keys := make([]*string, len(q.Order))
		for i := range keys {
			dest = append(dest, &keys[i])
		}
		if err := row.Scan(dest...); err != nil {
			return d, err
		}
		d.Keys = make([]json.RawMessage, len(keys))
		for i, k := range keys {
			if k != nil {
				d.Keys[i] = json.RawMessage(*k)
			}
		}
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("find in collection %q: %w", q.Collection, mapError(err))
	}
	return out, nil
}

// CountDocs counts the documents of a collection that match q's Where.
func (s *Store) CountDocs(ctx context.Context, q model.DocsQuery) (int64, error) {
	sql, args := buildCount(q)
	var n int64
	if err := s.q(ctx).QueryRow(ctx, sql, append([]any{docsExec}, args...)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count in collection %q: %w", q.Collection, mapError(err))
	}
	return n, nil
}

// EnsureDocsIndex creates the index ix unless it exists. A unique index
// that the documents already break fails with a *model.DocsDuplicate.
// An index that exists is found in docs_indexes without touching
// docs_documents (creating one locks the table against writes), so that
// scripts may ensure their indexes on every request.
func (s *Store) EnsureDocsIndex(ctx context.Context, ix model.DocsIndex) error {
	paths, err := json.Marshal(ix.Paths)
	if err != nil {
		return fmt.Errorf("index collection %q: %w", ix.Collection, err)
	}
	err = s.Atomically(ctx, func(ctx context.Context) error {
		// Concurrent calls of one app take turns, so that two first calls
		// for one index make it once and the app's count holds.
		if _, err := s.q(ctx).Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('docs_indexes ' || $1, 0))`,
			docsExec, ix.AppID); err != nil {
			return err
		}
		var exists bool
		var count int
		if err := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM docs_indexes WHERE name = $1),
    (SELECT count(*) FROM docs_indexes WHERE app_id = $2::uuid)`, docsExec, ix.Name, ix.AppID).Scan(&exists, &count); err != nil || exists {
			return err
		}
		if ix.MaxPerApp > 0 && count >= ix.MaxPerApp {
			return model.ErrDocsIndexLimit
		}
		if _, err := s.q(ctx).Exec(ctx, `SELECT docs_create_index($1, $2::uuid, $3, $4::text::jsonb, $5::bool)`,
			docsExec, ix.Name, ix.AppID, ix.Collection, string(paths), ix.Unique); err != nil {
			return err
		}
		_, err := s.q(ctx).Exec(ctx, `INSERT INTO docs_indexes (app_id, collection, name, paths, is_unique)
VALUES ($1::uuid, $2, $3, $4::text::jsonb, $5::bool) ON CONFLICT DO NOTHING`,
			docsExec, ix.AppID, ix.Collection, ix.Name, string(paths), ix.Unique)
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation && pgErr.TableName == "docs_documents" {
		return fmt.Errorf("index collection %q: %w", ix.Collection, &model.DocsDuplicate{Paths: ix.Paths})
	}
	if errors.As(err, &pgErr) && pgErr.Code == pgProgramLimit {
		return fmt.Errorf("index collection %q: %w", ix.Collection, model.ErrDocsIndexValue)
	}
	if err != nil {
		return fmt.Errorf("index collection %q: %w", ix.Collection, mapError(err))
	}
	return nil
}

// docsError maps a write's error: a unique index's violation becomes a
// *model.DocsDuplicate naming the index's paths, which are looked up
// outside the (failed) transaction the write may be part of; a value too
// large for an index, model.ErrDocsIndexValue.
func (s *Store) docsError(ctx context.Context, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgProgramLimit {
		return model.ErrDocsIndexValue
	}
	if !errors.As(err, &pgErr) || pgErr.Code != pgUniqueViolation || pgErr.TableName != "docs_documents" ||
		pgErr.ConstraintName == "docs_documents_pkey" {
		return mapError(err)
	}
	dup := &model.DocsDuplicate{}
	var paths []byte
	if s.pool.QueryRow(ctx, `SELECT paths::text FROM docs_indexes WHERE name = $1`, pgErr.ConstraintName).Scan(&paths) == nil {
		_ = json.Unmarshal(paths, &dup.Paths)
	}
	return dup
}
