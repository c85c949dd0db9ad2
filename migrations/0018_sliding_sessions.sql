-- 0018: sliding app user sessions (users.issueSession with sliding: true).
-- A sliding session keeps sliding_ttl, the lifetime it is renewed to when
-- it is used once less than half of it is left, and max_expires_at, the
-- limit it never slides past (its issue plus maxTtl). Both are NULL for a
-- fixed session and for verification and reset tokens, which never slide.
ALTER TABLE app_user_tokens
    ADD COLUMN sliding_ttl    interval,
    ADD COLUMN max_expires_at timestamptz,
    ADD CONSTRAINT app_user_tokens_sliding_session CHECK (sliding_ttl IS NULL OR kind = 'session'),
    ADD CONSTRAINT app_user_tokens_sliding_limit CHECK ((sliding_ttl IS NULL) = (max_expires_at IS NULL)),
    ADD CONSTRAINT app_user_tokens_sliding_ttl CHECK (sliding_ttl IS NULL OR sliding_ttl > interval '0'),
    ADD CONSTRAINT app_user_tokens_within_limit CHECK (max_expires_at IS NULL OR expires_at <= max_expires_at);
