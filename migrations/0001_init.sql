-- 0001: the control plane and the execution log of the core platform.
-- Every app-owned row carries app_id; the default app exists from the start.

CREATE TABLE apps (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO apps (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 'default');

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username       text NOT NULL UNIQUE,
    password_hash  text NOT NULL,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    token_hash    bytea PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE scripts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id          uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name            text NOT NULL,
    language        text NOT NULL CHECK (language IN ('js', 'ts')),
    active_version  integer NOT NULL,
    latest_version  integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app_id, name)
);

CREATE TABLE script_versions (
    script_id   uuid NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
    version     integer NOT NULL,
    source      text NOT NULL,
    code        text NOT NULL,
    created_by  uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (script_id, version)
);

-- shape is the path with parameter names erased (/users/:/x/*): two routes of
-- one app with the same method and shape would match the same requests.
CREATE TABLE routes (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    script_id   uuid NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
    method      text NOT NULL,
    path        text NOT NULL,
    shape       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app_id, method, shape)
);
CREATE INDEX routes_script_id ON routes (script_id);

-- script_id has no foreign key: a deleted script's records stay until retention.
CREATE TABLE execution_logs (
    id              bigserial PRIMARY KEY,
    app_id          uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    script_id       uuid NOT NULL,
    script_version  integer NOT NULL,
    request_id      text NOT NULL,
    method          text NOT NULL,
    path            text NOT NULL,
    status          integer NOT NULL,
    duration_us     bigint NOT NULL,
    console         jsonb NOT NULL DEFAULT '[]',
    error_code      text NOT NULL DEFAULT '',
    error           text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX execution_logs_script ON execution_logs (script_id, id DESC);
CREATE INDEX execution_logs_created_at ON execution_logs (created_at);
