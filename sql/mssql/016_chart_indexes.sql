-- SQL Server mirror of sql/postgres/016_chart_indexes.sql: the dashboard's charts read a period by start or creation
-- time (loads by started_at, deliveries by created_at).
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_loads_started_at' AND object_id = OBJECT_ID(N'ref.loads'))
  CREATE INDEX ix_loads_started_at ON ref.loads (started_at);
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_delivery_history_created_at' AND object_id = OBJECT_ID(N'dist.delivery_history'))
  CREATE INDEX ix_delivery_history_created_at ON dist.delivery_history (created_at);
