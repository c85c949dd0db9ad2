-- 0009: minute and hour rollups of each script's invocations, for boards
-- without a Prometheus server (GET /api/v1/admin/metrics and the terminal
-- UI's sparklines). A row exists only for a minute or hour with requests.
-- Durations are microseconds; an hour's p50 is the count-weighted mean of
-- its minutes' p50, its p99 the largest of theirs (an upper bound).
CREATE TABLE metric_rollups (
    step       text NOT NULL CHECK (step IN ('minute', 'hour')),
    app_id     uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    script_id  uuid NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    count      bigint NOT NULL CHECK (count > 0),
    errors     bigint NOT NULL CHECK (errors >= 0),
    p50_us     bigint NOT NULL,
    p99_us     bigint NOT NULL,
    max_us     bigint NOT NULL,
    PRIMARY KEY (step, app_id, script_id, at)
);
-- Retention deletes by age, and the board-wide view reads by time.
CREATE INDEX metric_rollups_at ON metric_rollups (step, at);
