-- 0010: where in its source an execution failed. An uncaught exception
-- (and a limit hit inside the script) has the line and column of the
-- script's source it was raised at; the execution view shows them beside
-- the error. 0 when not known. A constant default adds the columns without
-- rewriting the table.
ALTER TABLE execution_logs
    ADD COLUMN error_line   integer NOT NULL DEFAULT 0,
    ADD COLUMN error_column integer NOT NULL DEFAULT 0;
