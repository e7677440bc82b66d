-- The nightly and intraday distribution runs (SQL Server mirror of sql/postgres/006_distribution_runs.sql).
-- One batch inside a transaction, without GO. Times are UTC datetime2 from the server's clock; JSON is nvarchar(max);
-- [trigger] is a reserved word.
CREATE TABLE dist.distribution_runs (
  run_id              nvarchar(32) NOT NULL CONSTRAINT pk_distribution_runs PRIMARY KEY,
  business_date       date NOT NULL,
  kind                nvarchar(10) NOT NULL,
  suffix              nvarchar(16) NULL,
  status              nvarchar(20) NOT NULL,
  [trigger]           nvarchar(20) NOT NULL,
  workflow_id         nvarchar(255) NOT NULL,
  workflow_run_id     nvarchar(64) NULL,
  submission_id       nvarchar(64) NOT NULL,
  watermark_from      datetime2 NULL,
  watermark_to        datetime2 NOT NULL,
  watermark_committed bit NOT NULL CONSTRAINT df_distribution_runs_watermark_committed DEFAULT 0,
  generated_at        datetime2 NOT NULL,
  directory           nvarchar(1000) NULL,
  files               nvarchar(max) NOT NULL CONSTRAINT df_distribution_runs_files DEFAULT N'[]',
  delivery_ids        nvarchar(max) NOT NULL CONSTRAINT df_distribution_runs_delivery_ids DEFAULT N'[]',
  attempts            int NOT NULL CONSTRAINT df_distribution_runs_attempts DEFAULT 1,
  started_at          datetime2 NOT NULL CONSTRAINT df_distribution_runs_started_at DEFAULT SYSUTCDATETIME(),
  finished_at         datetime2 NULL,
  error_message       nvarchar(max) NULL,
  CONSTRAINT ck_distribution_runs_kind CHECK (kind IN (N'full', N'delta')),
  CONSTRAINT ck_distribution_runs_status CHECK (status IN (N'running', N'succeeded', N'failed', N'cancelled'))
);
CREATE INDEX ix_distribution_runs_chain ON dist.distribution_runs (kind, business_date) WHERE watermark_committed = 1;
CREATE INDEX ix_distribution_runs_business_date ON dist.distribution_runs (business_date, started_at);
