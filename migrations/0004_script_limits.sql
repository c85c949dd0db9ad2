-- 0004: per-script limits. Each key present overrides the daemon's default
-- for that script's executions, within the administrator's ceilings:
-- wall_time_ms, response_bytes, console_bytes, call_depth, timers,
-- subrequests.
ALTER TABLE scripts ADD COLUMN limits jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(limits) = 'object');
