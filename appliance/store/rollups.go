package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/picloud/picloud/api/model"
)

// AddMinuteRollups adds minute rollups, merging each into a row already
// there for the same minute (records that came late): counts add up, the
// p50 is the count-weighted mean, the p99 and maximum the larger.
func (s *Store) AddMinuteRollups(ctx context.Context, rs []model.Rollup) error {
	if len(rs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, r := range rs {
		b.Queue(`INSERT INTO metric_rollups AS m (step, app_id, script_id, at, count, errors, p50_us, p99_us, max_us)
VALUES ('minute', $1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (step, app_id, script_id, at) DO UPDATE SET
  count = m.count + EXCLUDED.count,
  errors = m.errors + EXCLUDED.errors,
  p50_us = (m.p50_us * m.count + EXCLUDED.p50_us * EXCLUDED.count) / (m.count + EXCLUDED.count),
  p99_us = greatest(m.p99_us, EXCLUDED.p99_us),
  max_us = greatest(m.max_us, EXCLUDED.max_us)`,
			r.AppID, r.ScriptID, r.At.UTC(), r.Count, r.Errors, r.P50US, r.P99US, r.MaxUS)
	}
	// A script deleted since its records were counted has no rows to
	// keep: its foreign key refuses them. Each insert stands alone.
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	var firstErr error
	for range rs {
		if _, err := br.Exec(); err != nil && firstErr == nil && !isForeignKeyViolation(err) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return fmt.Errorf("add minute rollups: %w", mapError(firstErr))
	}
	return nil
}

// RollUpHours computes the hour rollups of the hours from since's on from
// their minutes, replacing what was computed before.
func (s *Store) RollUpHours(ctx context.Context, since time.Time) error {
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO metric_rollups AS m (step, app_id, script_id, at, count, errors, p50_us, p99_us, max_us)
SELECT 'hour', app_id, script_id, date_trunc('hour', at), sum(count), sum(errors),
       (sum(p50_us * count) / sum(count))::bigint, max(p99_us), max(max_us)
FROM metric_rollups
WHERE step = 'minute' AND at >= date_trunc('hour', $1::timestamptz)
GROUP BY app_id, script_id, date_trunc('hour', at)
ON CONFLICT (step, app_id, script_id, at) DO UPDATE SET
  count = EXCLUDED.count, errors = EXCLUDED.errors, p50_us = EXCLUDED.p50_us,
  p99_us = EXCLUDED.p99_us, max_us = EXCLUDED.max_us`, since.UTC())
	if err != nil {
		return fmt.Errorf("roll up hours: %w", mapError(err))
	}
	return nil
}

// PruneRollups deletes minute rollups older than minutes and hour rollups
// older than hours.
func (s *Store) PruneRollups(ctx context.Context, minutes, hours time.Time) (int64, error) {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM metric_rollups
WHERE (step = 'minute' AND at < $1) OR (step = 'hour' AND at < $2)`, minutes.UTC(), hours.UTC())
	if err != nil {
		return 0, fmt.Errorf("prune rollups: %w", mapError(err))
	}
	return tag.RowsAffected(), nil
}

// ListRollups returns rollups of one step from q.Since on, oldest first:
// of q.ScriptID if set, else of the apps in q.AppIDs.
func (s *Store) ListRollups(ctx context.Context, q model.RollupQuery) ([]model.Rollup, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT app_id::text, script_id::text, step, at, count, errors, p50_us, p99_us, max_us
FROM metric_rollups
WHERE step = $1 AND at >= $2
  AND (CASE WHEN $3 = '' THEN app_id = ANY($4::uuid[]) ELSE script_id = NULLIF($3, '')::uuid END)
ORDER BY at, app_id, script_id`, q.Step, q.Since.UTC(), q.ScriptID, q.AppIDs)
	if err != nil {
		return nil, fmt.Errorf("list rollups: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (model.Rollup, error) {
		var r model.Rollup
		err := row.Scan(&r.AppID, &r.ScriptID, &r.Step, &r.At, &r.Count, &r.Errors, &r.P50US, &r.P99US, &r.MaxUS)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list rollups: %w", mapError(err))
	}
	return out, nil
}

// MetricNames are the names of every app and script, by id, for the
// metrics' labels.
func (s *Store) MetricNames(ctx context.Context) (apps, scripts map[string]string, err error) {
	apps, scripts = map[string]string{}, map[string]string{}
	rows, err := s.q(ctx).Query(ctx, `SELECT 'a', id::text, name FROM apps UNION ALL SELECT 's', id::text, name FROM scripts`)
	if err != nil {
		return nil, nil, fmt.Errorf("list names: %w", mapError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var kind, id, name string
		if err := rows.Scan(&kind, &id, &name); err != nil {
			return nil, nil, fmt.Errorf("list names: %w", err)
		}
		if kind == "a" {
			apps[id] = name
		} else {
			scripts[id] = name
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list names: %w", mapError(err))
	}
	return apps, scripts, nil
}

// isForeignKeyViolation reports whether err is PostgreSQL refusing a row
// whose reference is gone.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == pgForeignKeyViolation
}
