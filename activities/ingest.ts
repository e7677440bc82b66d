// Streaming, checkpointed ingest of a planned file; finishing (swap-in) and undoing a load.
//
// Hot path: whole records cut from the decoded text go to the database's own CSV reader (COPY) unparsed.
// A batch COPY rejects (a bad value, a ragged row) is parsed and converted here instead, which finds the
// exact row and column and applies the invalid-row policy. Each batch commits with its checkpoint, so a
// retried activity resumes from the last committed byte.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import Papa from 'papaparse';
import { Context, ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import type { Checkpoint, Database, InvalidRecordInput, LoadRecord } from '../src/db/types';
import { DataError, StagingLost } from '../src/db/types';
import { failureForDbError } from '../src/db/transient';
import type { Logger } from '../src/log/logger';
import { audit } from '../src/log/audit';
import { recordLoadFinished } from '../src/metrics/registry';
import { convertValue, CsvFormatError, isBlankRecord, type ConvertOptions } from '../src/csv';
import { BatchedRecords, readTextRange, RecordTooLong, rowOfFirstNonUtf8, StrayQuote, UnterminatedQuote } from '../src/batched-records';
import { SAMPLE_BYTES, sha256File, type LoadPlan } from './plan';
import { NotUtf8, singleByteEncodingAfter } from '../src/record-stream';
import type { IngestProgress } from '../workflows/file-lifecycle';

import type { InvalidRowPolicy } from '../src/invalid-row-policy';
import { cutRanges, isParallelGiveUp, isSplittable, loadParts } from './parallel-ingest';

export interface IngestActivityDeps {
  db: Database;
  log: Logger;
  batchRows: number;
  /** The longest record accepted, in characters; a longer one fails the file (a runaway quote or a giant field). */
  maxRecordChars?: number;
  policyFor?: (plan: LoadPlan) => InvalidRowPolicy;
  /** Tells the workflow how far the load is (a signal in production); optional in tests. */
  notifyProgress?: (workflowId: string, progress: IngestProgress) => Promise<void>;
  /**
   * Least time between two progress signals. Each signal costs a workflow task on the server and the worker,
   * which a fast load would otherwise pay once per batch while competing with its own COPY for the CPU.
   */
  progressIntervalMs?: number;
  /** COPY streams a UTF-8 file is loaded over at once (1: one stream); the database must offer parallel loading. */
  loadStreams?: number;
  /** The smallest byte range worth a stream of its own. */
  minPartBytes?: number;
}

const DEFAULT_MIN_PART_BYTES = 16 * 1024 * 1024;

const DEFAULT_MAX_RECORD_CHARS = 8 * 1024 * 1024;
/** Batches cut short by quotes inside unquoted fields before the rest of the file is loaded row by row. */
const STRAY_QUOTE_BATCHES_BEFORE_ROW_BY_ROW = 5;

function invalid(message: string, details: { row?: number; line?: number; column?: string; code?: string }): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'InvalidFile', details);
}

/**
 * COPY's "invalid byte sequence" (22021) on a batch of a file planned as UTF-8 (or decoded to it): a NUL byte
 * (binary data) or bytes that are not UTF-8. `line` is the record within the batch.
 */
function invalidBytes(err: DataError, rowsBefore: number): Error {
  const row = err.line ? rowsBefore + err.line : undefined;
  if (/0x00(\s|$)/.test(err.message)) {
    const where = row ? `row ${row}` : `a row after row ${rowsBefore}`;
    return invalid(`${where} holds a NUL byte: the file contains binary data, not only CSV text. Export it as CSV text again and drop it again`, { row: row ?? rowsBefore + 1, code: 'BINARY_CONTENT' });
  }
  return new NotUtf8(err.message, row);
}

/**
 * A file planned as UTF-8 with bytes further on that are not. With a byte-order mark the file promised UTF-8, so it is
 * refused as such; without one, and not single-byte throughout, it mixes encodings.
 */
function notUtf8Failure(err: NotUtf8, rowsBefore: number, encoding: string): ApplicationFailure {
  const where = err.row ? `row ${err.row}` : `a row after row ${rowsBefore}`;
  if (encoding === 'utf-8-bom') {
    return invalid(
      `the file starts with a UTF-8 byte-order mark, but ${where} has bytes that are not UTF-8 (${err.message}). The mark promises UTF-8, so the file is not read in a guessed encoding. Save it again as UTF-8 (in Excel: CSV UTF-8), or in one single-byte encoding without the mark`,
      { row: err.row ?? rowsBefore + 1, code: 'BOM_MISMATCH' },
    );
  }
  return invalid(
    `the file was read as UTF-8 (from its first ${SAMPLE_BYTES / 1024 / 1024} MiB), but ${where} has bytes that are not UTF-8 (${err.message}): it mixes encodings. Save it again in one encoding, preferably UTF-8`,
    { row: err.row ?? rowsBefore + 1, code: 'MIXED_ENCODING' },
  );
}

/** A NUL character is binary data; no database text type can hold it. */
function refuseNul(record: string[], plan: LoadPlan, row: number, line: number): void {
  const i = record.findIndex((v) => v.includes('\u0000'));
  if (i < 0) return;
  const column = plan.columns[i]?.name ?? `column_${i + 1}`;
  throw invalid(`row ${row} (line ${line}), column ${plan.headers[i] ?? column}: holds a NUL byte, which is binary data, not CSV text`, { row, line, column, code: 'BINARY_CONTENT' });
}

/** Converts one parsed record to database text values, or explains exactly what is wrong with it. */
export function toValues(record: string[], plan: LoadPlan, row: number, line: number, convert: ConvertOptions = {}): (string | null)[] {
  const cols = plan.columns;
  if (plan.trailingDelimiter && record.length === cols.length + 1 && record[cols.length] === '') record.pop();
  if (record.length !== cols.length) {
    throw invalid(`row ${row} (line ${line}) has ${record.length} fields, expected ${cols.length}`, { row, line, code: 'RAGGED_ROWS' });
  }
  const out: (string | null)[] = new Array(cols.length);
  for (let i = 0; i < cols.length; i++) {
    try {
      out[i] = convertValue(record[i], cols[i].type, convert);
    } catch (err) {
      if (err instanceof CsvFormatError) {
        throw invalid(`row ${row} (line ${line}), column ${plan.headers[i] ?? cols[i].name}: ${err.message}`, { row, line, column: cols[i].name, code: err.code });
      }
      throw err;
    }
  }
  return out;
}


/** The file's data rows a checkpoint is past: loaded or quarantined. */
function rowsRead(c: Checkpoint): number {
  return c.rowsCommitted + (c.rowsQuarantined ?? 0);
}

export function createIngestActivities(deps: IngestActivityDeps) {
  const maxRecordChars = deps.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  const policyFor = deps.policyFor ?? (() => ({ mode: 'reject-file' }) as InvalidRowPolicy);
  // PostgreSQL creates decimals unbounded (src/db/postgres/sql.ts); SQL Server's decimal(p,s) has bounds to respect.
  const convert: ConvertOptions = { decimalBounds: deps.db.kind === 'mssql' };

  /** The slow path for one batch: parse, convert, apply the policy; returns the checkpoint after it. */
  async function loadParsed(
    load: LoadRecord, plan: LoadPlan, text: string, skip: number, committed: Checkpoint, byteOffset: number, policy: InvalidRowPolicy,
  ): Promise<Checkpoint> {
    const parsed = Papa.parse<string[]>(text, { delimiter: plan.delimiter, quoteChar: plan.quote, escapeChar: plan.quote, newline: plan.newline, skipEmptyLines: true });
    // Lines of only spaces are blank to the planner too (isBlankRecord), not one-field rows.
    const records = parsed.data.slice(skip).filter((record) => !isBlankRecord(record));
    const leading = plan.preambleLines + (plan.hasHeader ? 1 : 0);
    const hasNul = text.includes('\u0000');
    const good: (string | null)[][] = [];
    const bad: InvalidRecordInput[] = [];
    records.forEach((record, i) => {
      const row = rowsRead(committed) + i + 1;
      try {
        if (hasNul) refuseNul(record, plan, row, row + leading);
        good.push(toValues(record, plan, row, row + leading, convert));
      } catch (err) {
        if (policy.mode === 'reject-file' || !(err instanceof ApplicationFailure)) throw err;
        const rawText = Papa.unparse([record], { delimiter: plan.delimiter }).replace(/\u0000/g, '\\0');
        bad.push({ source: 'file', sourceRef: load.loadId, recordId: load.filePath, rowNumber: row, rawText, errors: [err.message] });
      }
    });
    const next: Checkpoint = { rowsCommitted: committed.rowsCommitted + good.length, rowsQuarantined: (committed.rowsQuarantined ?? 0) + bad.length, byteOffset };
    await deps.db.writeBatch(load.loadId, plan.columns.map((c) => c.name), good, committed, next, bad);
    return next;
  }

  const activities = {
    /** Loads every data row of the file; resumes after the last committed batch when retried. */
    async ingestFile(input: { loadId: string; filePath: string; plan: LoadPlan; workflowId: string }): Promise<{ rows: number; batches: number; quarantined: number; fileHash: string }> {
      const { plan, loadId } = input;
      const ctx = Context.current();
      // A table the file cannot make (too many columns, say) fails the file; a lost connection is retried.
      const load = await deps.db.beginLoad({ loadId, target: plan.table, mode: plan.loadType, columns: plan.columns, filePath: input.filePath, fileHash: plan.fileHash })
        .catch((err: unknown) => { throw failureForDbError(err); });
      if (load.status === 'loaded') return { rows: load.rowsCommitted, batches: load.batches, quarantined: load.rowsQuarantined, fileHash: load.fileHash ?? (await sha256File(input.filePath)) };
      await deps.db.upsertTracking({ filePath: input.filePath, status: 'loading' });
      const log = deps.log.child({ loadId, filePath: input.filePath });
      if (load.restarted) {
        audit(log, 'load.restarted', { reason: load.restarted.message, lostRows: load.restarted.expectedRows }, 'warn');
      }
      const policy = policyFor(plan);
      const columnNames = plan.columns.map((c) => c.name);
      const fastPath = Boolean(deps.db.copyCsvBatch) && plan.copyCompatible && !plan.trailingDelimiter;
      let committed: Checkpoint = { rowsCommitted: load.rowsCommitted, rowsQuarantined: load.rowsQuarantined, byteOffset: load.byteOffset };
      let batches = load.batches;
      if (committed.byteOffset > 0) log.info({ resumeFrom: committed }, 'resuming load after the last committed batch');
      audit(log, committed.byteOffset > 0 ? 'load.resumed' : 'load.started', { table: `${plan.table.schema}.${plan.table.name}`, mode: plan.loadType, rowsCommitted: committed.rowsCommitted });

      const started = Date.now();
      const startRows = rowsRead(committed);
      const resuming = committed.byteOffset > 0;
      // Hashing as we read saves a second pass over the file; a resumed load hashes the file again at the end.
      let hash = resuming ? null : crypto.createHash('sha256');
      // The plan's, unless a file planned as UTF-8 from an all-ASCII first MiB turns out to be Windows-1252 / Latin-1.
      let encoding = plan.encoding;

      let strayQuoteBatches = 0;
      const openRecords = (start: number): BatchedRecords => {
        const sha = hash;
        return new BatchedRecords(input.filePath, {
          encoding, quote: plan.quote, delimiter: plan.delimiter, newline: plan.newline, start,
          skip: plan.preambleLines + (plan.hasHeader ? 1 : 0), maxRecordChars, onBytes: sha ? (raw) => sha.update(raw) : undefined,
        });
      };
      let records = openRecords(committed.byteOffset);
      const format = { delimiter: plan.delimiter, quote: plan.quote };

      /**
       * One batch: streamed straight into COPY; on a refusal, re-read from disk and loaded row by row. So are records
       * with a quote inside an unquoted field (`12" ruler`), which COPY would read as the start of a quoted section.
       */
      const loadBatch = async (): Promise<void> => {
        const useCopy = fastPath && strayQuoteBatches < STRAY_QUOTE_BATCHES_BEFORE_ROW_BY_ROW;
        const batch = records.batch(deps.batchRows, { stopAtStrayQuote: useCopy });
        const nextOf = (): Checkpoint => ({ ...committed, rowsCommitted: committed.rowsCommitted + batch.stats.rows - batch.stats.blank, byteOffset: committed.byteOffset + batch.stats.bytes });
        let next: Checkpoint | null = null;
        if (useCopy) {
          try {
            await deps.db.copyCsvBatch!(loadId, columnNames, batch.chunks, format, committed, nextOf);
            next = nextOf();
          } catch (err) {
            if (err instanceof StrayQuote) {
              strayQuoteBatches++;
              log.debug({ err: err.message }, 'quotes inside unquoted fields; loading the batch row by row');
            } else if (err instanceof DataError) {
              if (err.code === '22021') throw invalidBytes(err, rowsRead(committed));
              log.debug({ err: err.message }, 'COPY refused the batch; loading it row by row');
            } else throw err;
          }
        }
        if (!next) {
          await batch.drain();
          const end = nextOf();
          const skip = committed.byteOffset === 0 ? plan.preambleLines + (plan.hasHeader ? 1 : 0) : 0;
          const text = await readTextRange(input.filePath, encoding, committed.byteOffset, end.byteOffset).catch(async (err: unknown) => {
            if (!(err instanceof NotUtf8) || err.row !== undefined) throw err;
            // Name the row that holds the bytes, as COPY does on the fast path.
            const range = { start: committed.byteOffset, end: end.byteOffset, rowsBefore: rowsRead(committed) };
            const d = { encoding, quote: plan.quote, delimiter: plan.delimiter, newline: plan.newline, skip: plan.preambleLines + (plan.hasHeader ? 1 : 0) };
            throw new NotUtf8(err.message, await rowOfFirstNonUtf8(input.filePath, d, range));
          });
          next = await loadParsed(load, plan, text, skip, committed, end.byteOffset, policy);
        }
        committed = next;
        batches++;
      };

      let lastSignalAt = 0;
      const tooManyInvalid = (atLeast: number): void => {
        const read = rowsRead(committed);
        const bad = committed.rowsQuarantined ?? 0;
        if (policy.mode === 'quarantine' && read >= atLeast && bad / read > policy.maxErrorRatio) {
          throw invalid(`${bad} of ${read} rows are invalid, more than the allowed ${policy.maxErrorRatio * 100}%`, { code: 'TOO_MANY_INVALID_ROWS' });
        }
      };
      const report = async (): Promise<void> => {
        tooManyInvalid(1000);
        const elapsed = Math.max((Date.now() - started) / 1000, 0.001);
        const progress = { rows: committed.rowsCommitted, bytes: committed.byteOffset, batches, rowsPerSecond: Math.round((rowsRead(committed) - startRows) / elapsed) };
        ctx.heartbeat(progress);
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('load cancelled');
        const now = Date.now();
        if (now - lastSignalAt < (deps.progressIntervalMs ?? 500)) return;
        lastSignalAt = now;
        void deps.notifyProgress?.(input.workflowId, progress).catch((err: Error) => log.debug({ err: err.message }, 'progress signal not delivered'));
      };

      /** After non-UTF-8 bytes (the failed batch was not committed): whether to go on in a single-byte encoding. */
      const switchedToSingleByte = async (err: unknown): Promise<boolean> => {
        if (!(err instanceof NotUtf8) || encoding !== 'utf-8') return false;
        const single = await singleByteEncodingAfter(input.filePath, committed.byteOffset);
        if (!single) return false;
        log.info({ encoding: single, fromByte: committed.byteOffset }, 'the file planned as UTF-8 is single-byte encoded further on; reading the rest as such');
        encoding = single;
        hash = null;
        records = openRecords(committed.byteOffset);
        return true;
      };

      /**
       * Over parallel streams when the file allows it (see parallel-ingest.ts); false when it was not tried or was
       * given up, the load then set back to its first byte for one stream.
       */
      const loadedInParts = async (): Promise<boolean> => {
        const streams = deps.loadStreams ?? 1;
        if (!fastPath || !deps.db.beginParts || !isSplittable(plan)) return false;
        const ranges = streams >= 2 && committed.byteOffset === 0 ? await cutRanges(input.filePath, plan, streams, deps.minPartBytes ?? DEFAULT_MIN_PART_BYTES) : null;
        // Asked even with one stream configured: a load begun in parts (before a restart with fewer streams) must go
        // on in parts, since its load-wide byte count is then no position in the file.
        const parts = await deps.db.beginParts(loadId, ranges ?? []);
        if (parts.length === 0) return false;
        // The parts are read out of order, so the hash is taken by a reader of its own, alongside.
        const hashing = sha256File(input.filePath);
        hashing.catch(() => undefined);
        hash = null;
        try {
          await loadParts({
            db: deps.db, loadId, filePath: input.filePath, plan, parts, columns: columnNames, format, batchRows: deps.batchRows, maxRecordChars,
            onBatch: async (rows, bytes) => {
              committed = { ...committed, rowsCommitted: committed.rowsCommitted + rows, byteOffset: committed.byteOffset + bytes };
              batches++;
              await report();
            },
          });
        } catch (err) {
          if (!isParallelGiveUp(err)) throw err;
          log.info({ err: (err as Error).message, streams: parts.length }, 'the parallel load was given up; loading the file in one stream');
          await deps.db.restartLoad!(loadId);
          committed = { rowsCommitted: 0, rowsQuarantined: 0, byteOffset: 0 };
          batches = 0;
          hash = crypto.createHash('sha256');
          records = openRecords(0);
          return false;
        }
        // The totals as committed (another attempt may have committed some of the batches).
        const done = await deps.db.getLoad(loadId);
        if (done) committed = { rowsCommitted: done.rowsCommitted, rowsQuarantined: done.rowsQuarantined, byteOffset: done.byteOffset };
        streamedHash = await hashing;
        log.debug({ streams: parts.length }, 'loaded over parallel streams');
        return true;
      };

      let streamedHash: string | null = null;
      try {
        if (!(await loadedInParts())) {
          do {
            try {
              await loadBatch();
            } catch (err) {
              if (await switchedToSingleByte(err)) continue;
              throw err;
            }
            await report();
          } while (!records.eof);
        }
      } catch (err) {
        if (err instanceof RecordTooLong) throw invalid(`after row ${rowsRead(committed)}: ${err.message}`, { row: rowsRead(committed) + 1, code: 'FIELD_TOO_LARGE' });
        if (err instanceof UnterminatedQuote) throw invalid(err.message, { code: 'UNTERMINATED_QUOTE' });
        if (err instanceof NotUtf8) throw notUtf8Failure(err, rowsRead(committed), encoding);
        // Data the database refuses even row by row is the file's fault; deadlocks and lost connections are retried.
        throw failureForDbError(err);
      }
      tooManyInvalid(1);
      const fileHash = streamedHash ?? (hash ? hash.digest('hex') : await sha256File(input.filePath));
      const quarantined = committed.rowsQuarantined ?? 0;
      audit(log, 'load.ingested', { rows: committed.rowsCommitted, batches, quarantined, fastPath });
      // rows: written into the table; quarantined: set aside in ref.invalid_records (from every attempt of this load).
      return { rows: committed.rowsCommitted, batches, quarantined, fileHash };
    },

    /**
     * Makes the load visible (swap or append), unless the file changed since it was planned (refused) or its content,
     * hashed while it was read, is already in effect in the table: then `duplicateOf` names that load and nothing is
     * made visible. The database decides that inside the finishing transaction, under a per-table lock, so two
     * identical files finishing together cannot both be made visible. A retry after the commit finds the load
     * finished. With `bookkeeping: false` the ledger and reference config are left to recordFinished, which the
     * workflow retries on its own: a failure there must not make a committed finish look failed.
     */
    async finishLoad(input: {
      loadId: string; plan: LoadPlan; filePath: string; fileHash?: string; bookkeeping?: boolean; ingested?: { rows: number; quarantined: number };
    }): Promise<{ duplicateOf: string | null }> {
      await deps.db.upsertTracking({ filePath: input.filePath, status: 'finishing' });
      const before = await deps.db.getLoad(input.loadId);
      if (before?.status !== 'loaded') await assertUnchangedSincePlan(input.filePath, input.plan, input.fileHash);
      /** Loads what a database crash took back (the resumed ingest checks its stage against its checkpoint). */
      const loadAgain = async (why: Record<string, unknown>, message: string): Promise<void> => {
        deps.log.warn({ loadId: input.loadId, filePath: input.filePath, ...why }, message);
        const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
        await activities.ingestFile({ loadId: input.loadId, filePath: input.filePath, plan: input.plan, workflowId });
      };
      const { ingested } = input;
      if (before?.status === 'loading' && ingested && (before.rowsCommitted !== ingested.rows || before.rowsQuarantined !== ingested.quarantined)) {
        // A database crash after the ingest took back its last batches with their checkpoint (they commit without
        // waiting for the WAL flush): finishing now would make a short table `loaded`. Load the rest again first.
        await loadAgain({ checkpoint: before.rowsCommitted, ingested: ingested.rows }, 'checkpoint behind the ingest after a database crash; loading the rest again');
      }
      const load = await deps.db.finishLoad(input.loadId, input.fileHash).catch(async (err: unknown) => {
        if (!(err instanceof StagingLost)) throw err;
        // The database crashed after the last batch and took the staged rows with it: load the file again (the
        // ingest sees the same loss, starts from the first byte and heartbeats as usual), then finish.
        await loadAgain({ err: err.message }, 'staged rows lost before finishing; loading the file again');
        return deps.db.finishLoad(input.loadId, input.fileHash);
      });
      if (load.duplicateOf) {
        audit(deps.log, 'load.duplicate', { loadId: input.loadId, filePath: input.filePath, duplicateOf: load.duplicateOf });
        return { duplicateOf: load.duplicateOf };
      }
      if (input.bookkeeping !== false) await activities.recordFinished({ loadId: input.loadId, plan: input.plan, filePath: input.filePath, fileHash: input.fileHash });
      const table = `${load.target.schema}.${load.target.name}`;
      audit(deps.log, 'load.finished', {
        loadId: input.loadId, filePath: input.filePath, table, mode: load.mode, rows: load.rowsCommitted, quarantined: load.rowsQuarantined,
        backup: load.backup ? `${load.backup.schema}.${load.backup.name}` : null,
      });
      recordLoadFinished({ table, mode: load.mode, rows: load.rowsCommitted, quarantined: load.rowsQuarantined, seconds: ((load.finishedAt ?? new Date()).getTime() - load.startedAt.getTime()) / 1000 });
      return { duplicateOf: null };
    },

    /** The bookkeeping of a finished load: the ledger's hash and the reference config. Idempotent, so retried freely. */
    async recordFinished(input: { loadId: string; plan: LoadPlan; filePath: string; fileHash?: string }): Promise<void> {
      if (input.fileHash) await deps.db.upsertTracking({ filePath: input.filePath, fileHash: input.fileHash });
      if (input.plan.referenceData) {
        await deps.db.upsertReferenceConfig({ table: input.plan.table, sourceFile: input.filePath, loadType: input.plan.loadType });
        await deps.db.upsertTracking({ filePath: input.filePath, referenceConfigInserted: true });
      }
    },

    /**
     * Undoes a load that has not been made visible. One that had (a finish that committed, then failed to answer
     * through every retry) stays as it is, and the answer says so with its rows: the run must then end loaded, not
     * claim `error` with 0 rows over a table that holds them. Read after the abort, under its lock, so no finish can
     * commit between the two.
     */
    async abortLoad(input: { loadId: string | null }): Promise<{ committed: boolean; rows: number; quarantined: number } | undefined> {
      if (!input.loadId) return undefined;
      await deps.db.abortLoad(input.loadId);
      const load = await deps.db.getLoad(input.loadId);
      if (load?.status === 'loaded') {
        deps.log.warn({ loadId: input.loadId, rows: load.rowsCommitted }, 'a failed run\'s load had committed: it stays, and the run ends loaded');
        return { committed: true, rows: load.rowsCommitted, quarantined: load.rowsQuarantined };
      }
      audit(deps.log, 'load.aborted', { loadId: input.loadId });
      return { committed: false, rows: 0, quarantined: 0 };
    },
  };
  return activities;
}

/**
 * The file that was read must be the file that was planned: one overwritten or appended to after its stability wait
 * would otherwise be loaded as a mix of two versions. Size and mtime against the plan (a new mtime on the same size
 * hashes the file: the same bytes are the same file); the streamed hash against the hash planning took, if any.
 */
async function assertUnchangedSincePlan(filePath: string, plan: LoadPlan, streamedHash: string | undefined): Promise<void> {
  const st = await fs.lstat(filePath).catch(() => null);
  const changes: string[] = [];
  if (!st) changes.push('it disappeared');
  else {
    if (st.size !== plan.fileSize) changes.push(`its size went from ${plan.fileSize} to ${st.size} bytes`);
    else if (plan.fileMtimeMs !== undefined && st.mtimeMs !== plan.fileMtimeMs) {
      // A new mtime alone is not a new version: the same bytes written again (a re-drop of the same file) still are
      // the content read, so the bytes decide, against what was read while loading (or what planning hashed).
      const read = streamedHash ?? plan.fileHash;
      if (!read || (await sha256File(filePath)) !== read) changes.push('it was modified');
    }
  }
  if (plan.fileHash && streamedHash && plan.fileHash !== streamedHash) changes.push('its content differs from the content planned');
  if (changes.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `${path.basename(filePath)} changed while it was being loaded (${changes.join('; ')}); nothing of it was kept. Finish writing it elsewhere and move it in whole`,
      'UnstableFile',
      { code: 'FILE_CHANGED_DURING_LOAD' },
    );
  }
}
