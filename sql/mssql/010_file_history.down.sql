-- Rollback of 010: only the newest row of each path survives (the earlier drops' history is lost), so the path
-- can be unique again.
DELETE t FROM ref.file_monitor_tracking t
 WHERE EXISTS (SELECT 1 FROM ref.file_monitor_tracking n WHERE n.file_path = t.file_path AND n.id > t.id);
DROP INDEX IF EXISTS ix_file_monitor_tracking_path ON ref.file_monitor_tracking;
DROP INDEX IF EXISTS ux_file_monitor_tracking_run_id ON ref.file_monitor_tracking;
ALTER TABLE ref.file_monitor_tracking DROP COLUMN IF EXISTS rows_quarantined;
ALTER TABLE ref.file_monitor_tracking DROP COLUMN IF EXISTS archived_path;
ALTER TABLE ref.file_monitor_tracking DROP COLUMN IF EXISTS run_id;
ALTER TABLE ref.file_monitor_tracking ADD CONSTRAINT uq_file_monitor_tracking_file_path UNIQUE (file_path);
