-- Failure category of a file that ended in error/ (SQL Server mirror of sql/postgres/005_error_category.sql).
-- One batch: nothing below may name the new column, which does not exist yet when the batch is compiled.
IF COL_LENGTH(N'ref.file_monitor_tracking', N'error_category') IS NULL
  ALTER TABLE ref.file_monitor_tracking ADD error_category nvarchar(50) NULL;
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_file_monitor_tracking_failures' AND object_id = OBJECT_ID(N'ref.file_monitor_tracking'))
  CREATE INDEX ix_file_monitor_tracking_failures ON ref.file_monitor_tracking (status, processed_at);
