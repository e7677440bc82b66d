-- Channel health (docs/channels.md, "Channel health"): consecutive failed attempts per channel; past
-- REFDATA_CHANNEL_UNHEALTHY_AFTER of them the channel is unhealthy and paused, probed with backoff until a probe (or an
-- operator's resume) makes it healthy again. Deliveries to a paused channel wait in the new status `waiting`.
ALTER TABLE dist.delivery_channels
  ADD COLUMN health_status        varchar(20) NOT NULL DEFAULT 'healthy'
    CONSTRAINT ck_delivery_channels_health CHECK (health_status IN ('healthy', 'unhealthy')),
  ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
  ADD COLUMN last_failure_at      timestamptz,
  ADD COLUMN last_error           text,
  -- Written at most about once a second per channel, so a busy channel's row is not a hot spot.
  ADD COLUMN last_success_at      timestamptz,
  -- Set while paused: deliveries wait instead of attempting.
  ADD COLUMN paused_at            timestamptz,
  ADD COLUMN next_probe_at        timestamptz,
  ADD COLUMN probe_attempts       integer NOT NULL DEFAULT 0,
  ADD COLUMN last_probe_at        timestamptz,
  ADD COLUMN last_probe_error     text,
  -- When a GONE answer (or a person) switched the channel off; NULL while enabled.
  ADD COLUMN disabled_at          timestamptz;

ALTER TABLE dist.delivery_history DROP CONSTRAINT ck_delivery_history_status;
ALTER TABLE dist.delivery_history ADD CONSTRAINT ck_delivery_history_status
  CHECK (status IN ('pending', 'sending', 'retrying', 'waiting', 'delivered', 'failed', 'cancelled'));
