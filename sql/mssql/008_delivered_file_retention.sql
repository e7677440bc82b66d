-- Retention of delivered files (SQL Server mirror of sql/postgres/008_delivered_file_retention.sql).
-- One batch: nothing below may name the new column, which does not exist yet when the batch is compiled, so the
-- filtered index on it is created through sp_executesql.
IF COL_LENGTH(N'dist.distribution_runs', N'files_removed_at') IS NULL
  ALTER TABLE dist.distribution_runs ADD files_removed_at datetime2 NULL;
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_distribution_runs_files_kept' AND object_id = OBJECT_ID(N'dist.distribution_runs'))
  EXEC sp_executesql N'CREATE INDEX ix_distribution_runs_files_kept ON dist.distribution_runs (business_date) WHERE files_removed_at IS NULL';

CREATE TABLE dist.delivery_files (
  id           bigint IDENTITY(1,1) NOT NULL CONSTRAINT pk_delivery_files PRIMARY KEY,
  path         nvarchar(1000) NOT NULL,
  path_sha256  char(64) NOT NULL,
  kind         nvarchar(30) NOT NULL,
  report_id    nvarchar(100) NOT NULL,
  delivery_id  nvarchar(100) NULL,
  bytes        bigint NULL,
  created_at   datetime2 NOT NULL CONSTRAINT df_delivery_files_created_at DEFAULT SYSUTCDATETIME(),
  removed_at   datetime2 NULL,
  CONSTRAINT uq_delivery_files_path UNIQUE (path_sha256),
  CONSTRAINT ck_delivery_files_kind CHECK (kind IN (N'encrypted-copy', N'report-copy'))
);
CREATE INDEX ix_delivery_files_kept ON dist.delivery_files (created_at) WHERE removed_at IS NULL;
