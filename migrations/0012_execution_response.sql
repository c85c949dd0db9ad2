-- 0012: what an execution answered, as far as the log keeps it: the
-- response's headers, the first PICLOUD_LOG_RESPONSE_BYTES of its body as
-- text, and the body's whole size ({"headers", "body", "size"}); NULL when
-- the execution answered nothing or the log keeps no response. Adding a
-- column without a default rewrites nothing.
ALTER TABLE execution_logs ADD COLUMN response jsonb;
