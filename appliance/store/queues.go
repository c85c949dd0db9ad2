package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/picloud/picloud/api/model"
)

const queueColumns = `id::text, queue, body, state, attempts, coalesce(dedupe_key, ''), coalesce(origin_queue, ''),
coalesce(last_error, ''), created_at, visible_at, leased_until`

func scanQueueMessage(r interface{ Scan(...any) error }) (model.QueueMessage, error) {
	var m model.QueueMessage
	err := r.Scan(&m.ID, &m.Queue, &m.Body, &m.State, &m.Attempts, &m.DedupeKey, &m.OriginQueue,
		&m.LastError, &m.CreatedAt, &m.VisibleAt, &m.LeasedUntil)
	return m, err
}

// QueueChannel is the PostgreSQL notification channel on which a queue
// that may have messages ready is announced, at the commit of the change
// that made them ready; the payload is QueueNotice's.
const QueueChannel = "picloud_queue"

// QueueNotice is the payload of a QueueChannel notification: the app's
// id and the queue's name (which holds no "/").
func QueueNotice(appID, queue string) string { return appID + "/" + queue }

// ParseQueueNotice reads a QueueChannel payload; false if it is not one.
func ParseQueueNotice(payload string) (appID, queue string, ok bool) {
	appID, queue, ok = strings.Cut(payload, "/")
	return appID, queue, ok && appID != "" && queue != ""
}

// notifyQueue announces on QueueChannel that queue may have messages
// ready, at the commit of the transaction ctx carries (now without one).
// PostgreSQL folds the same notice sent twice in a transaction into one.
func (s *Store) notifyQueue(ctx context.Context, appID, queue string) error {
	_, err := s.q(ctx).Exec(ctx, `SELECT pg_notify($1, $2)`, QueueChannel, QueueNotice(appID, queue))
	if err != nil {
		return fmt.Errorf("announce queue %q: %w", queue, mapError(err))
	}
	return nil
}

// untilNext is the SQL of how long, in seconds (a float8), until the
// earliest time of column that is still ahead: 0 when none is. seconds
// reads it.
func untilNext(column string) string {
	return `coalesce(extract(epoch FROM min(` + column + `) FILTER (WHERE ` + column + ` > now()) - now()), 0)::float8`
}

// seconds is an untilNext as a duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// SendQueue adds messages to an app's queue, in the transaction ctx
// carries if it carries one (a script's db.transaction), and announces
// the queue on QueueChannel at its commit. A message whose dedupe key is
// already waiting in the queue is not added again.
func (s *Store) SendQueue(ctx context.Context, appID, queue string, msgs []model.QueueSend) error {
	if len(msgs) == 0 {
		return nil
	}
	return s.Atomically(ctx, func(ctx context.Context) error {
		for _, m := range msgs {
			var key any
			if m.DedupeKey != "" {
				key = m.DedupeKey
			}
			_, err := s.q(ctx).Exec(ctx, `
INSERT INTO queue_messages (app_id, queue, body, dedupe_key, visible_at)
VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
ON CONFLICT (app_id, queue, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`,
				appID, queue, m.Body, key, m.Delay.Seconds())
			if err != nil {
				return fmt.Errorf("send a message to queue %q: %w", queue, mapError(err))
			}
		}
		return s.notifyQueue(ctx, appID, queue)
	})
}

// QueueReady is how many messages of a queue are ready for delivery now,
// since when the oldest of them is, and how long until the next of those
// waiting (a delay or a retry's) becomes ready: 0 if none waits. Leased
// messages count in neither.
func (s *Store) QueueReady(ctx context.Context, appID, queue string) (int, time.Time, time.Duration, error) {
	var n int
	var oldest *time.Time
	var wait float64
	err := s.q(ctx).QueryRow(ctx, `
SELECT count(*) FILTER (WHERE visible_at <= now()), min(visible_at) FILTER (WHERE visible_at <= now()),
  `+untilNext("visible_at")+`
FROM queue_messages
WHERE app_id = $1 AND queue = $2 AND state = 'ready'
  AND (leased_until IS NULL OR leased_until < now())`, appID, queue).Scan(&n, &oldest, &wait)
	if err != nil {
		return 0, time.Time{}, 0, fmt.Errorf("count the ready messages of queue %q: %w", queue, mapError(err))
	}
	next := seconds(wait)
	if oldest == nil {
		return n, time.Time{}, next, nil
	}
	return n, *oldest, next, nil
}

// LeaseQueueBatch leases up to limit ready messages of a queue, oldest
// first, whose bodies take at most maxBytes together (the first one
// always), for lease, counting a delivery attempt for each. Messages
// leased by another consumer (of this daemon or another) are skipped.
func (s *Store) LeaseQueueBatch(ctx context.Context, appID, queue string, limit, maxBytes int, lease time.Duration) ([]model.QueueMessage, error) {
	rows, err := s.q(ctx).Query(ctx, `
WITH locked AS (
  SELECT id, visible_at, seq, octet_length(body) AS size FROM queue_messages
  WHERE app_id = $1 AND queue = $2 AND state = 'ready' AND visible_at <= now()
    AND (leased_until IS NULL OR leased_until < now())
  ORDER BY visible_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED),
c AS (
  SELECT id FROM (
    SELECT id, row_number() OVER w AS n, sum(size) OVER w AS total FROM locked
    WINDOW w AS (ORDER BY visible_at, seq)) r
  WHERE n = 1 OR total <= $5),
u AS (
  UPDATE queue_messages m SET leased_until = now() + make_interval(secs => $4), attempts = m.attempts + 1
  FROM c WHERE m.id = c.id
  RETURNING m.*)
SELECT `+queueColumns+` FROM u ORDER BY visible_at, seq`, appID, queue, limit, lease.Seconds(), maxBytes)
	if err != nil {
		return nil, fmt.Errorf("lease messages of queue %q: %w", queue, mapError(err))
	}
	return collect(rows, scanQueueMessage, "lease messages of queue "+queue)
}

// SettleQueueBatch applies a consumer's outcomes, in one transaction:
// acked messages are deleted (in one statement); the others are delivered
// again after their delay, unless they were delivered more than
// maxRetries times already, when they move to deadLetter (announced on
// QueueChannel) or, without one, stay as failed.
func (s *Store) SettleQueueBatch(ctx context.Context, appID string, outcomes []model.QueueOutcome, maxRetries int, deadLetter string) error {
	if len(outcomes) == 0 {
		return nil
	}
	return s.Atomically(ctx, func(ctx context.Context) error {
		var acked []string
		failed := false
		for _, o := range outcomes {
			if o.Ack {
				acked = append(acked, o.ID)
				continue
			}
			failed = true
			if err := s.settle(ctx, appID, o, maxRetries, deadLetter); err != nil {
				return err
			}
		}
		if len(acked) > 0 {
			_, err := s.q(ctx).Exec(ctx, `DELETE FROM queue_messages WHERE app_id = $1 AND id = ANY($2::uuid[])`, appID, acked)
			if err != nil {
				return fmt.Errorf("delete %d acked messages: %w", len(acked), mapError(err))
			}
		}
		if failed && deadLetter != "" {
			return s.notifyQueue(ctx, appID, deadLetter)
		}
		return nil
	})
}

// settle applies the outcome of a message that was not acked.
func (s *Store) settle(ctx context.Context, appID string, o model.QueueOutcome, maxRetries int, deadLetter string) error {
	var err error
	switch {
	case deadLetter != "":
		_, err = s.q(ctx).Exec(ctx, `
UPDATE queue_messages SET leased_until = NULL, last_error = $3,
  visible_at = CASE WHEN attempts > $4 THEN now() ELSE now() + make_interval(secs => $5) END,
  origin_queue = CASE WHEN attempts > $4 THEN queue ELSE origin_queue END,
  attempts = CASE WHEN attempts > $4 THEN 0 ELSE attempts END,
  dedupe_key = CASE WHEN attempts > $4 THEN NULL ELSE dedupe_key END,
  queue = CASE WHEN attempts > $4 THEN $6 ELSE queue END
WHERE app_id = $1 AND id = $2`, appID, o.ID, o.Error, maxRetries, o.Delay.Seconds(), deadLetter)
	default:
		_, err = s.q(ctx).Exec(ctx, `
UPDATE queue_messages SET leased_until = NULL, last_error = $3,
  visible_at = now() + make_interval(secs => $5),
  state = CASE WHEN attempts > $4 THEN 'failed' ELSE 'ready' END
WHERE app_id = $1 AND id = $2`, appID, o.ID, o.Error, maxRetries, o.Delay.Seconds())
	}
	if err != nil {
		return fmt.Errorf("settle message %s: %w", o.ID, mapError(err))
	}
	return nil
}

// QueueStats lists an app's queues (every queue holding a message), by
// name, with what each holds now.
func (s *Store) QueueStats(ctx context.Context, appID string) ([]model.QueueStats, error) {
	rows, err := s.q(ctx).Query(ctx, `
SELECT queue,
  count(*) FILTER (WHERE state = 'ready' AND (leased_until IS NULL OR leased_until < now())),
  count(*) FILTER (WHERE state = 'ready' AND leased_until >= now()),
  count(*) FILTER (WHERE state = 'ready' AND attempts > 0 AND (leased_until IS NULL OR leased_until < now())),
  count(*) FILTER (WHERE state = 'failed'),
  coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE state = 'ready')), 0)::float8
FROM queue_messages WHERE app_id = $1 GROUP BY queue ORDER BY queue`, appID)
	if err != nil {
		return nil, fmt.Errorf("list the queues of app %s: %w", appID, mapError(err))
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (model.QueueStats, error) {
		var q model.QueueStats
		err := r.Scan(&q.Queue, &q.Depth, &q.InFlight, &q.Retrying, &q.Failed, &q.OldestAgeSeconds)
		return q, err
	}, "list the queues of app "+appID)
}

// AllQueueStats is QueueStats for every app's queues, with the apps'
// names, by app and queue name.
func (s *Store) AllQueueStats(ctx context.Context) ([]model.AppQueueStats, error) {
	rows, err := s.q(ctx).Query(ctx, `
SELECT a.name, m.queue,
  count(*) FILTER (WHERE m.state = 'ready' AND (m.leased_until IS NULL OR m.leased_until < now())),
  count(*) FILTER (WHERE m.state = 'ready' AND m.leased_until >= now()),
  count(*) FILTER (WHERE m.state = 'ready' AND m.attempts > 0 AND (m.leased_until IS NULL OR m.leased_until < now())),
  count(*) FILTER (WHERE m.state = 'failed'),
  coalesce(extract(epoch FROM now() - min(m.created_at) FILTER (WHERE m.state = 'ready')), 0)::float8
FROM queue_messages m JOIN apps a ON a.id = m.app_id
GROUP BY a.name, m.queue ORDER BY a.name, m.queue`)
	if err != nil {
		return nil, fmt.Errorf("list the queues of every app: %w", mapError(err))
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (model.AppQueueStats, error) {
		var q model.AppQueueStats
		err := r.Scan(&q.App, &q.Queue, &q.Depth, &q.InFlight, &q.Retrying, &q.Failed, &q.OldestAgeSeconds)
		return q, err
	}, "list the queues of every app")
}

// QueueMessages lists up to limit messages of a queue, oldest first,
// after the message id after ("" from the start); state "" is any.
func (s *Store) QueueMessages(ctx context.Context, appID, queue, state, after string, limit int) ([]model.QueueMessage, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+queueColumns+` FROM queue_messages
WHERE app_id = $1 AND queue = $2 AND ($3 = '' OR state = $3)
  AND ($4 = '' OR seq > (SELECT seq FROM queue_messages WHERE id::text = $4))
ORDER BY seq LIMIT $5`, appID, queue, state, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list the messages of queue %q: %w", queue, mapError(err))
	}
	return collect(rows, scanQueueMessage, "list the messages of queue "+queue)
}

// QueueMessage returns one message of an app's queue.
func (s *Store) QueueMessage(ctx context.Context, appID, queue, id string) (model.QueueMessage, error) {
	m, err := scanQueueMessage(s.q(ctx).QueryRow(ctx, `SELECT `+queueColumns+` FROM queue_messages
WHERE app_id = $1 AND queue = $2 AND id::text = $3`, appID, queue, id))
	if err != nil {
		return model.QueueMessage{}, fmt.Errorf("load message %s of queue %q: %w", id, queue, mapError(err))
	}
	return m, nil
}

// DeleteQueueMessage deletes one message of an app's queue.
func (s *Store) DeleteQueueMessage(ctx context.Context, appID, queue, id string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM queue_messages WHERE app_id = $1 AND queue = $2 AND id::text = $3`, appID, queue, id)
	if err != nil {
		return fmt.Errorf("delete message %s of queue %q: %w", id, queue, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete message %s of queue %q: %w", id, queue, model.ErrNotFound)
	}
	return nil
}

// RetryQueueMessage makes one message ready now with its attempts
// counted from zero: a failed one, or one waiting for a retry.
func (s *Store) RetryQueueMessage(ctx context.Context, appID, queue, id string) error {
	tag, err := s.q(ctx).Exec(ctx, `UPDATE queue_messages SET state = 'ready', attempts = 0, visible_at = now()
WHERE app_id = $1 AND queue = $2 AND id::text = $3 AND (leased_until IS NULL OR leased_until < now())`, appID, queue, id)
	if err != nil {
		return fmt.Errorf("retry message %s of queue %q: %w", id, queue, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("retry message %s of queue %q: %w (or it is being delivered now)", id, queue, model.ErrNotFound)
	}
	return s.notifyQueue(ctx, appID, queue)
}

// RedriveQueue sends a queue's dead messages back to be delivered again,
// attempts from zero: the messages a dead-letter queue holds go back to
// the queues they came from, and the failed ones are ready again; each
// queue they went to is announced on QueueChannel. It returns how many
// moved.
func (s *Store) RedriveQueue(ctx context.Context, appID, queue string) (int, error) {
	var n int
	err := s.q(ctx).QueryRow(ctx, `
WITH moved AS (
  UPDATE queue_messages SET queue = coalesce(origin_queue, queue), origin_queue = NULL, state = 'ready',
    attempts = 0, visible_at = now()
  WHERE app_id = $1 AND queue = $2 AND (origin_queue IS NOT NULL OR state = 'failed')
    AND (leased_until IS NULL OR leased_until < now())
  RETURNING queue),
notified AS (
  SELECT pg_notify($3, $1::text || '/' || q.queue) FROM (SELECT DISTINCT queue FROM moved) q)
SELECT (SELECT count(*) FROM moved) + 0 * (SELECT count(*) FROM notified)`, appID, queue, QueueChannel).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("redrive queue %q: %w", queue, mapError(err))
	}
	return n, nil
}

// TriggersOfType lists every trigger of a type, oldest first.
func (s *Store) TriggersOfType(ctx context.Context, typ string) ([]model.Trigger, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+triggerColumns+` FROM triggers WHERE type = $1 ORDER BY created_at, id`, typ)
	if err != nil {
		return nil, fmt.Errorf("list the %s triggers: %w", typ, mapError(err))
	}
	return collect(rows, scanTrigger, "list the "+typ+" triggers")
}

// ReleaseQueueBatch gives back the lease of messages whose delivery did
// not run, without counting the attempt.
func (s *Store) ReleaseQueueBatch(ctx context.Context, appID string, ids []string) error {
	_, err := s.q(ctx).Exec(ctx, `UPDATE queue_messages SET leased_until = NULL, attempts = greatest(attempts - 1, 0)
WHERE app_id = $1 AND id::text = ANY($2)`, appID, ids)
	if err != nil {
		return fmt.Errorf("give back the lease of %d messages: %w", len(ids), mapError(err))
	}
	return nil
}
