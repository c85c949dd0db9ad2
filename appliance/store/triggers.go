package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

const triggerColumns = `id::text, app_id::text, script_id::text, type, config, created_at, next_run_at, last_run_at`

func scanTrigger(r interface{ Scan(...any) error }) (model.Trigger, error) {
	var t model.Trigger
	err := r.Scan(&t.ID, &t.AppID, &t.ScriptID, &t.Type, &t.Config, &t.CreatedAt, &t.NextRunAt, &t.LastRunAt)
	return t, err
}

// InsertTrigger adds a trigger to a script; its id and creation time are
// the database's.
func (s *Store) InsertTrigger(ctx context.Context, t model.Trigger) (model.Trigger, error) {
	out, err := scanTrigger(s.q(ctx).QueryRow(ctx, `
INSERT INTO triggers (app_id, script_id, type, config) VALUES ($1, $2, $3, $4)
RETURNING `+triggerColumns, t.AppID, t.ScriptID, t.Type, string(t.Config)))
	if err != nil {
		return model.Trigger{}, fmt.Errorf("add a %s trigger to script %s: %w", t.Type, t.ScriptID, mapError(err))
	}
	return out, nil
}

// TriggerByID returns one trigger.
func (s *Store) TriggerByID(ctx context.Context, id string) (model.Trigger, error) {
	t, err := scanTrigger(s.q(ctx).QueryRow(ctx, `SELECT `+triggerColumns+` FROM triggers WHERE id = $1`, id))
	if err != nil {
		return model.Trigger{}, fmt.Errorf("load trigger %s: %w", id, mapError(err))
	}
	return t, nil
}

// ListTriggers returns a script's triggers, oldest first.
func (s *Store) ListTriggers(ctx context.Context, scriptID string) ([]model.Trigger, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+triggerColumns+` FROM triggers WHERE script_id = $1 ORDER BY created_at, id`, scriptID)
	if err != nil {
		return nil, fmt.Errorf("list the triggers of script %s: %w", scriptID, mapError(err))
	}
	return collect(rows, scanTrigger, "list the triggers of script "+scriptID)
}

// DeleteTrigger removes a trigger.
func (s *Store) DeleteTrigger(ctx context.Context, id string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM triggers WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete trigger %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete trigger %s: %w", id, model.ErrNotFound)
	}
	return nil
}

// SetTriggerNextRun records when a trigger runs next.
func (s *Store) SetTriggerNextRun(ctx context.Context, id string, next time.Time) error {
	if _, err := s.q(ctx).Exec(ctx, `UPDATE triggers SET next_run_at = $2 WHERE id = $1`, id, next); err != nil {
		return fmt.Errorf("record the next run of trigger %s: %w", id, mapError(err))
	}
	return nil
}

// ClaimTrigger takes the lease of a trigger's run until the time until,
// unless another run holds it; it reports whether it got it, and
// model.ErrNotFound when the trigger is gone. It also records the run as
// the trigger's last.
func (s *Store) ClaimTrigger(ctx context.Context, id string, now, until time.Time) (bool, error) {
	tag, err := s.q(ctx).Exec(ctx, `
UPDATE triggers SET running_until = $3, last_run_at = $2
WHERE id = $1 AND (running_until IS NULL OR running_until < $2)`, id, now, until)
	if err != nil {
		return false, fmt.Errorf("claim the run of trigger %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	if _, err := s.TriggerByID(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}

// ReleaseTrigger gives back the lease of a trigger's run.
func (s *Store) ReleaseTrigger(ctx context.Context, id string) error {
	if _, err := s.q(ctx).Exec(ctx, `UPDATE triggers SET running_until = NULL WHERE id = $1`, id); err != nil {
		return fmt.Errorf("release the run of trigger %s: %w", id, mapError(err))
	}
	return nil
}

// DeletePendingJobs removes the River jobs of kind whose args name the
// trigger id and that have not started: scheduled, available or waiting
// for a retry.
func (s *Store) DeletePendingJobs(ctx context.Context, kind, triggerID string) error {
	_, err := s.q(ctx).Exec(ctx, `
DELETE FROM river_job WHERE kind = $1 AND args->>'trigger_id' = $2
  AND state IN ('scheduled', 'available', 'retryable', 'pending')`, kind, triggerID)
	if err != nil {
		return fmt.Errorf("drop the planned runs of trigger %s: %w", triggerID, mapError(err))
	}
	return nil
}

// Tx returns the transaction of the Atomically that ctx comes from, for a
// library that writes in it (the job engine's transactional inserts).
func (s *Store) Tx(ctx context.Context) (pgx.Tx, bool) {
	tx, ok := ctx.Value(txKey{s}).(pgx.Tx)
	return tx, ok
}

// UnplannedTriggers lists the triggers that no job of kind plans or runs:
// restored from a backup, or whose jobs were lost. Manual runs ("run
// now") do not count as planning.
func (s *Store) UnplannedTriggers(ctx context.Context, triggerType, kind string) ([]model.Trigger, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+triggerColumns+` FROM triggers t
WHERE t.type = $1 AND NOT EXISTS (
  SELECT 1 FROM river_job j WHERE j.kind = $2 AND j.args->>'trigger_id' = t.id::text
    AND NOT coalesce((j.args->>'manual')::boolean, false)
    AND j.state IN ('scheduled', 'available', 'running', 'retryable', 'pending'))
ORDER BY t.created_at, t.id`, triggerType, kind)
	if err != nil {
		return nil, fmt.Errorf("list unplanned triggers: %w", mapError(err))
	}
	return collect(rows, scanTrigger, "list unplanned triggers")
}
