-- Schemas and the ledgers of file ingestion.
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS bkp;
CREATE SCHEMA IF NOT EXISTS dist;
CREATE SCHEMA IF NOT EXISTS data;

CREATE TABLE ref.file_monitor_tracking (
  id                        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  file_path                 varchar(1000) NOT NULL UNIQUE,
  file_name                 varchar(255),
  file_size                 bigint,
  file_hash                 varchar(64),
  load_type                 varchar(50),
  table_name                varchar(255),
  detected_delimiter        varchar(5),
  detected_headers          text,
  is_reference_data         boolean,
  reference_config_inserted boolean NOT NULL DEFAULT false,
  status                    varchar(50) NOT NULL,
  created_at                timestamptz NOT NULL DEFAULT now(),
  processed_at              timestamptz,
  error_message             text,
  workflow_id               varchar(1100),
  rows_loaded               bigint
);
CREATE INDEX ix_file_monitor_tracking_status ON ref.file_monitor_tracking (status);
CREATE INDEX ix_file_monitor_tracking_created_at ON ref.file_monitor_tracking (created_at);

CREATE TABLE ref.reference_data_cfg (
  id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  schema_name      varchar(128) NOT NULL,
  table_name       varchar(128) NOT NULL,
  source_file      varchar(1000),
  load_type        varchar(50),
  key_column       varchar(128),
  is_active        boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT uq_reference_data_cfg_table UNIQUE (schema_name, table_name)
);

CREATE TABLE ref.loads (
  load_id          varchar(64) PRIMARY KEY,
  target_schema    varchar(128) NOT NULL,
  target_table     varchar(128) NOT NULL,
  staging_schema   varchar(128) NOT NULL,
  staging_table    varchar(128) NOT NULL,
  mode             varchar(20) NOT NULL,
  file_path        varchar(1000) NOT NULL,
  file_hash        varchar(64),
  status           varchar(20) NOT NULL,
  rows_committed   bigint NOT NULL DEFAULT 0,
  byte_offset      bigint NOT NULL DEFAULT 0,
  batches          integer NOT NULL DEFAULT 0,
  backup_schema    varchar(128),
  backup_table     varchar(128),
  started_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);
CREATE INDEX ix_loads_target ON ref.loads (target_schema, target_table, status);
CREATE INDEX ix_loads_file_hash ON ref.loads (file_hash);

CREATE TABLE ref.invalid_records (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source           varchar(50) NOT NULL,
  source_ref       varchar(1000),
  record_id        varchar(255),
  row_number       bigint,
  raw_text         text,
  errors           text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_invalid_records_created_at ON ref.invalid_records (created_at);
