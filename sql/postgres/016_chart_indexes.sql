-- The dashboard's charts read a period by start or creation time (src/db/postgres/charts.ts): loads by started_at,
-- deliveries by created_at. Without these each chart would scan the whole ledger.
CREATE INDEX IF NOT EXISTS ix_loads_started_at ON ref.loads (started_at);
CREATE INDEX IF NOT EXISTS ix_delivery_history_created_at ON dist.delivery_history (created_at);
