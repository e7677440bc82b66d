-- Rollback of 013.
DROP TABLE IF EXISTS ref.load_parts;
