-- Rollback of 016: the charts still work, by scanning.
DROP INDEX IF EXISTS dist.ix_delivery_history_created_at;
DROP INDEX IF EXISTS ref.ix_loads_started_at;
