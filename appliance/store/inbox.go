package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

// EmailTrigger returns the email trigger that claims address (any case);
// false if none does.
func (s *Store) EmailTrigger(ctx context.Context, address string) (model.Trigger, bool, error) {
	t, err := scanTrigger(s.q(ctx).QueryRow(ctx, `SELECT `+triggerColumns+` FROM triggers
WHERE type = 'email' AND lower(config->>'address') = lower($1)`, address))
	if errors.Is(err, pgx.ErrNoRows) {
		return model.Trigger{}, false, nil
	}
	if err != nil {
		return model.Trigger{}, false, fmt.Errorf("find the email trigger of %s: %w", address, mapError(err))
	}
	return t, true, nil
}

// InboxChannel is the PostgreSQL notification channel on which received
// messages that may be due are announced, at the commit of the change
// that queued them (a message stored, one retried from the admin view);
// the payload is empty.
const InboxChannel = "picloud_inbox"

// notifyInbox announces on InboxChannel that received messages may be
// due, at the commit of the transaction ctx carries (now without one).
func (s *Store) notifyInbox(ctx context.Context) error {
	if _, err := s.q(ctx).Exec(ctx, `SELECT pg_notify($1, '')`, InboxChannel); err != nil {
		return fmt.Errorf("announce received email: %w", mapError(err))
	}
	return nil
}

// AddInboundEmails stores received messages, one per recipient, in one
// transaction: all or none; it announces them on InboxChannel at its
// commit.
func (s *Store) AddInboundEmails(ctx context.Context, ms []model.InboundEmail) error {
	return s.Atomically(ctx, func(ctx context.Context) error {
		for _, m := range ms {
			var trigger any
			if m.TriggerID != "" {
				trigger = m.TriggerID
			}
			_, err := s.q(ctx).Exec(ctx, `
INSERT INTO email_inbox (app_id, script_id, trigger_id, sender, recipient, message)
VALUES ($1, $2, $3, $4, $5, $6)`, m.AppID, m.ScriptID, trigger, m.Sender, m.Recipient, m.Message)
			if err != nil {
				return fmt.Errorf("store the email for %s: %w", m.Recipient, mapError(err))
			}
		}
		return s.notifyInbox(ctx)
	})
}

// InboxNextDue is how long until the next queued message whose attempt
// is not due yet becomes due (a retry's wait, or a lease's end): 0 if
// none waits.
func (s *Store) InboxNextDue(ctx context.Context) (time.Duration, error) {
	var wait float64
	err := s.q(ctx).QueryRow(ctx, `SELECT `+untilNext("next_attempt_at")+` FROM email_inbox WHERE state = 'queued'`).Scan(&wait)
	if err != nil {
		return 0, fmt.Errorf("find when the next received email is due: %w", mapError(err))
	}
	return seconds(wait), nil
}

// TakeDueInboundEmails leases up to limit queued messages whose next
// attempt is due, oldest first, for lease (their next attempt moves that
// far ahead, so that a daemon that dies mid-delivery leaves them to be
// tried again), and counts an attempt for each.
func (s *Store) TakeDueInboundEmails(ctx context.Context, limit int, lease time.Duration) ([]model.InboundEmail, error) {
	rows, err := s.q(ctx).Query(ctx, `
WITH taken AS (
    UPDATE email_inbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
    WHERE id IN (
        SELECT id FROM email_inbox WHERE state = 'queued' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, received_at LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING id, app_id, script_id, trigger_id, sender, recipient, message, attempts, received_at)
SELECT id::text, app_id::text, script_id::text, coalesce(trigger_id::text, ''), sender, recipient, message, attempts
FROM taken ORDER BY received_at`, limit, lease.Seconds())
	if err != nil {
		return nil, fmt.Errorf("take due inbound emails: %w", mapError(err))
	}
	defer rows.Close()
	var out []model.InboundEmail
	for rows.Next() {
		var m model.InboundEmail
		if err := rows.Scan(&m.ID, &m.AppID, &m.ScriptID, &m.TriggerID, &m.Sender, &m.Recipient, &m.Message, &m.Attempts); err != nil {
			return nil, fmt.Errorf("take due inbound emails: %w", mapError(err))
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("take due inbound emails: %w", mapError(err))
	}
	return out, nil
}

// InboundEmail returns the message id of app appID (a message of another
// app is model.ErrNotFound).
func (s *Store) InboundEmail(ctx context.Context, appID, id string) (model.InboundEmail, error) {
	var m model.InboundEmail
	err := s.q(ctx).QueryRow(ctx, `
SELECT id::text, app_id::text, script_id::text, coalesce(trigger_id::text, ''), sender, recipient, message, attempts
FROM email_inbox WHERE id = $1 AND app_id = $2`, id, appID).
		Scan(&m.ID, &m.AppID, &m.ScriptID, &m.TriggerID, &m.Sender, &m.Recipient, &m.Message, &m.Attempts)
	if err != nil {
		return m, fmt.Errorf("load inbound email %s: %w", id, mapError(err))
	}
	return m, nil
}

// InboundEmailSettled ends a message's delivery: delivered, or rejected
// with reason when reject is set. Its text is kept.
func (s *Store) InboundEmailSettled(ctx context.Context, id string, reject bool, reason string) error {
	state, why := "delivered", any(nil)
	if reject {
		state, why = "rejected", reason
	}
	_, err := s.q(ctx).Exec(ctx, `
UPDATE email_inbox SET state = $2, reject_reason = $3, last_error = NULL, settled_at = now()
WHERE id = $1 AND state = 'queued'`, id, state, why)
	if err != nil {
		return fmt.Errorf("mark inbound email %s %s: %w", id, state, mapError(err))
	}
	return nil
}

// InboundEmailRetry leaves a message queued for another attempt after
// wait, with why the last one failed.
func (s *Store) InboundEmailRetry(ctx context.Context, id string, wait time.Duration, reason string) error {
	_, err := s.q(ctx).Exec(ctx, `
UPDATE email_inbox SET next_attempt_at = now() + make_interval(secs => $2), last_error = $3 WHERE id = $1 AND state = 'queued'`,
		id, wait.Seconds(), reason)
	if err != nil {
		return fmt.Errorf("retry inbound email %s later: %w", id, mapError(err))
	}
	return nil
}

// InboundEmailFailed gives a message up, with why; it is kept.
func (s *Store) InboundEmailFailed(ctx context.Context, id, reason string) error {
	_, err := s.q(ctx).Exec(ctx, `
UPDATE email_inbox SET state = 'failed', last_error = $2, settled_at = now() WHERE id = $1 AND state = 'queued'`, id, reason)
	if err != nil {
		return fmt.Errorf("mark inbound email %s failed: %w", id, mapError(err))
	}
	return nil
}

// AppEmailSenders returns the senders the owner set for an app; false
// when none are set (the board's list holds).
func (s *Store) AppEmailSenders(ctx context.Context, appID string) ([]string, bool, error) {
	var out []string
	err := s.q(ctx).QueryRow(ctx, `SELECT senders FROM app_email_senders WHERE app_id = $1`, appID).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load the email senders of app %s: %w", appID, mapError(err))
	}
	if out == nil {
		out = []string{}
	}
	return out, true, nil
}

// SetAppEmailSenders sets an app's senders; nil removes them (the board's
// list holds again).
func (s *Store) SetAppEmailSenders(ctx context.Context, appID string, senders []string) error {
	var err error
	if senders == nil {
		_, err = s.q(ctx).Exec(ctx, `DELETE FROM app_email_senders WHERE app_id = $1`, appID)
	} else {
		_, err = s.q(ctx).Exec(ctx, `
INSERT INTO app_email_senders (app_id, senders) VALUES ($1, $2)
ON CONFLICT (app_id) DO UPDATE SET senders = excluded.senders`, appID, senders)
	}
	if err != nil {
		return fmt.Errorf("set the email senders of app %s: %w", appID, mapError(err))
	}
	return nil
}

// inboxColumns are an InboxMessage's columns and its head (the first
// 8 KiB, where the headers are); scanInbox reads them, then extra.
const inboxColumns = `id::text, script_id::text, coalesce(trigger_id::text, ''), sender, recipient,
  octet_length(message), state, attempts, coalesce(last_error, ''), coalesce(reject_reason, ''),
  received_at, CASE WHEN state = 'queued' THEN next_attempt_at END, settled_at, substring(message from 1 for 8192)`

func scanInbox(r interface{ Scan(...any) error }, extra ...any) (model.InboxMessage, error) {
	var m model.InboxMessage
	err := r.Scan(append([]any{&m.ID, &m.ScriptID, &m.TriggerID, &m.From, &m.To, &m.Size, &m.State, &m.Attempts,
		&m.LastError, &m.RejectReason, &m.ReceivedAt, &m.NextAttemptAt, &m.SettledAt, &m.Head}, extra...)...)
	return m, err
}

// InboxMessages lists up to limit received messages of an app, newest
// first, those received before the message cursor (its id) when cursor is
// set; state, if set, keeps those in that state. A cursor that is not a
// message of the app is model.ErrInvalid.
func (s *Store) InboxMessages(ctx context.Context, appID, state, cursor string, limit int) ([]model.InboxMessage, error) {
	if cursor != "" {
		var n int
		if err := s.q(ctx).QueryRow(ctx, `SELECT count(*) FROM email_inbox WHERE app_id = $1 AND id::text = $2`, appID, cursor).Scan(&n); err != nil {
			return nil, fmt.Errorf("find the cursor of the inbox: %w", mapError(err))
		}
		if n == 0 {
			return nil, fmt.Errorf("%w: cursor %q is not a received message of this app (it may have been deleted)", model.ErrInvalid, cursor)
		}
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+inboxColumns+` FROM email_inbox
WHERE app_id = $1 AND ($2 = '' OR state = $2)
  AND ($3 = '' OR (received_at, id) < (SELECT received_at, id FROM email_inbox WHERE id::text = $3))
ORDER BY received_at DESC, id DESC LIMIT $4`, appID, state, cursor, limit)
	if err != nil {
		return nil, fmt.Errorf("list the received messages of app %s: %w", appID, mapError(err))
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (model.InboxMessage, error) { return scanInbox(r) },
		"list the received messages of app "+appID)
}

// InboxMessage returns one received message of an app with up to
// maxRaw bytes of the message itself.
func (s *Store) InboxMessage(ctx context.Context, appID, id string, maxRaw int) (model.InboxMessage, error) {
	var raw []byte
	m, err := scanInbox(s.q(ctx).QueryRow(ctx, `SELECT `+inboxColumns+`, substring(message from 1 for $3) FROM email_inbox
WHERE app_id = $1 AND id::text = $2`, appID, id, maxRaw), &raw)
	if err != nil {
		return model.InboxMessage{}, fmt.Errorf("load received message %s: %w", id, mapError(err))
	}
	text := string(raw)
	m.Raw, m.RawTruncated = &text, len(raw) < m.Size
	return m, nil
}

// RetryInboxMessage has a failed or rejected message of an app delivered
// again now, its attempts counted from zero, and announces it on
// InboxChannel at the commit of the transaction ctx carries; another
// state is model.ErrConflict.
func (s *Store) RetryInboxMessage(ctx context.Context, appID, id string) error {
	return s.Atomically(ctx, func(ctx context.Context) error { return s.retryInboxMessage(ctx, appID, id) })
}

func (s *Store) retryInboxMessage(ctx context.Context, appID, id string) error {
	var state string
	err := s.q(ctx).QueryRow(ctx, `SELECT state FROM email_inbox WHERE app_id = $1 AND id::text = $2 FOR UPDATE`, appID, id).Scan(&state)
	if err != nil {
		return fmt.Errorf("retry received message %s: %w", id, mapError(err))
	}
	if state != "failed" && state != "rejected" {
		return fmt.Errorf("retry received message %s: %w: it is %s; only a failed or rejected message is delivered again", id, model.ErrConflict, state)
	}
	_, err = s.q(ctx).Exec(ctx, `UPDATE email_inbox SET state = 'queued', attempts = 0, next_attempt_at = now(),
  last_error = NULL, reject_reason = NULL, settled_at = NULL WHERE id::text = $1`, id)
	if err != nil {
		return fmt.Errorf("retry received message %s: %w", id, mapError(err))
	}
	return s.notifyInbox(ctx)
}

// DeleteInboxMessage deletes one received message of an app, whatever
// its state (a delivery in progress settles nothing).
func (s *Store) DeleteInboxMessage(ctx context.Context, appID, id string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM email_inbox WHERE app_id = $1 AND id::text = $2`, appID, id)
	if err != nil {
		return fmt.Errorf("delete received message %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete received message %s: %w", id, model.ErrNotFound)
	}
	return nil
}

// PruneSettledEmail deletes the email that reached its end before before:
// outbox messages sent, received messages delivered or rejected. Failed
// messages, of either, are kept until retried or deleted. It returns how
// many it deleted.
func (s *Store) PruneSettledEmail(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.q(ctx).QueryRow(ctx, `
WITH received AS (DELETE FROM email_inbox WHERE state IN ('delivered', 'rejected') AND settled_at < $1 RETURNING 1),
     sent AS (DELETE FROM email_outbox WHERE state = 'sent' AND sent_at < $1 RETURNING 1)
SELECT (SELECT count(*) FROM received) + (SELECT count(*) FROM sent)`, before).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("prune settled email: %w", mapError(err))
	}
	return n, nil
}
