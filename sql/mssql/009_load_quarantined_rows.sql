-- ref.loads counts loaded and quarantined rows apart (SQL Server mirror of sql/postgres/009_load_quarantined_rows.sql).
-- The column is added in its own batch (EXEC): a batch that names it is compiled only after it exists.
IF COL_LENGTH(N'ref.loads', N'rows_quarantined') IS NULL
  ALTER TABLE ref.loads ADD rows_quarantined bigint NOT NULL CONSTRAINT df_loads_rows_quarantined DEFAULT 0;
EXEC (N'UPDATE l SET rows_quarantined = q.n, rows_committed = CASE WHEN l.rows_committed > q.n THEN l.rows_committed - q.n ELSE 0 END
  FROM ref.loads l
  JOIN (SELECT source_ref, COUNT_BIG(*) AS n FROM ref.invalid_records WHERE source = N''file'' GROUP BY source_ref) q ON q.source_ref = l.load_id
 WHERE l.rows_quarantined = 0');
