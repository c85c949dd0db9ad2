-- 0006: execution records lose their foreign key to apps. The check ran once
-- per written record (a trigger call per row of every batch), and a batch
-- holding one record of an app deleted meanwhile failed whole. Deleting an
-- app now deletes its records itself; a record that lands after that is
-- removed by retention.
ALTER TABLE execution_logs DROP CONSTRAINT IF EXISTS execution_logs_app_id_fkey;
