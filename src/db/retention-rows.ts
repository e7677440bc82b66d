// Narrows the retention store's rows (either dialect selects the same column names) into the port's records, once.
import { z } from 'zod';
import type { DeliveryFileForRetention, RunFilesForRetention } from './retention';

const num = z.union([z.number(), z.string().regex(/^-?\d+$/), z.bigint()]).transform(Number);
const time = z.union([z.date(), z.string()]).transform((v) => new Date(v));
/** jsonb arrives parsed (PostgreSQL), nvarchar(max) as text (SQL Server). */
const json = z.union([z.string().transform((s): unknown => JSON.parse(s)), z.array(z.unknown())]);

const deliveryColumns = {
  total: num,
  open: num,
  last_final_at: time.nullable(),
  retention_days: num.nullable(),
};

const runRow = z.object({
  run_id: z.string(),
  business_date: z.string(),
  directory: z.string().nullable(),
  files: json,
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  attempts: num,
  written_at: time,
  ...deliveryColumns,
});

const fileRow = z.object({
  id: num,
  path: z.string(),
  kind: z.enum(['encrypted-copy', 'report-copy']),
  report_id: z.string(),
  delivery_id: z.string().nullable(),
  bytes: num.nullable(),
  created_at: time,
  ...deliveryColumns,
});

function deliveriesOf(r: { total: number; open: number; last_final_at: Date | null; retention_days: number | null }) {
  return { total: r.total, open: r.open, lastFinalAt: r.total > 0 ? r.last_final_at : null, retentionDays: r.retention_days };
}

/** The recorded file names of a run (anything else in its `files` JSON is ignored). */
function fileNamesOf(files: unknown): string[] {
  if (!Array.isArray(files)) return [];
  return files.flatMap((f) => (f && typeof f === 'object' && typeof (f as { name?: unknown }).name === 'string' ? [(f as { name: string }).name] : []));
}

export function runFilesFromRow(row: unknown): RunFilesForRetention {
  const r = runRow.parse(row);
  return {
    runId: r.run_id, businessDate: r.business_date, directory: r.directory, fileNames: fileNamesOf(r.files), status: r.status, attempts: r.attempts,
    writtenAt: r.written_at, deliveries: deliveriesOf(r),
  };
}

export function deliveryFileFromRow(row: unknown): DeliveryFileForRetention {
  const r = fileRow.parse(row);
  return {
    id: r.id, path: r.path, kind: r.kind, reportId: r.report_id, deliveryId: r.delivery_id, bytes: r.bytes, createdAt: r.created_at, deliveries: deliveriesOf(r),
  };
}
