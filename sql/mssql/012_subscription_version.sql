-- A version per subscription (SQL Server mirror of sql/postgres/012_subscription_version.sql).
ALTER TABLE dist.report_subscriptions ADD version int NOT NULL CONSTRAINT df_report_subscriptions_version DEFAULT 1;
