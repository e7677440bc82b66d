-- Rollback of 009: rows_committed counts quarantined rows again, as before.
EXEC (N'UPDATE ref.loads SET rows_committed = rows_committed + rows_quarantined WHERE rows_quarantined > 0');
ALTER TABLE ref.loads DROP CONSTRAINT IF EXISTS df_loads_rows_quarantined;
ALTER TABLE ref.loads DROP COLUMN IF EXISTS rows_quarantined;
