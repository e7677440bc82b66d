-- Schemas and the ledgers of file ingestion (SQL Server mirror of sql/postgres/001_foundation.sql).
-- Sent as one batch inside a transaction, without GO: CREATE SCHEMA must be alone in its batch, so it runs
-- through EXEC. Text is nvarchar (file names and headers are Unicode); times are UTC datetime2.
IF SCHEMA_ID(N'ref') IS NULL EXEC (N'CREATE SCHEMA [ref]');
IF SCHEMA_ID(N'bkp') IS NULL EXEC (N'CREATE SCHEMA [bkp]');
IF SCHEMA_ID(N'dist') IS NULL EXEC (N'CREATE SCHEMA [dist]');
IF SCHEMA_ID(N'data') IS NULL EXEC (N'CREATE SCHEMA [data]');

-- file_path is unique at 1000 characters like PostgreSQL; SQL Server warns that the key may exceed 1700 bytes,
-- and only a path longer than 850 characters would actually be refused.
CREATE TABLE ref.file_monitor_tracking (
  id                        int IDENTITY(1,1) NOT NULL CONSTRAINT pk_file_monitor_tracking PRIMARY KEY,
  file_path                 nvarchar(1000) NOT NULL CONSTRAINT uq_file_monitor_tracking_file_path UNIQUE,
  file_name                 nvarchar(255) NULL,
  file_size                 bigint NULL,
  file_hash                 nvarchar(64) NULL,
  load_type                 nvarchar(50) NULL,
  table_name                nvarchar(255) NULL,
  detected_delimiter        nvarchar(5) NULL,
  detected_headers          nvarchar(max) NULL,
  is_reference_data         bit NULL,
  reference_config_inserted bit NOT NULL CONSTRAINT df_file_monitor_tracking_reference_config_inserted DEFAULT 0,
  status                    nvarchar(50) NOT NULL,
  created_at                datetime2 NOT NULL CONSTRAINT df_file_monitor_tracking_created_at DEFAULT SYSUTCDATETIME(),
  processed_at              datetime2 NULL,
  error_message             nvarchar(max) NULL,
  workflow_id               nvarchar(1100) NULL,
  rows_loaded               bigint NULL
);
CREATE INDEX ix_file_monitor_tracking_status ON ref.file_monitor_tracking (status);
CREATE INDEX ix_file_monitor_tracking_created_at ON ref.file_monitor_tracking (created_at);

CREATE TABLE ref.reference_data_cfg (
  id               int IDENTITY(1,1) NOT NULL CONSTRAINT pk_reference_data_cfg PRIMARY KEY,
  schema_name      nvarchar(128) NOT NULL,
  table_name       nvarchar(128) NOT NULL,
  source_file      nvarchar(1000) NULL,
  load_type        nvarchar(50) NULL,
  key_column       nvarchar(128) NULL,
  is_active        bit NOT NULL CONSTRAINT df_reference_data_cfg_is_active DEFAULT 1,
  created_at       datetime2 NOT NULL CONSTRAINT df_reference_data_cfg_created_at DEFAULT SYSUTCDATETIME(),
  updated_at       datetime2 NOT NULL CONSTRAINT df_reference_data_cfg_updated_at DEFAULT SYSUTCDATETIME(),
  CONSTRAINT uq_reference_data_cfg_table UNIQUE (schema_name, table_name)
);

CREATE TABLE ref.loads (
  load_id          nvarchar(64) NOT NULL CONSTRAINT pk_loads PRIMARY KEY,
  target_schema    nvarchar(128) NOT NULL,
  target_table     nvarchar(128) NOT NULL,
  staging_schema   nvarchar(128) NOT NULL,
  staging_table    nvarchar(128) NOT NULL,
  mode             nvarchar(20) NOT NULL,
  file_path        nvarchar(1000) NOT NULL,
  file_hash        nvarchar(64) NULL,
  status           nvarchar(20) NOT NULL,
  rows_committed   bigint NOT NULL CONSTRAINT df_loads_rows_committed DEFAULT 0,
  byte_offset      bigint NOT NULL CONSTRAINT df_loads_byte_offset DEFAULT 0,
  batches          int NOT NULL CONSTRAINT df_loads_batches DEFAULT 0,
  backup_schema    nvarchar(128) NULL,
  backup_table     nvarchar(128) NULL,
  started_at       datetime2 NOT NULL CONSTRAINT df_loads_started_at DEFAULT SYSUTCDATETIME(),
  finished_at      datetime2 NULL
);
CREATE INDEX ix_loads_target ON ref.loads (target_schema, target_table, status);
CREATE INDEX ix_loads_file_hash ON ref.loads (file_hash);

CREATE TABLE ref.invalid_records (
  id               bigint IDENTITY(1,1) NOT NULL CONSTRAINT pk_invalid_records PRIMARY KEY,
  source           nvarchar(50) NOT NULL,
  source_ref       nvarchar(1000) NULL,
  record_id        nvarchar(255) NULL,
  row_number       bigint NULL,
  raw_text         nvarchar(max) NULL,
  errors           nvarchar(max) NOT NULL,
  created_at       datetime2 NOT NULL CONSTRAINT df_invalid_records_created_at DEFAULT SYSUTCDATETIME()
);
CREATE INDEX ix_invalid_records_created_at ON ref.invalid_records (created_at);
