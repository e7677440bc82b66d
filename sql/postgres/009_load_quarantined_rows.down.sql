-- Rollback of 009: rows_committed counts quarantined rows again, as before.
UPDATE ref.loads SET rows_committed = rows_committed + rows_quarantined WHERE rows_quarantined > 0;
ALTER TABLE ref.loads DROP COLUMN IF EXISTS rows_quarantined;
