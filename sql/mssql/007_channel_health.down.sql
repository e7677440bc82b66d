-- Rollback of 007 (one batch): channel health is forgotten; waiting deliveries go back to `retrying`.
UPDATE dist.delivery_history SET status = N'retrying' WHERE status = N'waiting';
ALTER TABLE dist.delivery_history DROP CONSTRAINT ck_delivery_history_status;
ALTER TABLE dist.delivery_history ADD CONSTRAINT ck_delivery_history_status
  CHECK (status IN (N'pending', N'sending', N'retrying', N'delivered', N'failed', N'cancelled'));
ALTER TABLE dist.delivery_channels DROP CONSTRAINT IF EXISTS ck_delivery_channels_health, df_delivery_channels_health,
  df_delivery_channels_failures, df_delivery_channels_probe_attempts;
ALTER TABLE dist.delivery_channels DROP COLUMN IF EXISTS health_status, consecutive_failures, last_failure_at, last_error, last_success_at,
  paused_at, next_probe_at, probe_attempts, last_probe_at, last_probe_error, disabled_at;
