-- Rollback of 016: the charts still work, by scanning.
DROP INDEX IF EXISTS ix_delivery_history_created_at ON dist.delivery_history;
DROP INDEX IF EXISTS ix_loads_started_at ON ref.loads;
