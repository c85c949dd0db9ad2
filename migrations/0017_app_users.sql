-- 0017: the users of the apps built on PiCloud (the SDK's users module),
-- apart from the board's own administrators. A user belongs to one app;
-- its email is unique within the app, stored as the script gave it after
-- trimming and lower-casing. password_hash is an argon2id PHC string, or
-- NULL for a user who has no password yet (verify then always fails).
-- data is the app's JSON object for the user.
CREATE TABLE app_users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id        uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    email         text NOT NULL CHECK (octet_length(email) BETWEEN 3 AND 254),
    password_hash text,
    data          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    verified      boolean NOT NULL DEFAULT false,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app_id, email)
);

-- The tokens of app users, stored as the SHA-256 of the token: sessions
-- (issueSession; deleted to revoke them), and single-use email
-- verification and password reset tokens, deleted when used. app_id is
-- repeated so that every lookup names the app the token must belong to.
CREATE TABLE app_user_tokens (
    token_hash  bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('session', 'verify', 'reset')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX app_user_tokens_user ON app_user_tokens (user_id, kind);
CREATE INDEX app_user_tokens_expires_at ON app_user_tokens (expires_at);

-- Interceptors: a script of an app bound in front of a route prefix of
-- the same app; its intercept handler runs before the route's script.
-- Interceptors matching a request run in order (then by creation).
CREATE TABLE interceptors (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    script_id   uuid NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
    path        text NOT NULL CHECK (path <> ''),
    ord         integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interceptors_app ON interceptors (app_id, ord, created_at);
CREATE INDEX interceptors_script ON interceptors (script_id);
