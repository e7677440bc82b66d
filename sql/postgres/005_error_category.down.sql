-- Rollback of 005: the failure categories are lost; error analysis then reads them from the error reports only.
DROP INDEX IF EXISTS ref.ix_file_monitor_tracking_failures;
ALTER TABLE ref.file_monitor_tracking DROP COLUMN IF EXISTS error_category;
