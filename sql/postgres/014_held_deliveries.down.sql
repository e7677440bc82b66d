-- Rollback of 014: deliveries forget whether they were held (held ones not yet released stay pending).
DROP INDEX IF EXISTS dist.ix_delivery_history_held;
ALTER TABLE dist.delivery_history DROP COLUMN IF EXISTS released_at;
ALTER TABLE dist.delivery_history DROP COLUMN IF EXISTS held_for;
