-- Rollback of 012: subscriptions forget their version.
ALTER TABLE dist.report_subscriptions DROP COLUMN IF EXISTS version;
