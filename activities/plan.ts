// Planning a load: read a sample, detect the format, name the table, check it against an existing table.
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ColumnSpec, Database, LoadMode, TableRef } from '../src/db/types';
import type { Logger } from '../src/log/logger';
import { CsvFormatError, isCopyCompatible, matchSchema, planSample, withPairedNames, withTableTypes, type CsvPlan, type SchemaMatch } from '../src/csv';
import { isReservedTable } from '../src/db/load-names';
import { LOAD_ID_COLUMN } from '../src/db/postgres/sql';
import { symbolicLinkRefused } from './files';

export const SAMPLE_BYTES = 1024 * 1024;

/** What the ingest step needs to know about a file: small enough for workflow history. */
export interface LoadPlan {
  table: TableRef;
  loadType: LoadMode;
  referenceData: boolean;
  encoding: string;
  delimiter: string;
  quote: string;
  newline: '\r\n' | '\n' | '\r';
  hasHeader: boolean;
  preambleLines: number;
  /** Every line ends with a delimiter: the empty last field is not a column. */
  trailingDelimiter: boolean;
  /** The sampled values are all in forms the database's COPY reads exactly as our converter would. */
  copyCompatible: boolean;
  headers: string[];
  /** One per header, in file order: the table column each goes into (paired with an existing table's by `match`). */
  columns: ColumnSpec[];
  fileSize: number;
  /** Modification time when planned; the loader refuses to finish a file whose size or mtime moved since. */
  fileMtimeMs?: number;
  /** SHA-256, when planning needed it (a possible duplicate, or a small file); otherwise computed while loading. */
  fileHash: string | null;
  /** The load that already put this exact content into this table. */
  duplicateOf: string | null;
  rowCountEstimate: number | null;
  match: SchemaMatch | null;
}

export interface PlanActivityDeps {
  db: Database;
  log: Logger;
}

export async function readSample(filePath: string, bytes = SAMPLE_BYTES): Promise<{ sample: Buffer; size: number }> {
  const handle = await fs.promises.open(filePath, 'r');
  try {
    const { size } = await handle.stat();
    const buf = Buffer.alloc(Math.min(bytes, size));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return { sample: buf.subarray(0, bytesRead), size };
  } finally {
    await handle.close();
  }
}

export async function sha256File(filePath: string, onChunk?: () => void): Promise<string> {
  const hash = crypto.createHash('sha256');
  const stream = fs.createReadStream(filePath);
  if (onChunk) stream.on('data', onChunk);
  await pipeline(stream, hash);
  return hash.digest('hex');
}

/** Tells Temporal planning is alive, so a killed worker's attempt is retried after the heartbeat timeout. */
function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Outside an activity (planLoad called directly, e.g. by a test) there is no one to tell.
  }
}

export function tableSchemaFor(referenceData: boolean): string {
  return referenceData ? 'ref' : 'data';
}

/** Plans a file without loading it; `describeTable` (optional) checks it against an existing table. */
export async function planFile(
  input: { filePath: string; loadType: LoadMode; referenceData: boolean },
  describeTable: Database['describeTable'] | null,
): Promise<LoadPlan> {
      const { sample, size } = await readSample(input.filePath).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') throw ApplicationFailure.nonRetryable(`${input.filePath} disappeared before it could be read`, 'InvalidFile');
        throw err;
      });
      let csv: CsvPlan;
      let dataRows: string[][];
      try {
        ({ plan: csv, dataRows } = planSample({ fileName: path.basename(input.filePath), sample, sampleIsWholeFile: sample.length >= size }));
      } catch (err) {
        if (err instanceof CsvFormatError) {
          throw ApplicationFailure.nonRetryable(err.message, 'InvalidFile', { code: err.code, ...err.location });
        }
        throw err;
      }
      if (isReservedTable(csv.table)) {
        throw ApplicationFailure.nonRetryable(`table name "${csv.table}" belongs to refdata itself; rename the file`, 'ReservedTable');
      }
      const table = { schema: tableSchemaFor(input.referenceData), name: csv.table };
      const existing = describeTable ? await describeTable(table) : null;
      let match: SchemaMatch | null = null;
      let columns = csv.columns;
      if (existing && existing.length > 0) {
        match = matchSchema(csv.columnNames, existing.map((c) => c.name).filter((c) => c !== LOAD_ID_COLUMN));
        if (input.loadType === 'append' && !match.isAcceptable) {
          throw ApplicationFailure.nonRetryable(
            `only ${match.percent}% of the file's columns match ${table.schema}.${table.name} (70% needed); missing: ${match.missing.join(', ') || 'none'}; extra: ${match.extra.join(', ') || 'none'}`,
            'SchemaMismatch',
            match,
          );
        }
        // Rows go into the table columns the match paired (a fullload keeps the table's column names too).
        columns = withPairedNames(csv.columns, match);
        if (input.loadType === 'append') columns = withTableTypes(columns, existing);
      }
      const plan: LoadPlan = {
        table,
        loadType: input.loadType,
        referenceData: input.referenceData,
        encoding: csv.encoding,
        delimiter: csv.delimiter,
        quote: csv.quote,
        newline: csv.newline,
        hasHeader: csv.hasHeader,
        preambleLines: csv.preambleLines,
        trailingDelimiter: csv.trailingDelimiter,
        copyCompatible: isCopyCompatible(columns, dataRows),
        headers: csv.headers,
        columns,
        fileSize: size,
        fileHash: null,
        duplicateOf: null,
        rowCountEstimate: csv.rowCountEstimate,
        match,
      };
      return plan;
}

const HASH_UPFRONT_BYTES = 8 * 1024 * 1024;

export function createPlanActivities(deps: PlanActivityDeps) {
  return {
    async planLoad(input: { filePath: string; loadType: LoadMode; referenceData: boolean }): Promise<LoadPlan> {
      // `refdata load` skips the stability wait, so planning is where a link is refused before anything reads it.
      if ((await fs.promises.lstat(input.filePath).catch(() => null))?.isSymbolicLink()) throw symbolicLinkRefused(input.filePath);
      // The ledger row follows the drop's phases: planning, loading, finishing, then the outcome.
      heartbeat();
      await deps.db.upsertTracking({ filePath: input.filePath, status: 'planning' });
      const plan = await planFile(input, (t) => deps.db.describeTable(t));
      heartbeat();
      const st = await fs.promises.stat(input.filePath);
      if (st.size !== plan.fileSize) {
        throw ApplicationFailure.nonRetryable(`${path.basename(input.filePath)} changed while it was being planned; finish writing it elsewhere and move it in whole`, 'UnstableFile');
      }
      plan.fileMtimeMs = st.mtimeMs;
      // A full hash costs a pass over the file: pay it up front only when a duplicate is possible (a loaded
      // file of the same size in this table) or the file is small; otherwise the loader hashes as it reads.
      const sameSize = plan.fileSize > HASH_UPFRONT_BYTES
        ? (await deps.db.listTracking({ table: plan.table.name, status: 'loaded', limit: 1000 })).some((r) => r.fileSize === plan.fileSize)
        : true;
      heartbeat();
      if (sameSize) {
        // Heartbeats are throttled by the SDK, so one per chunk read costs nothing.
        plan.fileHash = await sha256File(input.filePath, heartbeat);
        heartbeat();
        plan.duplicateOf = (await deps.db.findLoadedByHash(plan.table, plan.fileHash, plan.loadType))?.loadId ?? null;
      }
      const { table } = plan;
      await deps.db.upsertTracking({
        filePath: input.filePath,
        fileHash: plan.fileHash,
        fileSize: plan.fileSize,
        tableName: table.name,
        detectedDelimiter: plan.delimiter,
        detectedHeaders: plan.headers,
      });
      deps.log.info({ event: 'file.planned', filePath: input.filePath, table: `${table.schema}.${table.name}`, delimiter: plan.delimiter, columns: plan.columns.length }, 'file planned');
      return plan;
    },
  };
}
