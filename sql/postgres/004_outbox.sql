-- The transactional outbox and inbox of the event relay (docs/events.md).
-- dist.outbox: an event is written here in the same transaction as the change it announces, and the relay
-- (src/events/relay.ts) publishes it to Kafka or the in-process bus afterwards, so a Kafka outage delays events
-- and loses none. event_id is the consumers' dedupe key: delivery is at least once.
CREATE TABLE dist.outbox (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id       varchar(100) NOT NULL,
  topic          varchar(249) NOT NULL,
  key            varchar(500) NOT NULL,
  payload        text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  -- A relay that claimed the row owns it until then; a relay that died leaves it to be claimed again.
  claimed_until  timestamptz,
  published_at   timestamptz,
  attempts       integer NOT NULL DEFAULT 0,
  last_error     text,
  CONSTRAINT uq_outbox_event_id UNIQUE (event_id)
);
-- What the relay polls: small, because published rows leave it.
CREATE INDEX ix_outbox_unpublished ON dist.outbox (id) WHERE published_at IS NULL;
CREATE INDEX ix_outbox_published_at ON dist.outbox (published_at) WHERE published_at IS NOT NULL;

-- dist.inbox: upstream events already turned into work (the reporting.reports.generated consumer), so an event
-- that Kafka delivers twice (a rebalance, a retried batch) starts its deliveries once.
CREATE TABLE dist.inbox (
  event_id       varchar(100) NOT NULL PRIMARY KEY,
  topic          varchar(249) NOT NULL,
  received_at    timestamptz NOT NULL DEFAULT now(),
  handled_at     timestamptz
);
