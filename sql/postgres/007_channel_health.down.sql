-- Rollback of 007: channel health is forgotten; deliveries waiting on a paused channel go back to `retrying`
-- (their workflows keep waiting until a code that knows 007 is back, or an operator cancels them).
UPDATE dist.delivery_history SET status = 'retrying' WHERE status = 'waiting';
ALTER TABLE dist.delivery_history DROP CONSTRAINT ck_delivery_history_status;
ALTER TABLE dist.delivery_history ADD CONSTRAINT ck_delivery_history_status
  CHECK (status IN ('pending', 'sending', 'retrying', 'delivered', 'failed', 'cancelled'));
ALTER TABLE dist.delivery_channels
  DROP COLUMN IF EXISTS health_status,
  DROP COLUMN IF EXISTS consecutive_failures,
  DROP COLUMN IF EXISTS last_failure_at,
  DROP COLUMN IF EXISTS last_error,
  DROP COLUMN IF EXISTS last_success_at,
  DROP COLUMN IF EXISTS paused_at,
  DROP COLUMN IF EXISTS next_probe_at,
  DROP COLUMN IF EXISTS probe_attempts,
  DROP COLUMN IF EXISTS last_probe_at,
  DROP COLUMN IF EXISTS last_probe_error,
  DROP COLUMN IF EXISTS disabled_at;
