// Maps PostgreSQL result rows (snake_case, bigint as text) to the port's records.
import type { FileStatus, LoadMode, LoadRecord, TrackingRecord } from '../types';
import type { Row } from './executor';

/** camelCase field of TrackingRecord → column of ref.file_monitor_tracking (writable ones). */
export const trackingColumns: Record<string, string> = {
  fileName: 'file_name',
  fileSize: 'file_size',
  fileHash: 'file_hash',
  loadType: 'load_type',
  tableName: 'table_name',
  detectedDelimiter: 'detected_delimiter',
  detectedHeaders: 'detected_headers',
  isReferenceData: 'is_reference_data',
  referenceConfigInserted: 'reference_config_inserted',
  status: 'status',
  processedAt: 'processed_at',
  errorMessage: 'error_message',
  workflowId: 'workflow_id',
  rowsLoaded: 'rows_loaded',
  runId: 'run_id',
  rowsQuarantined: 'rows_quarantined',
  archivedPath: 'archived_path',
};

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));

function parseHeaders(v: unknown): string[] | null {
  if (v === null || v === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(String(v));
    return Array.isArray(parsed) ? parsed.map(String) : null;
  } catch {
    return String(v).split(',');
  }
}

export function trackingFromRow(r: Row): TrackingRecord {
  return {
    id: Number(r.id),
    filePath: String(r.file_path),
    fileName: String(r.file_name ?? ''),
    fileSize: num(r.file_size),
    fileHash: (r.file_hash as string | null) ?? null,
    loadType: (r.load_type as LoadMode | null) ?? null,
    tableName: (r.table_name as string | null) ?? null,
    detectedDelimiter: (r.detected_delimiter as string | null) ?? null,
    detectedHeaders: parseHeaders(r.detected_headers),
    isReferenceData: (r.is_reference_data as boolean | null) ?? null,
    referenceConfigInserted: Boolean(r.reference_config_inserted),
    status: r.status as FileStatus,
    createdAt: new Date(r.created_at as string),
    processedAt: date(r.processed_at),
    errorMessage: (r.error_message as string | null) ?? null,
    workflowId: (r.workflow_id as string | null) ?? null,
    runId: (r.run_id as string | null | undefined) ?? null,
    rowsLoaded: num(r.rows_loaded),
    rowsQuarantined: num(r.rows_quarantined),
    archivedPath: (r.archived_path as string | null | undefined) ?? null,
  };
}

export function loadFromRow(r: Row): LoadRecord {
  return {
    loadId: String(r.load_id),
    target: { schema: String(r.target_schema), name: String(r.target_table) },
    staging: { schema: String(r.staging_schema), name: String(r.staging_table) },
    mode: r.mode as LoadMode,
    filePath: String(r.file_path),
    fileHash: (r.file_hash as string | null) ?? null,
    status: r.status as LoadRecord['status'],
    rowsCommitted: Number(r.rows_committed),
    rowsQuarantined: Number(r.rows_quarantined ?? 0),
    byteOffset: Number(r.byte_offset),
    batches: Number(r.batches),
    backup: r.backup_table ? { schema: String(r.backup_schema), name: String(r.backup_table) } : null,
    startedAt: new Date(r.started_at as string),
    finishedAt: date(r.finished_at),
  };
}
