-- The file ledger keeps one row per drop (history): a re-drop of a path adds a row instead of overwriting the
-- earlier one. run_id (the workflow run that handled the drop) is the key a run writes its own row by; the
-- current state of a path is its newest row. archived_path says where the file went; rows_quarantined counts the
-- invalid rows set aside (rows_loaded counts only rows in the table).
ALTER TABLE ref.file_monitor_tracking DROP CONSTRAINT IF EXISTS file_monitor_tracking_file_path_key;
ALTER TABLE ref.file_monitor_tracking ADD COLUMN IF NOT EXISTS run_id varchar(100);
ALTER TABLE ref.file_monitor_tracking ADD COLUMN IF NOT EXISTS archived_path varchar(1100);
ALTER TABLE ref.file_monitor_tracking ADD COLUMN IF NOT EXISTS rows_quarantined bigint;
CREATE UNIQUE INDEX IF NOT EXISTS ux_file_monitor_tracking_run_id ON ref.file_monitor_tracking (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_file_monitor_tracking_path ON ref.file_monitor_tracking (file_path, id);
