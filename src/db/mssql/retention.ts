// The retention store on SQL Server: statements as pure functions (unit-tested) and the store that runs them.
import { createHash } from 'node:crypto';
import type sql from 'mssql';
import { deliveryFileFromRow, runFilesFromRow } from '../retention-rows';
import type { NewDeliveryFile, RetentionStore } from '../retention';
import { rowsOf } from './client';
import { pruneRecordsSql } from './record-retention-sql';
import { bigintParam, datetimeParam, intParam, textParam, type Statement } from './statement';

/** Deliveries of the outer row, filtered by `where`: how many, how many still open, the last change, the largest retention. */
const deliveriesOf = (where: string) => `OUTER APPLY (
    SELECT COUNT(*) AS total,
           SUM(CASE WHEN h.status NOT IN (N'delivered', N'failed', N'cancelled') THEN 1 ELSE 0 END) AS [open],
           MAX(h.updated_at) AS last_final_at,
           MAX(TRY_CONVERT(int, JSON_VALUE(h.payload, '$.report.retentionDays'))) AS retention_days
      FROM dist.delivery_history h
     WHERE ${where}) d`;

export function runsWithFilesSql(limit: number): Statement {
  return {
    text: `SELECT TOP (@limit) r.run_id, CONVERT(nvarchar(10), r.business_date, 23) AS business_date, r.directory, r.files, r.status, r.attempts,
       COALESCE(r.finished_at, r.started_at) AS written_at, d.total, COALESCE(d.[open], 0) AS [open], d.last_final_at, d.retention_days
  FROM dist.distribution_runs r
  ${deliveriesOf(`h.report_id = r.run_id AND h.report_type = N'REFERENCE_DATA'`)}
 WHERE r.files_removed_at IS NULL
 ORDER BY r.business_date, r.run_id`,
    params: { limit: intParam(limit) },
  };
}

export function markRunFilesRemovedSql(runId: string, attempts: number): Statement {
  return {
    text: `UPDATE dist.distribution_runs SET files_removed_at = SYSUTCDATETIME()
OUTPUT inserted.run_id
 WHERE run_id = @run_id AND attempts = @attempts AND status <> N'running' AND files_removed_at IS NULL`,
    params: { run_id: textParam(runId), attempts: intParam(attempts) },
  };
}

export const pathKey = (p: string) => createHash('sha256').update(p, 'utf8').digest('hex');

/** Update-or-insert under a key-range lock, so two registrations of one path cannot both insert. */
export function recordDeliveryFileSql(f: NewDeliveryFile): Statement {
  return {
    text: `UPDATE dist.delivery_files WITH (UPDLOCK, SERIALIZABLE)
   SET path = @path, kind = @kind, report_id = @report_id, delivery_id = @delivery_id, bytes = @bytes, created_at = SYSUTCDATETIME(), removed_at = NULL
 WHERE path_sha256 = @path_sha256;
IF @@ROWCOUNT = 0
  INSERT INTO dist.delivery_files (path, path_sha256, kind, report_id, delivery_id, bytes)
  VALUES (@path, @path_sha256, @kind, @report_id, @delivery_id, @bytes);`,
    params: {
      path: textParam(f.path), path_sha256: textParam(pathKey(f.path)), kind: textParam(f.kind), report_id: textParam(f.reportId),
      delivery_id: textParam(f.deliveryId), bytes: bigintParam(f.bytes),
    },
  };
}

export function deliveryFilesSql(limit: number): Statement {
  return {
    text: `SELECT TOP (@limit) f.id, f.path, f.kind, f.report_id, f.delivery_id, f.bytes, f.created_at,
       d.total, COALESCE(d.[open], 0) AS [open], d.last_final_at, d.retention_days
  FROM dist.delivery_files f
  ${deliveriesOf('h.report_id = f.report_id AND (f.delivery_id IS NULL OR h.delivery_id = f.delivery_id)')}
 WHERE f.removed_at IS NULL
 ORDER BY f.created_at, f.id`,
    params: { limit: intParam(limit) },
  };
}

/** JavaScript dates hold milliseconds, datetime2 more: "not registered again since" = within that millisecond. */
export function markDeliveryFileRemovedSql(id: number, createdAt: Date): Statement {
  return {
    text: `UPDATE dist.delivery_files SET removed_at = SYSUTCDATETIME()
OUTPUT inserted.id
 WHERE id = @id AND removed_at IS NULL AND created_at < DATEADD(millisecond, 1, @created_at)`,
    params: { id: bigintParam(id), created_at: datetimeParam(createdAt) },
  };
}

export function createMssqlRetentionStore(pool: sql.ConnectionPool): RetentionStore {
  return {
    async listRunsWithFiles(limit) {
      return (await rowsOf(pool, runsWithFilesSql(limit))).map(runFilesFromRow);
    },
    async markRunFilesRemoved(runId, attempts) {
      return (await rowsOf(pool, markRunFilesRemovedSql(runId, attempts))).length === 1;
    },
    async recordDeliveryFile(f) {
      await rowsOf(pool, recordDeliveryFileSql(f));
    },
    async listDeliveryFiles(limit) {
      return (await rowsOf(pool, deliveryFilesSql(limit))).map(deliveryFileFromRow);
    },
    async markDeliveryFileRemoved(id, createdAt) {
      return (await rowsOf(pool, markDeliveryFileRemovedSql(id, createdAt))).length === 1;
    },
    async pruneRecords(kind, cutoff, limit) {
      const [row] = await rowsOf(pool, pruneRecordsSql(kind, cutoff, limit));
      return Number((row as { n?: number } | undefined)?.n ?? 0);
    },
  };
}
