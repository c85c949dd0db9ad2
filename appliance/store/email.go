package store

import (
	"context"
	"fmt"
	"time"

	"github.com/picloud/picloud/api/model"
)

// AddEmail stores a message for the mailer to deliver, in the transaction
// ctx carries if it carries one (a script's db.transaction).
func (s *Store) AddEmail(ctx context.Context, m model.OutboundEmail) error {
	_, err := s.q(ctx).Exec(ctx, `
INSERT INTO email_outbox (app_id, message_id, sender, recipients, message)
VALUES ($1, $2, $3, $4, $5)`, m.AppID, m.MessageID, m.Sender, m.Recipients, m.Message)
	if err != nil {
		return fmt.Errorf("store email %s: %w", m.MessageID, mapError(err))
	}
	return nil
}

// TakeDueEmails leases up to limit queued messages whose next attempt is
// due, oldest first, for lease (their next attempt moves that far ahead,
// so that a mailer that dies mid-delivery leaves them to be tried again),
// and counts an attempt for each. They come in the order they were sent.
func (s *Store) TakeDueEmails(ctx context.Context, limit int, lease time.Duration) ([]model.OutboundEmail, error) {
	rows, err := s.q(ctx).Query(ctx, `
WITH taken AS (
    UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
    WHERE id IN (
        SELECT id FROM email_outbox WHERE state = 'queued' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING id, app_id, message_id, sender, recipients, message, attempts, seq)
SELECT id::text, app_id::text, message_id, sender, recipients, message, attempts FROM taken ORDER BY seq`, limit, lease.Seconds())
	if err != nil {
		return nil, fmt.Errorf("take due emails: %w", mapError(err))
	}
	defer rows.Close()
	var out []model.OutboundEmail
	for rows.Next() {
		var m model.OutboundEmail
		if err := rows.Scan(&m.ID, &m.AppID, &m.MessageID, &m.Sender, &m.Recipients, &m.Message, &m.Attempts); err != nil {
			return nil, fmt.Errorf("take due emails: %w", mapError(err))
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("take due emails: %w", mapError(err))
	}
	return out, nil
}

// EmailSent marks a message delivered to the relay; its body is dropped.
func (s *Store) EmailSent(ctx context.Context, id string) error {
	_, err := s.q(ctx).Exec(ctx, `
UPDATE email_outbox SET state = 'sent', sent_at = now(), message = ''::bytea, last_error = NULL WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("mark email %s sent: %w", id, mapError(err))
	}
	return nil
}

// EmailRetry leaves a message queued for another attempt after wait,
// with why the last one failed.
func (s *Store) EmailRetry(ctx context.Context, id string, wait time.Duration, reason string) error {
	_, err := s.q(ctx).Exec(ctx, `
UPDATE email_outbox SET next_attempt_at = now() + make_interval(secs => $2), last_error = $3 WHERE id = $1`,
		id, wait.Seconds(), reason)
	if err != nil {
		return fmt.Errorf("retry email %s later: %w", id, mapError(err))
	}
	return nil
}

// EmailFailed gives a message up, with why.
func (s *Store) EmailFailed(ctx context.Context, id, reason string) error {
	_, err := s.q(ctx).Exec(ctx, `
UPDATE email_outbox SET state = 'failed', last_error = $2 WHERE id = $1`, id, reason)
	if err != nil {
		return fmt.Errorf("mark email %s failed: %w", id, mapError(err))
	}
	return nil
}
