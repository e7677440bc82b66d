-- Rollback of 008: forgets which delivered files were registered or removed (the files on disk are left alone).
DROP TABLE IF EXISTS dist.delivery_files;
DROP INDEX IF EXISTS dist.ix_distribution_runs_files_kept;
ALTER TABLE dist.distribution_runs DROP COLUMN IF EXISTS files_removed_at;
