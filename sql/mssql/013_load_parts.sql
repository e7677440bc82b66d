-- SQL Server mirror of sql/postgres/013_load_parts.sql. SQL Server loads use one bulk stream today, so the table
-- stays empty there; it keeps the two catalogs alike.
CREATE TABLE ref.load_parts (
  load_id         nvarchar(64) NOT NULL CONSTRAINT fk_load_parts_load REFERENCES ref.loads (load_id) ON DELETE CASCADE,
  part            int NOT NULL,
  range_start     bigint NOT NULL,
  range_end       bigint NOT NULL,
  byte_offset     bigint NOT NULL,
  rows_committed  bigint NOT NULL CONSTRAINT df_load_parts_rows DEFAULT 0,
  batches         int NOT NULL CONSTRAINT df_load_parts_batches DEFAULT 0,
  CONSTRAINT pk_load_parts PRIMARY KEY (load_id, part),
  CONSTRAINT ck_load_parts_range CHECK (range_start <= byte_offset AND byte_offset <= range_end)
);
