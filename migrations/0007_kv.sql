-- 0007: scripts' key-value data (the SDK's kv module). A key belongs to one
-- collection of one app; a collection exists while it holds keys. Values
-- are bytes with a type tag (text, json or bytes: what the script put).
-- Versions come from one sequence, so that a key deleted and written again
-- never repeats a version an ifVersion could still hold. Expired keys are
-- invisible at once (every read checks expires_at) and deleted in the
-- background, which the partial index finds.
CREATE SEQUENCE kv_versions;

CREATE TABLE kv_entries (
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    collection  text COLLATE "C" NOT NULL CHECK (octet_length(collection) BETWEEN 1 AND 256),
    key         text COLLATE "C" NOT NULL CHECK (octet_length(key) BETWEEN 1 AND 1024),
    type        text NOT NULL CHECK (type IN ('text', 'json', 'bytes')),
    value       bytea NOT NULL CHECK (octet_length(value) <= 1048576),
    metadata    jsonb,
    version     bigint NOT NULL DEFAULT nextval('kv_versions'),
    expires_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, collection, key)
);
CREATE INDEX kv_entries_expires_at ON kv_entries (expires_at) WHERE expires_at IS NOT NULL;

