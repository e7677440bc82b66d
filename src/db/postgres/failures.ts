// The failure ledger on PostgreSQL: ref.file_monitor_tracking rows with status error.
import type { FailureRecord, FailureStore } from '../failures';
import { MAX_FAILURES } from '../failures';
import type { LoadMode } from '../types';
import type { PgExecutor, Row } from './executor';

export function failureFromRow(r: Row): FailureRecord {
  return {
    filePath: String(r.file_path),
    fileName: String(r.file_name ?? ''),
    tableName: (r.table_name as string | null) ?? null,
    loadType: (r.load_type as LoadMode | null) ?? null,
    isReferenceData: (r.is_reference_data as boolean | null) ?? null,
    category: (r.error_category as string | null) ?? null,
    errorMessage: (r.error_message as string | null) ?? null,
    workflowId: (r.workflow_id as string | null) ?? null,
    failedAt: new Date(r.failed_at as string),
  };
}

export function createPostgresFailureStore(exec: PgExecutor): FailureStore {
  return {
    async setCategory(filePath, category) {
      // The newest row of the path: the drop whose outcome was just recorded, not the path's earlier drops.
      await exec.query(
        'UPDATE ref.file_monitor_tracking SET error_category = $2 WHERE id = (SELECT max(id) FROM ref.file_monitor_tracking WHERE file_path = $1)',
        [filePath, category],
      );
    },

    async listFailures({ since, limit }) {
      const rows = await exec.query(
        `SELECT file_path, file_name, table_name, load_type, is_reference_data, error_category, error_message, workflow_id,
                COALESCE(processed_at, created_at) AS failed_at
           FROM ref.file_monitor_tracking
          WHERE status = 'error' AND COALESCE(processed_at, created_at) >= $1
          ORDER BY failed_at DESC, id DESC
          LIMIT $2`,
        [since, Math.min(Math.max(limit, 1), MAX_FAILURES)],
      );
      return rows.map(failureFromRow);
    },
  };
}
