// The retention store on PostgreSQL: distribution runs and registered delivery files still kept,
// each with the state of its deliveries, read in one statement.
import { createHash } from 'node:crypto';
import { deliveryFileFromRow, runFilesFromRow } from '../retention-rows';
import type { RetentionStore } from '../retention';
import type { PgExecutor } from './executor';
import { pruneSql } from './record-retention-sql';

/** Deliveries of whatever the outer row is, filtered by `where`: how many, how many still open, the last change, the largest retention. */
const deliveriesOf = (where: string) => `CROSS JOIN LATERAL (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE h.status NOT IN ('delivered', 'failed', 'cancelled')) AS open,
           max(h.updated_at) AS last_final_at,
           max(CASE WHEN jsonb_typeof(h.payload #> '{report,retentionDays}') = 'number'
                    THEN (h.payload #>> '{report,retentionDays}')::numeric::integer END) AS retention_days
      FROM dist.delivery_history h
     WHERE ${where}) d`;

export const RUNS_WITH_FILES_SQL = `
  SELECT r.run_id, to_char(r.business_date, 'YYYY-MM-DD') AS business_date, r.directory, r.files, r.status, r.attempts,
         COALESCE(r.finished_at, r.started_at) AS written_at, d.total, d.open, d.last_final_at, d.retention_days
    FROM dist.distribution_runs r
    ${deliveriesOf(`h.report_id = r.run_id AND h.report_type = 'REFERENCE_DATA'`)}
   WHERE r.files_removed_at IS NULL
   ORDER BY r.business_date, r.run_id
   LIMIT $1`;

export const DELIVERY_FILES_SQL = `
  SELECT f.id, f.path, f.kind, f.report_id, f.delivery_id, f.bytes, f.created_at, d.total, d.open, d.last_final_at, d.retention_days
    FROM dist.delivery_files f
    ${deliveriesOf('h.report_id = f.report_id AND (f.delivery_id IS NULL OR h.delivery_id = f.delivery_id)')}
   WHERE f.removed_at IS NULL
   ORDER BY f.created_at, f.id
   LIMIT $1`;

export const pathKey = (p: string) => createHash('sha256').update(p, 'utf8').digest('hex');

export function createPostgresRetentionStore(exec: PgExecutor): RetentionStore {
  return {
    async listRunsWithFiles(limit) {
      return (await exec.query(RUNS_WITH_FILES_SQL, [limit])).map(runFilesFromRow);
    },

    async markRunFilesRemoved(runId, attempts) {
      const rows = await exec.query(
        `UPDATE dist.distribution_runs SET files_removed_at = clock_timestamp()
          WHERE run_id = $1 AND attempts = $2 AND status <> 'running' AND files_removed_at IS NULL RETURNING run_id`,
        [runId, attempts],
      );
      return rows.length === 1;
    },

    async recordDeliveryFile(f) {
      await exec.query(
        `INSERT INTO dist.delivery_files (path, path_sha256, kind, report_id, delivery_id, bytes) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (path_sha256) DO UPDATE SET path = EXCLUDED.path, kind = EXCLUDED.kind, report_id = EXCLUDED.report_id,
           delivery_id = EXCLUDED.delivery_id, bytes = EXCLUDED.bytes, created_at = clock_timestamp(), removed_at = NULL`,
        [f.path, pathKey(f.path), f.kind, f.reportId, f.deliveryId, f.bytes],
      );
    },

    async listDeliveryFiles(limit) {
      return (await exec.query(DELIVERY_FILES_SQL, [limit])).map(deliveryFileFromRow);
    },

    async markDeliveryFileRemoved(id, createdAt) {
      // JavaScript dates hold milliseconds, the column microseconds: "not registered again since" = within that millisecond.
      const rows = await exec.query(
        `UPDATE dist.delivery_files SET removed_at = clock_timestamp()
          WHERE id = $1 AND removed_at IS NULL AND created_at < $2::timestamptz + interval '1 millisecond' RETURNING id`,
        [id, createdAt],
      );
      return rows.length === 1;
    },

    async pruneRecords(kind, cutoff, limit) {
      const [row] = await exec.query<{ n: number }>(`WITH gone AS (${pruneSql[kind]} RETURNING 1) SELECT count(*)::int AS n FROM gone`, [cutoff, limit]);
      return Number(row?.n ?? 0);
    },
  };
}
