// Turns the file's records into checkpointed staging batches. A record whose row hash equals the active stored
// row is staged by key only (nothing to validate or write); the rest are validated in full. One batch is written
// while the next is read, so parsing (here) and COPY (in the database) overlap.
import type { StagingCheckpoint } from '../db/instruments';
import type { SourceRecord } from './read-records';
import { categoryOf, instrumentKeyOf, textOf, validateRecord } from './record';
import { canonicalRecord, type CanonicalRecord } from './row-hash';
import type { InvalidInstrument, StagedRow, StoredVersion } from './types';

export interface StagingPort {
  /** Stored row hash and activity of these keys (absent keys are new). */
  storedVersions(keys: string[]): Promise<Map<string, StoredVersion>>;
  writeBatch(rows: StagedRow[], invalid: InvalidInstrument[], expected: StagingCheckpoint, next: StagingCheckpoint): Promise<void>;
}

interface Candidate {
  rowNumber: number;
  raw: Record<string, unknown>;
  key: string;
  canon: CanonicalRecord;
}

interface Batch {
  candidates: Candidate[];
  rows: StagedRow[];
  invalid: InvalidInstrument[];
  lastRow: number;
}

/** Sorts one record into the batch: decided now (invalid), or a candidate that needs the stored version first. */
function addRecord(batch: Batch, rec: SourceRecord): void {
  batch.lastRow = rec.rowNumber;
  if ('unparsable' in rec) {
    batch.invalid.push({ rowNumber: rec.rowNumber, instrumentKey: null, rawText: rec.rawText, errors: [rec.unparsable] });
    return;
  }
  const raw = rec.raw;
  const key = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? instrumentKeyOf(raw as Record<string, unknown>) : null;
  const canon = key !== null ? canonicalRecord(raw as Record<string, unknown>) : null;
  if (key !== null && canon !== null && !('problem' in canon)) {
    batch.candidates.push({ rowNumber: rec.rowNumber, raw: raw as Record<string, unknown>, key, canon });
    return;
  }
  classify(batch, validateRecord(raw, rec.rowNumber, canon ?? undefined), rec.rowNumber);
}

function classify(batch: Batch, result: ReturnType<typeof validateRecord>, rowNumber: number): void {
  if (result.ok) {
    batch.rows.push({ kind: 'full', rowNumber, instrument: result.instrument });
    return;
  }
  batch.invalid.push(result.invalid);
  if (result.invalid.instrumentKey) batch.rows.push({ kind: 'invalid', rowNumber, instrumentKey: result.invalid.instrumentKey });
}

/** Candidates equal to their active stored row become key-only rows; the others are validated. */
function resolve(batch: Batch, stored: Map<string, StoredVersion>): void {
  for (const c of batch.candidates) {
    const v = stored.get(c.key);
    if (v && v.isActive && v.rowHash === c.canon.hash) {
      // Equal content was valid when stored (validation rules apply to the same fields the hash covers), and its
      // segment and type are the stored ones: the apply counts it per segment and type without a join.
      const segment = textOf(c.raw.segment);
      const instrumentType = textOf(c.raw.instrument_type);
      batch.rows.push({ kind: 'unchanged', rowNumber: c.rowNumber, instrumentKey: c.key, rowHash: c.canon.hash, category: categoryOf(segment, instrumentType), segment, instrumentType });
    } else {
      classify(batch, validateRecord(c.raw, c.rowNumber, c.canon), c.rowNumber);
    }
  }
  batch.candidates = [];
}

export interface StageOptions {
  from: StagingCheckpoint;
  batchSize: number;
  port: StagingPort;
  /** After each committed batch (heartbeat, progress, cancellation check). */
  onCommitted(checkpoint: StagingCheckpoint): Promise<void> | void;
}

/** Stages every record after `from` (records arrive a chunk at a time); returns the final committed checkpoint. */
export async function stageRecords(records: AsyncIterable<readonly SourceRecord[]>, opts: StageOptions): Promise<StagingCheckpoint> {
  let committed = opts.from;
  let planned = opts.from;
  let writing: Promise<void> | null = null;
  const empty = (): Batch => ({ candidates: [], rows: [], invalid: [], lastRow: planned.recordsRead });
  let batch = empty();

  const flush = async () => {
    const current = batch;
    batch = empty();
    // Look the stored versions up while the previous batch is still being written.
    const lookup = current.candidates.length > 0 ? opts.port.storedVersions(current.candidates.map((c) => c.key)) : Promise.resolve(new Map<string, StoredVersion>());
    // If the write before it fails first, this lookup is never awaited: keep its rejection from crashing the worker.
    lookup.catch(() => undefined);
    if (writing) await writing;
    resolve(current, await lookup);
    const expected = planned;
    const next: StagingCheckpoint = {
      recordsRead: current.lastRow,
      stagedRows: expected.stagedRows + current.rows.length,
      invalid: expected.invalid + current.invalid.length,
      batches: expected.batches + 1,
    };
    planned = next;
    writing = opts.port.writeBatch(current.rows, current.invalid, expected, next).then(async () => {
      committed = next;
      await opts.onCommitted(next);
    });
    // An unobserved failure would surface as an unhandled rejection; it is awaited (and thrown) at the next flush.
    writing.catch(() => undefined);
  };

  for await (const chunk of records) {
    for (const rec of chunk) {
      if (rec.rowNumber <= opts.from.recordsRead) continue;
      addRecord(batch, rec);
      if (batch.lastRow - planned.recordsRead >= opts.batchSize) await flush();
    }
  }
  if (batch.lastRow > planned.recordsRead || planned.batches === 0) await flush();
  if (writing) await writing;
  return committed;
}
