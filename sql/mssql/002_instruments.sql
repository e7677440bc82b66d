-- The instrument master and the report of every sync (SQL Server mirror of sql/postgres/002_instruments.sql).
-- One batch inside a transaction, without GO. Keys use a binary collation: the default one is case-insensitive
-- and would merge instruments whose keys differ only in case. Times are UTC datetime2 from the server's clock.
CREATE TABLE ref.instruments (
  instrument_key    nvarchar(255) COLLATE Latin1_General_100_BIN2 NOT NULL CONSTRAINT pk_instruments PRIMARY KEY,
  segment           nvarchar(50) NULL,
  exchange          nvarchar(50) NULL,
  instrument_type   nvarchar(50) NULL,
  name              nvarchar(500) NULL,
  trading_symbol    nvarchar(255) NULL,
  isin              nvarchar(50) NULL,
  expiry            date NULL,
  strike_price      decimal(20,6) NULL,
  lot_size          decimal(20,6) NULL,
  tick_size         decimal(20,6) NULL,
  freeze_quantity   decimal(20,6) NULL,
  underlying_key    nvarchar(255) NULL,
  option_type       nvarchar(10) NULL,
  weekly            bit NULL,
  source_record     nvarchar(max) NOT NULL,
  row_hash          char(64) NOT NULL,
  is_active         bit NOT NULL CONSTRAINT df_instruments_is_active DEFAULT 1,
  first_seen_at     datetime2 NOT NULL CONSTRAINT df_instruments_first_seen_at DEFAULT SYSUTCDATETIME(),
  last_seen_at      datetime2 NOT NULL CONSTRAINT df_instruments_last_seen_at DEFAULT SYSUTCDATETIME(),
  updated_at        datetime2 NOT NULL CONSTRAINT df_instruments_updated_at DEFAULT SYSUTCDATETIME(),
  deactivated_at    datetime2 NULL,
  last_sync_run_id  nvarchar(64) NULL
);
CREATE INDEX ix_instruments_segment ON ref.instruments (segment, is_active);
CREATE INDEX ix_instruments_instrument_type ON ref.instruments (instrument_type, is_active);
CREATE INDEX ix_instruments_expiry ON ref.instruments (expiry);
CREATE INDEX ix_instruments_is_active ON ref.instruments (is_active);
-- Serves prefix searches; "contains" (LIKE '%…%') scans it, which is narrower than the table.
CREATE INDEX ix_instruments_name ON ref.instruments (name);
CREATE INDEX ix_instruments_updated_at ON ref.instruments (updated_at);
CREATE INDEX ix_instruments_first_seen_at ON ref.instruments (first_seen_at);
CREATE INDEX ix_instruments_deactivated_at ON ref.instruments (deactivated_at) WHERE deactivated_at IS NOT NULL;

CREATE TABLE ref.instrument_sync_runs (
  run_id            nvarchar(64) NOT NULL CONSTRAINT pk_instrument_sync_runs PRIMARY KEY,
  workflow_id       nvarchar(255) NOT NULL,
  [trigger]         nvarchar(20) NOT NULL,
  source            nvarchar(2000) NOT NULL,
  status            nvarchar(20) NOT NULL,
  forced            bit NOT NULL CONSTRAINT df_instrument_sync_runs_forced DEFAULT 0,
  file_format       nvarchar(20) NULL,
  file_bytes        bigint NULL,
  file_sha256       char(64) NULL,
  records_read      bigint NOT NULL CONSTRAINT df_instrument_sync_runs_records_read DEFAULT 0,
  staged_rows       bigint NOT NULL CONSTRAINT df_instrument_sync_runs_staged_rows DEFAULT 0,
  invalid_records   bigint NOT NULL CONSTRAINT df_instrument_sync_runs_invalid_records DEFAULT 0,
  duplicates        bigint NOT NULL CONSTRAINT df_instrument_sync_runs_duplicates DEFAULT 0,
  batches           int NOT NULL CONSTRAINT df_instrument_sync_runs_batches DEFAULT 0,
  active_before     bigint NULL,
  active_after      bigint NULL,
  added             bigint NULL,
  updated           bigint NULL,
  unchanged         bigint NULL,
  deactivated       bigint NULL,
  reactivated       bigint NULL,
  by_segment        nvarchar(max) NULL,
  by_type           nvarchar(max) NULL,
  guard             nvarchar(max) NULL,
  error_message     nvarchar(max) NULL,
  started_at        datetime2 NOT NULL CONSTRAINT df_instrument_sync_runs_started_at DEFAULT SYSUTCDATETIME(),
  applied_at        datetime2 NULL,
  finished_at       datetime2 NULL,
  duration_ms       bigint NULL
);
CREATE INDEX ix_instrument_sync_runs_started_at ON ref.instrument_sync_runs (started_at);
CREATE INDEX ix_instrument_sync_runs_status ON ref.instrument_sync_runs (status, applied_at);
