-- 0020: inbound email, and the senders of each app. An email trigger claims one address for a script
-- ({"address": "orders@shop.example"}); no two triggers claim the same
-- address, whatever its case. The daemon's SMTP listener stores each
-- accepted message here, one row per recipient it was accepted for,
-- before it answers 250; the inbox delivery takes due rows (state
-- 'queued', next_attempt_at passed), leasing each by moving
-- next_attempt_at ahead, and hands it to the script's email handler:
-- 'delivered' when it returns, 'rejected' when it called setReject, a
-- failure waits for next_attempt_at again, and too many attempts leave
-- it 'failed' with last_error. Settled rows are kept.
CREATE UNIQUE INDEX triggers_email_address ON triggers (lower(config->>'address')) WHERE type = 'email';

CREATE TABLE email_inbox (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id          uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    script_id       uuid NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
    -- The trigger that claimed the recipient; a message outlives it.
    trigger_id      uuid REFERENCES triggers(id) ON DELETE SET NULL,
    sender          text NOT NULL,  -- MAIL FROM; '' for a bounce
    recipient       text NOT NULL,  -- the RCPT TO address the trigger claims
    message         bytea NOT NULL,
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'delivered', 'rejected', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    reject_reason   text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    settled_at      timestamptz
);
CREATE INDEX email_inbox_due ON email_inbox (next_attempt_at) WHERE state = 'queued';
CREATE INDEX email_inbox_app ON email_inbox (app_id, received_at);

-- The senders an app's scripts may use (email.send's from, forward's
-- envelope sender), set by the owner: addresses and "@domain"s, each
-- within the board's PICLOUD_SMTP_SENDERS. An app without a row may use
-- the board's whole list.
CREATE TABLE app_email_senders (
    app_id  uuid PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    senders text[] NOT NULL
);
