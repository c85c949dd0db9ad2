-- 0011: apps' own limits, set by administrators. storage_bytes is an app's
-- storage quota for its scripts' data; an app without a row, or with NULL,
-- has the daemon's default (PICLOUD_SANDBOX_STORAGE_MB).
CREATE TABLE app_limits (
    app_id        uuid PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    storage_bytes bigint CHECK (storage_bytes > 0),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
