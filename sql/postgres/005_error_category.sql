-- Failure category of a file that ended in error/ (one of the failure types in src/errors.ts), for error analysis.
ALTER TABLE ref.file_monitor_tracking ADD COLUMN IF NOT EXISTS error_category varchar(50);
CREATE INDEX IF NOT EXISTS ix_file_monitor_tracking_failures ON ref.file_monitor_tracking (status, processed_at);
