-- 0021: request capture and replay. An owner or admin may turn on the
-- capture of a script's public HTTP requests (script_capture, one row
-- while it is on): the last max_requests requests that the active
-- version answered are kept in captured_requests with its response,
-- the credentials' headers and the configured ones redacted before
-- they are stored, so that a new version can be replayed against them.
-- Neither table is in backups.
CREATE TABLE script_capture (
    script_id      uuid PRIMARY KEY REFERENCES scripts(id) ON DELETE CASCADE,
    max_requests   integer NOT NULL CHECK (max_requests BETWEEN 1 AND 200),
    redact_headers text[] NOT NULL DEFAULT '{}',
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE captured_requests (
    id               bigserial PRIMARY KEY,
    script_id        uuid NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
    version          integer NOT NULL,
    method           text NOT NULL,
    url              text NOT NULL,
    request_headers  jsonb NOT NULL DEFAULT '{}',
    request_body     bytea NOT NULL DEFAULT '',
    status           integer NOT NULL,
    response_headers jsonb NOT NULL DEFAULT '{}',
    response_body    bytea NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX captured_requests_script ON captured_requests (script_id, id);
