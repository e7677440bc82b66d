-- Rollback of 012 (one batch): subscriptions forget their version.
ALTER TABLE dist.report_subscriptions DROP CONSTRAINT IF EXISTS df_report_subscriptions_version;
ALTER TABLE dist.report_subscriptions DROP COLUMN IF EXISTS version;
