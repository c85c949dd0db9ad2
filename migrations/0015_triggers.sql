-- 0015: triggers, what runs a script besides HTTP. A trigger belongs to a
-- script (and its app) and has a type ('cron' now; queues and email come
-- later) and a configuration of that type as a JSON object, checked by the
-- manager. next_run_at and last_run_at are what the scheduler last wrote,
-- for display: the schedule itself lives in River's jobs. running_until is
-- the lease of the run in progress, which keeps two runs of one trigger
-- apart; a daemon that dies mid-run leaves it to expire.
CREATE TABLE triggers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id       uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    script_id    uuid NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
    type         text NOT NULL CHECK (type <> ''),
    config       jsonb NOT NULL CHECK (jsonb_typeof(config) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    next_run_at  timestamptz,
    last_run_at  timestamptz,
    running_until timestamptz
);
CREATE INDEX triggers_script_id ON triggers (script_id);

-- What started each execution: 'http' for requests, 'cron' for schedules
-- (later 'queue', 'email').
ALTER TABLE execution_logs ADD COLUMN trigger text NOT NULL DEFAULT 'http';
