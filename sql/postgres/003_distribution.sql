-- Report distribution: subscriptions, their delivery channels, one history row per delivery, stats per hour,
-- dashboard notifications, and the API keys with roles. Channel secrets are sealed (AES-256-GCM) by the
-- application before they reach channel_config, so this table never holds a secret in clear.
CREATE TABLE dist.report_subscriptions (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subscription_id       varchar(100) NOT NULL UNIQUE,
  subscriber_id         varchar(100) NOT NULL,
  subscriber_type       varchar(50) NOT NULL,
  report_types          jsonb NOT NULL,
  delivery_preferences  jsonb NOT NULL,
  filters               jsonb,
  status                varchar(20) NOT NULL DEFAULT 'active',
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ck_report_subscriptions_status CHECK (status IN ('active', 'paused', 'cancelled'))
);
CREATE INDEX ix_report_subscriptions_subscriber ON dist.report_subscriptions (subscriber_id);
CREATE INDEX ix_report_subscriptions_status ON dist.report_subscriptions (status);

CREATE TABLE dist.delivery_channels (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  channel_id        varchar(100) NOT NULL UNIQUE,
  channel_type      varchar(50) NOT NULL,
  channel_config    jsonb NOT NULL,
  subscription_id   varchar(100),
  subscriber_id     varchar(100),
  enabled           boolean NOT NULL DEFAULT true,
  disabled_reason   text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_delivery_channels_subscription ON dist.delivery_channels (subscription_id);
CREATE INDEX ix_delivery_channels_subscriber ON dist.delivery_channels (subscriber_id);

-- One row per delivery (subscription × report × channel); every attempt updates it. `payload` is what the
-- channel sends (paths and metadata, never file contents), kept so a replay needs nothing but the id.
CREATE TABLE dist.delivery_history (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  delivery_id       varchar(100) NOT NULL UNIQUE,
  subscription_id   varchar(100) NOT NULL,
  subscriber_id     varchar(100) NOT NULL,
  report_id         varchar(100) NOT NULL,
  report_type       varchar(50) NOT NULL,
  channel           varchar(50) NOT NULL,
  channel_id        varchar(100) NOT NULL,
  priority          smallint NOT NULL DEFAULT 3,
  status            varchar(20) NOT NULL,
  delivery_time     timestamptz,
  retry_count       integer NOT NULL DEFAULT 0,
  error_details     text,
  payload           jsonb NOT NULL,
  workflow_id       varchar(200) NOT NULL,
  run_id            varchar(64),
  replay_count      integer NOT NULL DEFAULT 0,
  latency_ms        integer,
  requested_at      timestamptz NOT NULL DEFAULT now(),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ck_delivery_history_status CHECK (status IN ('pending', 'sending', 'retrying', 'delivered', 'failed', 'cancelled'))
);
CREATE INDEX ix_delivery_history_subscription ON dist.delivery_history (subscription_id, updated_at);
CREATE INDEX ix_delivery_history_subscriber ON dist.delivery_history (subscriber_id, created_at);
CREATE INDEX ix_delivery_history_status ON dist.delivery_history (status, updated_at);
CREATE INDEX ix_delivery_history_report ON dist.delivery_history (report_id);

-- Per hour × report type × channel. attempted counts attempts; successful and failed count deliveries that
-- ended so (a delivery retried three times and then delivered adds 3, 1, 0). Every delivery of the hour would
-- update one row, so each is split into `shard` rows (spreading the row lock); readers sum the shards.
CREATE TABLE dist.distribution_stats (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  "timestamp"             timestamptz NOT NULL,
  report_type             varchar(50) NOT NULL,
  channel                 varchar(50) NOT NULL,
  shard                   smallint NOT NULL DEFAULT 0,
  deliveries_attempted    integer NOT NULL DEFAULT 0,
  deliveries_successful   integer NOT NULL DEFAULT 0,
  deliveries_failed       integer NOT NULL DEFAULT 0,
  total_delivery_time_ms  bigint NOT NULL DEFAULT 0,
  avg_delivery_time_ms    double precision,
  created_at              timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT uq_distribution_stats_bucket UNIQUE ("timestamp", report_type, channel, shard)
);

-- DASHBOARD_NOTIFICATION deliveries; id = delivery id, so a retried publish upserts.
CREATE TABLE dist.notifications (
  id              varchar(100) PRIMARY KEY,
  subscriber_id   varchar(100),
  subscription_id varchar(100),
  severity        varchar(20) NOT NULL,
  report_id       varchar(100) NOT NULL,
  report_type     varchar(50) NOT NULL,
  title           varchar(500) NOT NULL,
  body            jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  read_at         timestamptz
);
CREATE INDEX ix_notifications_subscriber ON dist.notifications (subscriber_id, created_at);

-- API keys: only the SHA-256 of a key is stored; the key itself is shown once when created.
CREATE TABLE ref.api_keys (
  key_id          varchar(40) PRIMARY KEY,
  key_hash        char(64) NOT NULL UNIQUE,
  role            varchar(20) NOT NULL,
  subscriber_id   varchar(100),
  label           varchar(200),
  created_at      timestamptz NOT NULL DEFAULT now(),
  revoked_at      timestamptz,
  CONSTRAINT ck_api_keys_role CHECK (role IN ('admin', 'operator', 'subscriber')),
  CONSTRAINT ck_api_keys_subscriber CHECK (role <> 'subscriber' OR subscriber_id IS NOT NULL)
);
