-- Report distribution (SQL Server mirror of sql/postgres/003_distribution.sql), one batch without GO.
-- JSON columns are nvarchar(max) checked with ISJSON. Channel secrets are sealed by the application.
CREATE TABLE dist.report_subscriptions (
  id                    uniqueidentifier NOT NULL CONSTRAINT pk_report_subscriptions PRIMARY KEY CONSTRAINT df_report_subscriptions_id DEFAULT NEWID(),
  subscription_id       nvarchar(100) NOT NULL CONSTRAINT uq_report_subscriptions_subscription_id UNIQUE,
  subscriber_id         nvarchar(100) NOT NULL,
  subscriber_type       nvarchar(50) NOT NULL,
  report_types          nvarchar(max) NOT NULL CONSTRAINT ck_report_subscriptions_report_types CHECK (ISJSON(report_types) = 1),
  delivery_preferences  nvarchar(max) NOT NULL CONSTRAINT ck_report_subscriptions_preferences CHECK (ISJSON(delivery_preferences) = 1),
  filters               nvarchar(max) NULL,
  status                nvarchar(20) NOT NULL CONSTRAINT df_report_subscriptions_status DEFAULT N'active',
  created_at            datetime2 NOT NULL CONSTRAINT df_report_subscriptions_created_at DEFAULT SYSUTCDATETIME(),
  updated_at            datetime2 NOT NULL CONSTRAINT df_report_subscriptions_updated_at DEFAULT SYSUTCDATETIME(),
  CONSTRAINT ck_report_subscriptions_status CHECK (status IN (N'active', N'paused', N'cancelled'))
);
CREATE INDEX ix_report_subscriptions_subscriber ON dist.report_subscriptions (subscriber_id);
CREATE INDEX ix_report_subscriptions_status ON dist.report_subscriptions (status);

CREATE TABLE dist.delivery_channels (
  id                uniqueidentifier NOT NULL CONSTRAINT pk_delivery_channels PRIMARY KEY CONSTRAINT df_delivery_channels_id DEFAULT NEWID(),
  channel_id        nvarchar(100) NOT NULL CONSTRAINT uq_delivery_channels_channel_id UNIQUE,
  channel_type      nvarchar(50) NOT NULL,
  channel_config    nvarchar(max) NOT NULL CONSTRAINT ck_delivery_channels_config CHECK (ISJSON(channel_config) = 1),
  subscription_id   nvarchar(100) NULL,
  subscriber_id     nvarchar(100) NULL,
  enabled           bit NOT NULL CONSTRAINT df_delivery_channels_enabled DEFAULT 1,
  disabled_reason   nvarchar(max) NULL,
  created_at        datetime2 NOT NULL CONSTRAINT df_delivery_channels_created_at DEFAULT SYSUTCDATETIME(),
  updated_at        datetime2 NOT NULL CONSTRAINT df_delivery_channels_updated_at DEFAULT SYSUTCDATETIME()
);
CREATE INDEX ix_delivery_channels_subscription ON dist.delivery_channels (subscription_id);
CREATE INDEX ix_delivery_channels_subscriber ON dist.delivery_channels (subscriber_id);

CREATE TABLE dist.delivery_history (
  id                uniqueidentifier NOT NULL CONSTRAINT pk_delivery_history PRIMARY KEY NONCLUSTERED CONSTRAINT df_delivery_history_id DEFAULT NEWID(),
  delivery_id       nvarchar(100) NOT NULL CONSTRAINT uq_delivery_history_delivery_id UNIQUE,
  subscription_id   nvarchar(100) NOT NULL,
  subscriber_id     nvarchar(100) NOT NULL,
  report_id         nvarchar(100) NOT NULL,
  report_type       nvarchar(50) NOT NULL,
  channel           nvarchar(50) NOT NULL,
  channel_id        nvarchar(100) NOT NULL,
  priority          smallint NOT NULL CONSTRAINT df_delivery_history_priority DEFAULT 3,
  status            nvarchar(20) NOT NULL,
  delivery_time     datetime2 NULL,
  retry_count       int NOT NULL CONSTRAINT df_delivery_history_retry_count DEFAULT 0,
  error_details     nvarchar(max) NULL,
  payload           nvarchar(max) NOT NULL CONSTRAINT ck_delivery_history_payload CHECK (ISJSON(payload) = 1),
  workflow_id       nvarchar(200) NOT NULL,
  run_id            nvarchar(64) NULL,
  replay_count      int NOT NULL CONSTRAINT df_delivery_history_replay_count DEFAULT 0,
  latency_ms        int NULL,
  requested_at      datetime2 NOT NULL CONSTRAINT df_delivery_history_requested_at DEFAULT SYSUTCDATETIME(),
  created_at        datetime2 NOT NULL CONSTRAINT df_delivery_history_created_at DEFAULT SYSUTCDATETIME(),
  updated_at        datetime2 NOT NULL CONSTRAINT df_delivery_history_updated_at DEFAULT SYSUTCDATETIME(),
  CONSTRAINT ck_delivery_history_status CHECK (status IN (N'pending', N'sending', N'retrying', N'delivered', N'failed', N'cancelled'))
);
CREATE INDEX ix_delivery_history_subscription ON dist.delivery_history (subscription_id, updated_at);
CREATE INDEX ix_delivery_history_subscriber ON dist.delivery_history (subscriber_id, created_at);
CREATE INDEX ix_delivery_history_status ON dist.delivery_history (status, updated_at);
CREATE INDEX ix_delivery_history_report ON dist.delivery_history (report_id);

CREATE TABLE dist.distribution_stats (
  id                      uniqueidentifier NOT NULL CONSTRAINT pk_distribution_stats PRIMARY KEY NONCLUSTERED CONSTRAINT df_distribution_stats_id DEFAULT NEWID(),
  [timestamp]             datetime2 NOT NULL,
  report_type             nvarchar(50) NOT NULL,
  channel                 nvarchar(50) NOT NULL,
  shard                   smallint NOT NULL CONSTRAINT df_distribution_stats_shard DEFAULT 0,
  deliveries_attempted    int NOT NULL CONSTRAINT df_distribution_stats_attempted DEFAULT 0,
  deliveries_successful   int NOT NULL CONSTRAINT df_distribution_stats_successful DEFAULT 0,
  deliveries_failed       int NOT NULL CONSTRAINT df_distribution_stats_failed DEFAULT 0,
  total_delivery_time_ms  bigint NOT NULL CONSTRAINT df_distribution_stats_total DEFAULT 0,
  avg_delivery_time_ms    float NULL,
  created_at              datetime2 NOT NULL CONSTRAINT df_distribution_stats_created_at DEFAULT SYSUTCDATETIME(),
  CONSTRAINT uq_distribution_stats_bucket UNIQUE ([timestamp], report_type, channel, shard)
);

CREATE TABLE dist.notifications (
  id              nvarchar(100) NOT NULL CONSTRAINT pk_notifications PRIMARY KEY,
  subscriber_id   nvarchar(100) NULL,
  subscription_id nvarchar(100) NULL,
  severity        nvarchar(20) NOT NULL,
  report_id       nvarchar(100) NOT NULL,
  report_type     nvarchar(50) NOT NULL,
  title           nvarchar(500) NOT NULL,
  body            nvarchar(max) NOT NULL CONSTRAINT ck_notifications_body CHECK (ISJSON(body) = 1),
  created_at      datetime2 NOT NULL CONSTRAINT df_notifications_created_at DEFAULT SYSUTCDATETIME(),
  read_at         datetime2 NULL
);
CREATE INDEX ix_notifications_subscriber ON dist.notifications (subscriber_id, created_at);

CREATE TABLE ref.api_keys (
  key_id          nvarchar(40) NOT NULL CONSTRAINT pk_api_keys PRIMARY KEY,
  key_hash        char(64) NOT NULL CONSTRAINT uq_api_keys_key_hash UNIQUE,
  role            nvarchar(20) NOT NULL,
  subscriber_id   nvarchar(100) NULL,
  label           nvarchar(200) NULL,
  created_at      datetime2 NOT NULL CONSTRAINT df_api_keys_created_at DEFAULT SYSUTCDATETIME(),
  revoked_at      datetime2 NULL,
  CONSTRAINT ck_api_keys_role CHECK (role IN (N'admin', N'operator', N'subscriber')),
  CONSTRAINT ck_api_keys_subscriber CHECK (role <> N'subscriber' OR subscriber_id IS NOT NULL)
);
