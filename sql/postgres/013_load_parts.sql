-- A file loaded over parallel COPY streams is cut into contiguous byte ranges at record boundaries; each range keeps
-- its own checkpoint, committed with its batches: the bytes [range_start, byte_offset) are in the staging table.
-- (Numbered 013: 012 is taken by another branch's migration.)
CREATE TABLE ref.load_parts (
  load_id         varchar(64) NOT NULL REFERENCES ref.loads (load_id) ON DELETE CASCADE,
  part            integer NOT NULL,
  range_start     bigint NOT NULL,
  range_end       bigint NOT NULL,
  byte_offset     bigint NOT NULL,
  rows_committed  bigint NOT NULL DEFAULT 0,
  batches         integer NOT NULL DEFAULT 0,
  PRIMARY KEY (load_id, part),
  CHECK (range_start <= byte_offset AND byte_offset <= range_end)
);
COMMENT ON TABLE ref.load_parts IS 'Per-stream checkpoints of a load split into byte ranges and loaded over parallel COPY streams.';
