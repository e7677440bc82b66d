-- Rollback of 003: drops the distribution tables and the API keys (one batch).
DROP TABLE IF EXISTS ref.api_keys;
DROP TABLE IF EXISTS dist.notifications;
DROP TABLE IF EXISTS dist.distribution_stats;
DROP TABLE IF EXISTS dist.delivery_history;
DROP TABLE IF EXISTS dist.delivery_channels;
DROP TABLE IF EXISTS dist.report_subscriptions;
