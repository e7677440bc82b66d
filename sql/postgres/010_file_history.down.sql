-- Rollback of 010: only the newest row of each path survives (the earlier drops' history is lost), so the path
-- can be unique again.
DELETE FROM ref.file_monitor_tracking t
 WHERE EXISTS (SELECT 1 FROM ref.file_monitor_tracking n WHERE n.file_path = t.file_path AND n.id > t.id);
DROP INDEX IF EXISTS ref.ix_file_monitor_tracking_path;
DROP INDEX IF EXISTS ref.ux_file_monitor_tracking_run_id;
ALTER TABLE ref.file_monitor_tracking DROP COLUMN IF EXISTS rows_quarantined;
ALTER TABLE ref.file_monitor_tracking DROP COLUMN IF EXISTS archived_path;
ALTER TABLE ref.file_monitor_tracking DROP COLUMN IF EXISTS run_id;
ALTER TABLE ref.file_monitor_tracking ADD CONSTRAINT file_monitor_tracking_file_path_key UNIQUE (file_path);
