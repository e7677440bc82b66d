-- The transactional outbox and inbox of the event relay (SQL Server mirror of sql/postgres/004_outbox.sql; docs/events.md).
-- One batch inside a transaction, without GO. Times are UTC datetime2 from the server's clock; [key] is a reserved word.
CREATE TABLE dist.outbox (
  id             bigint IDENTITY(1,1) NOT NULL CONSTRAINT pk_outbox PRIMARY KEY,
  event_id       nvarchar(100) NOT NULL,
  topic          nvarchar(249) NOT NULL,
  [key]          nvarchar(500) NOT NULL,
  payload        nvarchar(max) NOT NULL,
  created_at     datetime2 NOT NULL CONSTRAINT df_outbox_created_at DEFAULT SYSUTCDATETIME(),
  claimed_until  datetime2 NULL,
  published_at   datetime2 NULL,
  attempts       int NOT NULL CONSTRAINT df_outbox_attempts DEFAULT 0,
  last_error     nvarchar(max) NULL,
  CONSTRAINT uq_outbox_event_id UNIQUE (event_id)
);
CREATE INDEX ix_outbox_unpublished ON dist.outbox (id) WHERE published_at IS NULL;
CREATE INDEX ix_outbox_published_at ON dist.outbox (published_at) WHERE published_at IS NOT NULL;

CREATE TABLE dist.inbox (
  event_id       nvarchar(100) NOT NULL CONSTRAINT pk_inbox PRIMARY KEY,
  topic          nvarchar(249) NOT NULL,
  received_at    datetime2 NOT NULL CONSTRAINT df_inbox_received_at DEFAULT SYSUTCDATETIME(),
  handled_at     datetime2 NULL
);
