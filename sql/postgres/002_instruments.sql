-- The instrument master (ref.instruments, soft-deleted, one row per broker instrument) and the report of every sync.
-- Timestamps are the database's clock. The nightly distribution reads: active instruments (is_active), changed
-- since T (updated_at, first_seen_at) and deactivated since T (deactivated_at), hence those indexes.
CREATE TABLE ref.instruments (
  instrument_key    varchar(255) PRIMARY KEY,
  segment           varchar(50),
  exchange          varchar(50),
  instrument_type   varchar(50),
  name              varchar(500),
  trading_symbol    varchar(255),
  isin              varchar(50),
  expiry            date,
  strike_price      numeric(20,6),
  lot_size          numeric(20,6),
  tick_size         numeric(20,6),
  freeze_quantity   numeric(20,6),
  underlying_key    varchar(255),
  option_type       varchar(10),
  weekly            boolean,
  source_record     jsonb NOT NULL,
  -- SHA-256 of the canonical source record without volatile fields: equal hash = nothing to write.
  row_hash          char(64) NOT NULL,
  is_active         boolean NOT NULL DEFAULT true,
  first_seen_at     timestamptz NOT NULL DEFAULT now(),
  -- Written with the row; for an active row the last successful sync also counts (unchanged rows are not rewritten).
  last_seen_at      timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  deactivated_at    timestamptz,
  last_sync_run_id  varchar(64)
);
CREATE INDEX ix_instruments_segment ON ref.instruments (segment, is_active);
CREATE INDEX ix_instruments_instrument_type ON ref.instruments (instrument_type, is_active);
CREATE INDEX ix_instruments_expiry ON ref.instruments (expiry);
CREATE INDEX ix_instruments_is_active ON ref.instruments (is_active);
CREATE INDEX ix_instruments_updated_at ON ref.instruments (updated_at);
CREATE INDEX ix_instruments_first_seen_at ON ref.instruments (first_seen_at);
CREATE INDEX ix_instruments_deactivated_at ON ref.instruments (deactivated_at) WHERE deactivated_at IS NOT NULL;

-- "Name contains" searches (ILIKE '%…%') use a trigram index where pg_trgm can be created (a trusted extension
-- since PostgreSQL 13); without it (the embedded database, a locked-down server) a lower(name) index serves
-- prefix searches and contains-searches scan, which a master of ~150k rows allows.
DO $$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%); name searches will not use a trigram index', SQLERRM;
  END;
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    EXECUTE 'CREATE INDEX ix_instruments_name_trgm ON ref.instruments USING gin (name gin_trgm_ops)';
  ELSE
    EXECUTE 'CREATE INDEX ix_instruments_name ON ref.instruments (lower(name) text_pattern_ops)';
  END IF;
END
$$;

CREATE TABLE ref.instrument_sync_runs (
  run_id            varchar(64) PRIMARY KEY,
  workflow_id       varchar(255) NOT NULL,
  trigger           varchar(20) NOT NULL,
  source            varchar(2000) NOT NULL,
  status            varchar(20) NOT NULL,
  forced            boolean NOT NULL DEFAULT false,
  file_format       varchar(20),
  file_bytes        bigint,
  file_sha256       char(64),
  -- staging checkpoint, committed with each batch
  records_read      bigint NOT NULL DEFAULT 0,
  staged_rows       bigint NOT NULL DEFAULT 0,
  invalid_records   bigint NOT NULL DEFAULT 0,
  duplicates        bigint NOT NULL DEFAULT 0,
  batches           integer NOT NULL DEFAULT 0,
  -- the report
  active_before     bigint,
  active_after      bigint,
  added             bigint,
  updated           bigint,
  unchanged         bigint,
  deactivated       bigint,
  reactivated       bigint,
  by_segment        text,
  by_type           text,
  guard             text,
  error_message     text,
  started_at        timestamptz NOT NULL DEFAULT now(),
  applied_at        timestamptz,
  finished_at       timestamptz,
  duration_ms       bigint
);
CREATE INDEX ix_instrument_sync_runs_started_at ON ref.instrument_sync_runs (started_at);
CREATE INDEX ix_instrument_sync_runs_status ON ref.instrument_sync_runs (status, applied_at);
