-- 0016: queues. Each message of an app's named queue is a row, written by a
-- script's queue.send in the script's own transaction (db.transaction), so
-- that a send commits or rolls back with the data. A consumer (a 'queue'
-- trigger) leases a batch of ready messages (leased_until), and settles
-- each in one transaction: acked messages are deleted, retried ones wait
-- for visible_at, and one past its retries moves to the dead-letter queue
-- (queue renamed, origin_queue kept) or stays as 'failed'. A daemon that
-- dies mid-batch leaves its lease to expire: the messages come again.
CREATE TABLE queue_messages (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The order messages were sent in, a sendBatch's included (they
    -- share their transaction's created_at).
    seq          bigserial NOT NULL,
    app_id       uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    queue        text NOT NULL CHECK (queue <> ''),
    body         text NOT NULL,
    state        text NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    dedupe_key   text,
    origin_queue text,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    visible_at   timestamptz NOT NULL DEFAULT now(),
    leased_until timestamptz
);
CREATE UNIQUE INDEX queue_messages_dedupe ON queue_messages (app_id, queue, dedupe_key)
    WHERE dedupe_key IS NOT NULL;
CREATE INDEX queue_messages_ready ON queue_messages (app_id, queue, visible_at, seq)
    WHERE state = 'ready';
CREATE INDEX queue_messages_order ON queue_messages (app_id, queue, seq);
