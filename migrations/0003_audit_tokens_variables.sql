-- 0003: the audit log, API tokens, app variables and secrets, and the
-- first-start setup token.

-- One record per admin action, written in the same transaction as the
-- action. No foreign keys: records outlive the users, tokens and apps they
-- name. Never a password, token or secret value.
CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    user_id   uuid,
    username  text NOT NULL DEFAULT '',
    token_id  uuid,
    channel   text NOT NULL CHECK (channel IN ('api', 'dashboard', 'terminal')),
    remote    text NOT NULL DEFAULT '',
    action    text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    app_id    uuid,
    target    text NOT NULL DEFAULT '',
    details   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_app_id ON audit_log (app_id, id DESC) WHERE app_id IS NOT NULL;
CREATE INDEX audit_log_user_id ON audit_log (user_id, id DESC) WHERE user_id IS NOT NULL;

-- API tokens for scripts and CI: only the hash is stored. A token may do
-- what its capabilities allow on its apps, and never more than its user.
CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          text NOT NULL,
    token_hash    bytea NOT NULL UNIQUE,
    hint          text NOT NULL,
    apps          uuid[] NOT NULL DEFAULT '{}',
    capabilities  text[] NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

-- An app's variables, which reach its scripts as env.NAME. A secret's value
-- is stored only sealed (AES-256-GCM with a key kept outside the database).
CREATE TABLE app_variables (
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name        text NOT NULL,
    secret      boolean NOT NULL,
    value       text,
    sealed      bytea,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, name),
    CHECK (CASE WHEN secret THEN sealed IS NOT NULL AND value IS NULL
                ELSE value IS NOT NULL AND sealed IS NULL END)
);

-- The single-use token that creates the first owner, while no user exists.
CREATE TABLE setup_token (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    token_hash  bytea NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
