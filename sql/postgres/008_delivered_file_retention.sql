-- Retention of delivered files (issue 8; docs/backup-and-recovery.md, "Retention of delivered files"). The cleanup
-- sweep removes a distribution run's files and their backups once the run's deliveries are final and their
-- retention_days have passed, and records when here; a re-run that writes the files again clears it.
ALTER TABLE dist.distribution_runs ADD COLUMN files_removed_at timestamptz;
CREATE INDEX ix_distribution_runs_files_kept ON dist.distribution_runs (business_date) WHERE files_removed_at IS NULL;

-- Files refdata writes for one delivery (an encrypted copy for an encryption_required subscriber) or for every
-- delivery of a report (a staged copy). Only files registered here (and a run's recorded files) are ever deleted:
-- a report file an upstream producer named in file_path stays theirs. The path is unique through its SHA-256
-- (an index key on the 1000-character path itself would not fit SQL Server's limit).
CREATE TABLE dist.delivery_files (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  path         varchar(1000) NOT NULL,
  path_sha256  char(64) NOT NULL,
  kind         varchar(30) NOT NULL,
  report_id    varchar(100) NOT NULL,
  delivery_id  varchar(100),
  bytes        bigint,
  created_at   timestamptz NOT NULL DEFAULT now(),
  removed_at   timestamptz,
  CONSTRAINT uq_delivery_files_path UNIQUE (path_sha256),
  CONSTRAINT ck_delivery_files_kind CHECK (kind IN ('encrypted-copy', 'report-copy'))
);
CREATE INDEX ix_delivery_files_kept ON dist.delivery_files (created_at) WHERE removed_at IS NULL;
