-- Held deliveries (SQL Server mirror of sql/postgres/014_held_deliveries.sql). One batch: the index names only columns
-- that exist before it (the batch is compiled before the new ones do); one column per ALTER, as Babelfish wants.
ALTER TABLE dist.delivery_history ADD held_for nvarchar(20) NULL;
ALTER TABLE dist.delivery_history ADD released_at datetime2 NULL;
CREATE INDEX ix_delivery_history_held ON dist.delivery_history (subscription_id, created_at);
