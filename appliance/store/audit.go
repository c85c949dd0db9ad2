package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/picloud/picloud/api/model"
)

// InsertAudit appends a record to the audit log. Call it in the transaction
// of the action it records (Store.Atomically), so that both are written or
// neither.
func (s *Store) InsertAudit(ctx context.Context, r model.AuditRecord) error {
	details := []byte("{}")
	if len(r.Details) > 0 {
		var err error
		if details, err = json.Marshal(r.Details); err != nil {
			return fmt.Errorf("audit %s: encode details: %w", r.Action, err)
		}
	}
	_, err := s.q(ctx).Exec(ctx, `
INSERT INTO audit_log (user_id, username, token_id, channel, remote, action, app_id, target, details)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		nullable(r.UserID), r.Username, nullable(r.TokenID), r.Channel, r.Remote, r.Action,
		nullable(r.AppID), r.Target, string(details))
	if err != nil {
		return fmt.Errorf("audit %s: %w", r.Action, mapError(err))
	}
	return nil
}

// ListAudit returns audit records, newest first.
func (s *Store) ListAudit(ctx context.Context, aq model.AuditQuery) ([]model.AuditRecord, error) {
	limit := aq.Limit
	if limit <= 0 {
		limit = 100
	}
	before := aq.BeforeID
	if before <= 0 {
		before = 1<<63 - 1
	}
	var since, until any
	if !aq.Since.IsZero() {
		since = aq.Since
	}
	if !aq.Until.IsZero() {
		until = aq.Until
	}
	rows, err := s.q(ctx).Query(ctx, `
SELECT id, at, COALESCE(user_id::text, ''), username, COALESCE(token_id::text, ''), channel, remote,
       action, COALESCE(app_id::text, ''), target, details
FROM audit_log
WHERE id < $1
  AND ($2 = '' OR app_id = NULLIF($2, '')::uuid)
  AND ($3 = '' OR user_id = NULLIF($3, '')::uuid)
  AND ($4::timestamptz IS NULL OR at >= $4)
  AND ($5::timestamptz IS NULL OR at < $5)
ORDER BY id DESC LIMIT $6`, before, aq.AppID, aq.UserID, since, until, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit records: %w", mapError(err))
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (model.AuditRecord, error) {
		var a model.AuditRecord
		var details []byte
		if err := r.Scan(&a.ID, &a.At, &a.UserID, &a.Username, &a.TokenID, &a.Channel, &a.Remote,
			&a.Action, &a.AppID, &a.Target, &details); err != nil {
			return a, err
		}
		if len(details) > 2 {
			if err := json.Unmarshal(details, &a.Details); err != nil {
				return a, fmt.Errorf("decode details of audit record %d: %w", a.ID, err)
			}
		}
		return a, nil
	}, "list audit records")
}
