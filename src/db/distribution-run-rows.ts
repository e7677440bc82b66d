// Narrows rows of dist.distribution_runs and ref.invalid_records (either dialect) into the port's records, once.
import { z } from 'zod';
import type { DistributionRun, InvalidRecordRow, RunFile } from './distribution-runs';

const num = z.union([z.number(), z.string().regex(/^-?\d+$/), z.bigint()]).transform(Number);
const text = z.string().nullable();
/** node-postgres and tedious give Date; a string (ISO) is accepted too. */
const time = z.union([z.date(), z.string()]).transform((v) => new Date(v).toISOString());
const bool = z.union([z.boolean(), z.number()]).transform(Boolean);
/** jsonb arrives parsed (PostgreSQL), nvarchar(max) as text (SQL Server). */
const json = z.union([z.string().transform((s): unknown => JSON.parse(s)), z.array(z.unknown())]);

const runFile = z.object({
  name: z.string(),
  type: z.enum(['full', 'delta', 'cancellation', 'invalid', 'manifest']),
  dataset: z.string(),
  rows: z.number(),
  bytes: z.number(),
  sha256: z.string(),
});

/** Watermarks and dates are selected as text by each dialect, so no driver rounds them to milliseconds. */
const runRow = z.object({
  run_id: z.string(),
  business_date: z.string(),
  kind: z.enum(['full', 'delta']),
  suffix: text,
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  trigger: z.enum(['schedule', 'api', 'cli', 'retry', 'change']),
  workflow_id: z.string(),
  workflow_run_id: text,
  submission_id: z.string(),
  wm_from: text,
  wm_to: z.string(),
  watermark_committed: bool,
  generated: z.string(),
  directory: text,
  files: json,
  delivery_ids: json,
  attempts: num,
  started_at: time,
  finished_at: time.nullable(),
  error_message: text,
});

export function runFromRow(row: unknown): DistributionRun {
  const r = runRow.parse(row);
  return {
    runId: r.run_id,
    businessDate: r.business_date,
    kind: r.kind,
    suffix: r.suffix,
    status: r.status,
    trigger: r.trigger,
    workflowId: r.workflow_id,
    workflowRunId: r.workflow_run_id,
    submissionId: r.submission_id,
    watermark: { from: r.wm_from, to: r.wm_to },
    watermarkCommitted: r.watermark_committed,
    generatedAt: r.generated,
    directory: r.directory,
    files: z.array(runFile).parse(r.files) as RunFile[],
    deliveryIds: z.array(z.string()).parse(r.delivery_ids),
    attempts: r.attempts,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    errorMessage: r.error_message,
  };
}

const invalidRow = z.object({
  id: num,
  source: z.string(),
  source_ref: text,
  record_id: text,
  row_number: num.nullable(),
  errors: z.string(),
  created: z.string(),
});

export function invalidRecordFromRow(row: unknown): InvalidRecordRow {
  const r = invalidRow.parse(row);
  return { id: r.id, source: r.source, sourceRef: r.source_ref, recordId: r.record_id, rowNumber: r.row_number, errors: r.errors, createdAt: r.created };
}
