-- Rollback of 014 (one batch): deliveries forget whether they were held.
DROP INDEX IF EXISTS ix_delivery_history_held ON dist.delivery_history;
ALTER TABLE dist.delivery_history DROP COLUMN IF EXISTS held_for, released_at;
