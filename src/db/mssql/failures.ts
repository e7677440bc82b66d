// The failure ledger on SQL Server: statements as pure functions (unit-tested) and the store that runs them.
import type sql from 'mssql';
import { z } from 'zod';
import type { FailureRecord, FailureStore } from '../failures';
import { MAX_FAILURES } from '../failures';
import { rowsOf, run } from './client';
import { datetimeParam, intParam, textParam, type Statement } from './statement';

export function setErrorCategorySql(filePath: string, category: string | null): Statement {
  return {
    // The newest row of the path: the drop whose outcome was just recorded, not the path's earlier drops.
    text:
      'UPDATE ref.file_monitor_tracking SET error_category = @error_category\n' +
      'WHERE [id] = (SELECT MAX([id]) FROM ref.file_monitor_tracking WHERE file_path = @file_path)',
    params: { file_path: textParam(filePath), error_category: textParam(category) },
  };
}

export function listFailuresSql(since: Date, limit: number): Statement {
  return {
    text:
      'SELECT TOP (@limit) file_path, file_name, table_name, load_type, is_reference_data, error_category, error_message, workflow_id,\n' +
      '       COALESCE(processed_at, created_at) AS failed_at\n' +
      'FROM ref.file_monitor_tracking\n' +
      "WHERE status = N'error' AND COALESCE(processed_at, created_at) >= @since\n" +
      'ORDER BY failed_at DESC, id DESC',
    params: { since: datetimeParam(since), limit: intParam(Math.min(Math.max(limit, 1), MAX_FAILURES)) },
  };
}

const failureRow = z.object({
  file_path: z.string(),
  file_name: z.string().nullable(),
  table_name: z.string().nullable(),
  load_type: z.enum(['fullload', 'append']).nullable(),
  is_reference_data: z.boolean().nullable(),
  error_category: z.string().nullable(),
  error_message: z.string().nullable(),
  workflow_id: z.string().nullable(),
  failed_at: z.date(),
});

export function failuresFrom(rows: unknown): FailureRecord[] {
  return z.array(failureRow).parse(rows).map((r) => ({
    filePath: r.file_path,
    fileName: r.file_name ?? '',
    tableName: r.table_name,
    loadType: r.load_type,
    isReferenceData: r.is_reference_data,
    category: r.error_category,
    errorMessage: r.error_message,
    workflowId: r.workflow_id,
    failedAt: r.failed_at,
  }));
}

export function createMssqlFailureStore(pool: sql.ConnectionPool): FailureStore {
  return {
    async setCategory(filePath, category) {
      await run(pool, setErrorCategorySql(filePath, category));
    },
    async listFailures({ since, limit }) {
      return failuresFrom(await rowsOf(pool, listFailuresSql(since, limit)));
    },
  };
}
