-- The nightly and intraday distribution runs (workflow `distribution`, docs/distribution.md): one row per run key —
-- the business date, plus a suffix for an intraday delta — with its watermark range (database clock), files,
-- deliveries and outcome. The next run's watermark is derived from these rows (the latest watermark_to of a committed
-- run of its chain), so no second table has to be kept in step with them.
CREATE TABLE dist.distribution_runs (
  run_id              varchar(32) PRIMARY KEY,
  business_date       date NOT NULL,
  kind                varchar(10) NOT NULL,
  suffix              varchar(16),
  status              varchar(20) NOT NULL,
  trigger             varchar(20) NOT NULL,
  workflow_id         varchar(255) NOT NULL,
  workflow_run_id     varchar(64),
  submission_id       varchar(64) NOT NULL,
  -- [watermark_from, watermark_to): NULL from = since the beginning. Taken once, by the first attempt; re-runs reuse it.
  watermark_from      timestamptz,
  watermark_to        timestamptz NOT NULL,
  -- Set by the run's first success and never cleared, so a re-run in progress never hides the range from the chain.
  watermark_committed boolean NOT NULL DEFAULT false,
  generated_at        timestamptz NOT NULL,
  directory           varchar(1000),
  -- [{name, type, dataset, rows, bytes, sha256}] and the delivery ids handed to the delivery workflow.
  files               jsonb NOT NULL DEFAULT '[]',
  delivery_ids        jsonb NOT NULL DEFAULT '[]',
  attempts            integer NOT NULL DEFAULT 1,
  started_at          timestamptz NOT NULL DEFAULT now(),
  finished_at         timestamptz,
  error_message       text,
  CONSTRAINT ck_distribution_runs_kind CHECK (kind IN ('full', 'delta')),
  CONSTRAINT ck_distribution_runs_status CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled'))
);
-- What a claim reads: the committed runs of a chain around a business date.
CREATE INDEX ix_distribution_runs_chain ON dist.distribution_runs (kind, business_date) WHERE watermark_committed;
CREATE INDEX ix_distribution_runs_business_date ON dist.distribution_runs (business_date, started_at);
