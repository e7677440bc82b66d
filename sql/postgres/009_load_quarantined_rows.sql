-- ref.loads counts a load's rows in two parts: rows_committed went into the table, rows_quarantined went to
-- ref.invalid_records under the quarantine policy (they used to be counted in rows_committed).
ALTER TABLE ref.loads ADD COLUMN IF NOT EXISTS rows_quarantined bigint NOT NULL DEFAULT 0;
-- Earlier loads: their quarantined rows are those of ref.invalid_records still kept (retention may have pruned some).
UPDATE ref.loads l
   SET rows_quarantined = q.n, rows_committed = GREATEST(l.rows_committed - q.n, 0)
  FROM (SELECT source_ref, count(*) AS n FROM ref.invalid_records WHERE source = 'file' GROUP BY source_ref) q
 WHERE q.source_ref = l.load_id AND l.rows_quarantined = 0;
