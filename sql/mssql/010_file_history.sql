-- One ledger row per drop (SQL Server mirror of sql/postgres/010_file_history.sql).
-- One batch: nothing below may name the new columns, which do not exist yet when the batch is compiled, except
-- through EXEC (compiled when it runs).
IF OBJECT_ID(N'ref.uq_file_monitor_tracking_file_path', N'UQ') IS NOT NULL
  ALTER TABLE ref.file_monitor_tracking DROP CONSTRAINT uq_file_monitor_tracking_file_path;
IF COL_LENGTH(N'ref.file_monitor_tracking', N'run_id') IS NULL
  ALTER TABLE ref.file_monitor_tracking ADD run_id nvarchar(100) NULL;
IF COL_LENGTH(N'ref.file_monitor_tracking', N'archived_path') IS NULL
  ALTER TABLE ref.file_monitor_tracking ADD archived_path nvarchar(1100) NULL;
IF COL_LENGTH(N'ref.file_monitor_tracking', N'rows_quarantined') IS NULL
  ALTER TABLE ref.file_monitor_tracking ADD rows_quarantined bigint NULL;
-- A filtered index: rows written before 010 have no run id, and a plain unique index allows one NULL only.
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ux_file_monitor_tracking_run_id' AND object_id = OBJECT_ID(N'ref.file_monitor_tracking'))
  EXEC (N'CREATE UNIQUE INDEX ux_file_monitor_tracking_run_id ON ref.file_monitor_tracking (run_id) WHERE run_id IS NOT NULL');
-- file_path is nvarchar(1000): as with the old unique key, SQL Server warns that the key may exceed 1700 bytes.
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_file_monitor_tracking_path' AND object_id = OBJECT_ID(N'ref.file_monitor_tracking'))
  CREATE INDEX ix_file_monitor_tracking_path ON ref.file_monitor_tracking (file_path, id);
