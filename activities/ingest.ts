// Streaming, checkpointed ingest of a planned file; finishing (swap-in) and undoing a load.
import { Context, ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import type { Database, LoadRecord } from '../src/db/types';
import type { Logger } from '../src/log/logger';
import { convertValue, CsvFormatError } from '../src/csv';
import type { LoadPlan } from './plan';
import type { IngestProgress } from '../workflows/file-lifecycle';
import { streamRecords } from '../src/record-stream';

export interface IngestActivityDeps {
  db: Database;
  log: Logger;
  batchRows: number;
  /** Tells the workflow how far the load is (a signal in production); optional in tests. */
  notifyProgress?: (workflowId: string, progress: IngestProgress) => Promise<void>;
}

function invalid(message: string, details: { row?: number; column?: string; code?: string }): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'InvalidFile', details);
}

/** Turns one parsed record into database text values, or says exactly what is wrong with it. */
function toValues(record: string[], plan: LoadPlan, rowNumber: number): (string | null)[] {
  const cols = plan.columns;
  if (plan.trailingDelimiter && record.length === cols.length + 1 && record[cols.length] === '') record.pop();
  if (record.length !== cols.length) {
    throw invalid(`row ${rowNumber} has ${record.length} fields, expected ${cols.length}`, { row: rowNumber, code: 'RAGGED_ROWS' });
  }
  const out: (string | null)[] = new Array(cols.length);
  for (let i = 0; i < cols.length; i++) {
    try {
      out[i] = convertValue(record[i], cols[i].type);
    } catch (err) {
      if (err instanceof CsvFormatError) {
        throw invalid(`row ${rowNumber}, column ${plan.headers[i] ?? cols[i].name}: ${err.message}`, { row: rowNumber, column: cols[i].name, code: err.code });
      }
      throw err;
    }
  }
  return out;
}

export function createIngestActivities(deps: IngestActivityDeps) {
  return {
    /** Loads every data row of the file; resumes after the last committed batch when retried. */
    async ingestFile(input: { loadId: string; filePath: string; plan: LoadPlan; workflowId: string }): Promise<{ rows: number; batches: number }> {
      const { plan, loadId } = input;
      const ctx = Context.current();
      const load: LoadRecord = await deps.db.beginLoad({
        loadId, target: plan.table, mode: plan.loadType, columns: plan.columns, filePath: input.filePath, fileHash: plan.fileHash,
      });
      if (load.status === 'loaded') return { rows: load.rowsCommitted, batches: load.batches };
      const log = deps.log.child({ loadId, filePath: input.filePath });
      const columnNames = plan.columns.map((c) => c.name);
      let committed = { rowsCommitted: load.rowsCommitted, byteOffset: load.byteOffset };
      let batches = load.batches;
      if (committed.rowsCommitted > 0) log.info({ resumeFrom: committed.rowsCommitted }, 'resuming load after the last committed batch');

      const started = Date.now();
      const stream = streamRecords(input.filePath, plan);

      const skipLeading = plan.preambleLines + (plan.hasHeader ? 1 : 0);
      let seen = 0;
      let dataRow = 0;
      let batch: (string | null)[][] = [];

      const flush = async () => {
        const next = { rowsCommitted: committed.rowsCommitted + batch.length, byteOffset: stream.bytesRead() };
        await deps.db.writeBatch(loadId, columnNames, batch, committed, next);
        committed = next;
        batches++;
        batch = [];
        const elapsed = Math.max((Date.now() - started) / 1000, 0.001);
        const progress = { rows: committed.rowsCommitted, bytes: stream.bytesRead(), batches, rowsPerSecond: Math.round((dataRow - load.rowsCommitted) / elapsed) };
        ctx.heartbeat(progress);
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('load cancelled');
        await deps.notifyProgress?.(input.workflowId, progress).catch((err: Error) => log.debug({ err: err.message }, 'progress signal not delivered'));
      };

      try {
        for await (const record of stream.records) {
          seen++;
          if (seen <= skipLeading) continue;
          dataRow++;
          if (dataRow <= load.rowsCommitted) continue;
          batch.push(toValues(record, plan, seen));
          if (batch.length >= deps.batchRows) await flush();
        }
        if (batch.length > 0 || batches === 0) await flush();
      } finally {
        stream.close();
      }
      if (committed.rowsCommitted === 0 && plan.hasHeader) {
        throw invalid('the file has a header but no data rows', { code: 'HEADER_ONLY' });
      }
      log.info({ event: 'load.ingested', rows: committed.rowsCommitted, batches }, 'rows ingested');
      return { rows: committed.rowsCommitted, batches };
    },

    async finishLoad(input: { loadId: string; plan: LoadPlan; filePath: string }): Promise<void> {
      const load = await deps.db.finishLoad(input.loadId);
      if (input.plan.referenceData) {
        await deps.db.upsertReferenceConfig({ table: input.plan.table, sourceFile: input.filePath, loadType: input.plan.loadType });
        await deps.db.upsertTracking({ filePath: input.filePath, referenceConfigInserted: true });
      }
      deps.log.info({ event: 'load.finished', loadId: input.loadId, table: `${load.target.schema}.${load.target.name}`, backup: load.backup }, 'load finished');
    },

    async abortLoad(input: { loadId: string }): Promise<void> {
      await deps.db.abortLoad(input.loadId);
    },
  };
}
