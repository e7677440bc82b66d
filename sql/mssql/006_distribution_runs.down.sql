-- Rollback of 006: drops the distribution runs (one batch; the files on disk and their backups are left alone).
DROP TABLE IF EXISTS dist.distribution_runs;
