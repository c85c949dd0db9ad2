-- 0006: cheaper execution records, written once per request.
--
-- They lose their foreign key to apps: the check ran once per written
-- record (a trigger call per row of every batch), and a batch holding one
-- record of an app deleted meanwhile failed whole. Deleting an app now
-- deletes its records itself; a record that lands after that is removed by
-- retention.
--
-- They lose the index on created_at, one index write per record that only
-- retention (every ten minutes) used: retention finds the first record
-- young enough to keep by the primary key instead (ids grow with time).
ALTER TABLE execution_logs DROP CONSTRAINT IF EXISTS execution_logs_app_id_fkey;
DROP INDEX IF EXISTS execution_logs_created_at;
