-- 0019: outbound email. A script's email.send stores the built message
-- here, in the script's own transaction (db.transaction), so that a send
-- commits or rolls back with the data. The daemon's mailer takes due
-- messages (state 'queued', next_attempt_at passed), leasing each by
-- moving next_attempt_at ahead, and hands it to the SMTP relay: 'sent' on
-- success; a temporary failure waits for next_attempt_at again; a
-- permanent one, or too many attempts, leaves it 'failed' with last_error.
CREATE TABLE email_outbox (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The order messages were sent in (those of one transaction share its
    -- created_at): due messages go out in this order.
    seq             bigserial NOT NULL,
    app_id          uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    message_id      text NOT NULL,
    sender          text NOT NULL,
    recipients      text[] NOT NULL CHECK (cardinality(recipients) > 0),
    message         bytea NOT NULL,
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE state = 'queued';
CREATE INDEX email_outbox_app ON email_outbox (app_id, created_at);
