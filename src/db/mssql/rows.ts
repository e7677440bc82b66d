// Narrows SQL Server result rows (bigint as text, bit as boolean, datetime2 as Date) into the port's records, once.
import { z } from 'zod';
import type { LoadRecord, MigrationStatus, TrackingRecord } from '../types';

/** tedious returns bigint as a string so it cannot lose digits; our counts fit in a double. */
const count = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform(Number);
const nullableCount = count.nullable();
const str = z.string();
const nstr = z.string().nullable();
const date = z.date();

const fileStatus = z.enum(['waiting', 'planning', 'loading', 'finishing', 'loaded', 'error', 'cancelled', 'duplicate', 'vanished']);
const loadMode = z.enum(['fullload', 'append']);

function parseHeaders(v: string | null): string[] | null {
  if (v === null) return null;
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) ? parsed.map(String) : null;
  } catch {
    // Rows written by hand or by an older release may hold a plain comma list.
    return v.split(',');
  }
}

const trackingRow = z
  .object({
    id: count,
    file_path: str,
    file_name: nstr,
    file_size: nullableCount,
    file_hash: nstr,
    load_type: loadMode.nullable(),
    table_name: nstr,
    detected_delimiter: nstr,
    detected_headers: nstr,
    is_reference_data: z.boolean().nullable(),
    reference_config_inserted: z.boolean(),
    status: fileStatus,
    created_at: date,
    processed_at: date.nullable(),
    error_message: nstr,
    workflow_id: nstr,
    rows_loaded: nullableCount,
    run_id: nstr,
    rows_quarantined: nullableCount,
    archived_path: nstr,
  })
  .transform(
    (r): TrackingRecord => ({
      id: r.id,
      filePath: r.file_path,
      fileName: r.file_name ?? '',
      fileSize: r.file_size,
      fileHash: r.file_hash,
      loadType: r.load_type,
      tableName: r.table_name,
      detectedDelimiter: r.detected_delimiter,
      detectedHeaders: parseHeaders(r.detected_headers),
      isReferenceData: r.is_reference_data,
      referenceConfigInserted: r.reference_config_inserted,
      status: r.status,
      createdAt: r.created_at,
      processedAt: r.processed_at,
      errorMessage: r.error_message,
      workflowId: r.workflow_id,
      runId: r.run_id,
      rowsLoaded: r.rows_loaded,
      rowsQuarantined: r.rows_quarantined,
      archivedPath: r.archived_path,
    }),
  );

const loadRow = z
  .object({
    load_id: str,
    target_schema: str,
    target_table: str,
    staging_schema: str,
    staging_table: str,
    mode: loadMode,
    file_path: str,
    file_hash: nstr,
    status: z.enum(['loading', 'loaded', 'aborted', 'reverted']),
    rows_committed: count,
    // Absent before migration 009.
    rows_quarantined: count.optional(),
    byte_offset: count,
    batches: count,
    backup_schema: nstr,
    backup_table: nstr,
    started_at: date,
    finished_at: date.nullable(),
  })
  .transform(
    (r): LoadRecord => ({
      loadId: r.load_id,
      target: { schema: r.target_schema, name: r.target_table },
      staging: { schema: r.staging_schema, name: r.staging_table },
      mode: r.mode,
      filePath: r.file_path,
      fileHash: r.file_hash,
      status: r.status,
      rowsCommitted: r.rows_committed,
      rowsQuarantined: r.rows_quarantined ?? 0,
      byteOffset: r.byte_offset,
      batches: r.batches,
      backup: r.backup_schema !== null && r.backup_table !== null ? { schema: r.backup_schema, name: r.backup_table } : null,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    }),
  );

const migrationRow = z.object({ version: count, name: str, applied_at: date });

export const trackingFromRow = (row: unknown): TrackingRecord => trackingRow.parse(row);
export const loadFromRow = (row: unknown): LoadRecord => loadRow.parse(row);
export const migrationFromRow = (row: unknown): MigrationStatus => {
  const r = migrationRow.parse(row);
  return { version: r.version, name: r.name, appliedAt: r.applied_at };
};
