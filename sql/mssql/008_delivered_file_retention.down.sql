-- Rollback of 008: forgets which delivered files were registered or removed (one batch; the files on disk are left alone).
DROP TABLE IF EXISTS dist.delivery_files;
DROP INDEX IF EXISTS ix_distribution_runs_files_kept ON dist.distribution_runs;
ALTER TABLE dist.distribution_runs DROP COLUMN IF EXISTS files_removed_at;
