package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

// InsertExecutions writes a batch of execution records with one COPY, in a
// transaction of its own that does not wait for the write-ahead log to
// reach the disk (synchronous_commit off for this transaction only): the
// records were held in memory for up to a second already, PostgreSQL
// flushes within a fraction of one, and under load the batches then cost
// the SD card no flush of their own. A crash loses at most the last moments
// of the log, never its consistency.
func (s *Store) InsertExecutions(ctx context.Context, recs []model.ExecutionRecord) error {
	if len(recs) == 0 {
		return nil
	}
	// Rows are built first: an error inside the COPY reaches the caller
	// only as the server's "COPY failed", not as what was wrong.
	rows := make([][]any, len(recs))
	for i, r := range recs {
		row, err := executionRow(r)
		if err != nil {
			return fmt.Errorf("write execution records: %w", err)
		}
		rows[i] = row
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return fmt.Errorf("write execution records: %w", mapError(err))
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"execution_logs"},
			[]string{"app_id", "script_id", "script_version", "request_id", "method", "path", "status",
				"duration_us", "console", "error_code", "error", "error_line", "error_column", "response", "created_at", "trigger"},
			pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("write %d execution records: %w", len(recs), mapError(err))
		}
		return nil
	})
}

// executionRow is the row of one execution record for the COPY.
func executionRow(r model.ExecutionRecord) ([]any, error) {
	console := r.Console
	if len(console) == 0 {
		console = []byte("[]")
	}
	trigger := r.Trigger
	if trigger == "" {
		trigger = "http"
	}
	// Ids as bytes: a string for a uuid column would make pgx fail an
	// encode plan (building an error) for every row first.
	app, err := uuid.Parse(r.AppID)
	if err != nil {
		return nil, fmt.Errorf("app id %q: %w: %v", r.AppID, model.ErrInvalid, err)
	}
	script, err := uuid.Parse(r.ScriptID)
	if err != nil {
		return nil, fmt.Errorf("script id %q: %w: %v", r.ScriptID, model.ErrInvalid, err)
	}
	var response any // NULL without one
	if r.Response != nil {
		b, err := json.Marshal(r.Response)
		if err != nil {
			return nil, fmt.Errorf("response of %s: %w: %v", r.RequestID, model.ErrInvalid, err)
		}
		response = string(b)
	}
	return []any{[16]byte(app), [16]byte(script), r.ScriptVersion, r.RequestID, r.Method, r.Path, r.Status,
		r.DurationUS, string(console), r.ErrorCode, r.Error, r.ErrorLine, r.ErrorColumn, response, r.CreatedAt, trigger}, nil
}

// ListExecutions returns execution records, newest first.
func (s *Store) ListExecutions(ctx context.Context, lq model.LogQuery) ([]model.ExecutionRecord, error) {
	limit := lq.Limit
	if limit <= 0 {
		limit = 100
	}
	before := lq.BeforeID
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.q(ctx).Query(ctx, `
SELECT id, app_id::text, script_id::text, script_version, request_id, method, path, status, duration_us,
       console, error_code, error, error_line, error_column, response, created_at, trigger
FROM execution_logs
WHERE id < $1 AND ($2 = '' OR script_id = NULLIF($2, '')::uuid) AND ($4 = '' OR app_id = NULLIF($4, '')::uuid)
  AND ($5::uuid[] IS NULL OR app_id = ANY($5::uuid[]))
ORDER BY id DESC LIMIT $3`, before, lq.ScriptID, limit, lq.AppID, lq.AppIDs)
	if err != nil {
		return nil, fmt.Errorf("list execution records: %w", mapError(err))
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (model.ExecutionRecord, error) {
		var e model.ExecutionRecord
		err := r.Scan(&e.ID, &e.AppID, &e.ScriptID, &e.ScriptVersion, &e.RequestID, &e.Method, &e.Path,
			&e.Status, &e.DurationUS, &e.Console, &e.ErrorCode, &e.Error, &e.ErrorLine, &e.ErrorColumn, &e.Response, &e.CreatedAt, &e.Trigger)
		return e, err
	}, "list execution records")
}

// PruneExecutions deletes records older than before, and the oldest records
// beyond the newest maxRecords. Ids grow with time (a record is written
// within seconds of its execution), so the records older than before are
// those below the first one that is not, found by the primary key from the
// oldest: there is no index on created_at to keep up on every write.
func (s *Store) PruneExecutions(ctx context.Context, before time.Time, maxRecords int) (int64, error) {
	tag, err := s.q(ctx).Exec(ctx, `
DELETE FROM execution_logs
WHERE id < COALESCE((SELECT id FROM execution_logs WHERE created_at >= $1 ORDER BY id LIMIT 1),
                    (SELECT max(id) + 1 FROM execution_logs))
   OR id <= (SELECT id FROM execution_logs ORDER BY id DESC OFFSET $2 LIMIT 1)`, before, maxRecords)
	if err != nil {
		return 0, fmt.Errorf("prune execution records: %w", mapError(err))
	}
	return tag.RowsAffected(), nil
}
