-- 0005: SSH public keys of users, which sign in to the terminal UI over
-- SSH. A key belongs to one user at most, so that it names who signs in.
CREATE TABLE ssh_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    fingerprint   text NOT NULL UNIQUE CHECK (fingerprint ~ '^SHA256:[A-Za-z0-9+/]{43}$'),
    key_type      text NOT NULL,
    public_key    text NOT NULL,
    comment       text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz
);
CREATE INDEX ssh_keys_user_id ON ssh_keys (user_id);
