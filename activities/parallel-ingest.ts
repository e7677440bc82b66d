// Loading one UTF-8 file over several COPY streams at once: contiguous byte ranges cut at record boundaries, each
// read, copied and checkpointed on its own, so the server parses the file on as many cores as there are streams.
//
// A cut is taken at the first line break after an evenly spaced offset, which is a record boundary unless a quoted
// field spans lines there. The stream of the range before it checks that when it gets there (its scanner must end the
// range at a record's end): a range is complete in the database only after that check, so a finished load's cuts are
// all true boundaries. A wrong cut, or anything the fast path cannot load (a refused value, quotes inside unquoted
// fields), gives the parallel attempt up: the caller empties the load and reads the file in one stream, which finds
// the exact row and column as before.
import fs from 'node:fs/promises';
import { BatchedRecords, RecordTooLong, SplitMisaligned, StrayQuote, UnterminatedQuote } from '../src/batched-records';
import { ByteRecordBoundaryScanner } from '../src/csv/record-boundaries';
import type { CsvBatchFormat, Database, LoadPart } from '../src/db/types';
import { DataError } from '../src/db/types';
import type { LoadPlan } from './plan';

/** How far into a range the line break after a cut offset is looked for; a longer record leaves the file unsplit. */
const CUT_SEARCH_BYTES = 1024 * 1024;
/** Bytes read from the file's start to find where its data rows begin (after preamble and header). */
const LEADING_SEARCH_BYTES = 1024 * 1024;

export type ParallelPlan = Pick<LoadPlan, 'encoding' | 'quote' | 'delimiter' | 'newline' | 'preambleLines' | 'hasHeader' | 'fileSize'>;

/** Whether a file can be cut into byte ranges: UTF-8 only (other encodings are decoded as one stream). */
export function isSplittable(plan: Pick<LoadPlan, 'encoding'>): boolean {
  return plan.encoding === 'utf-8' || plan.encoding === 'utf-8-bom';
}

/** The byte ranges for `streams` parts of a file of `size` bytes whose data rows start at `dataStart` (pure). */
export function cutOffsets(dataStart: number, size: number, streams: number): number[] {
  const out: number[] = [];
  for (let k = 1; k < streams; k++) out.push(dataStart + Math.floor((k * (size - dataStart)) / streams));
  return out;
}

async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/**
 * The file's ranges for `streams` streams (each at least `minPartBytes`), or null when it is not worth splitting or
 * no line break is found near a cut.
 */
export async function cutRanges(filePath: string, plan: ParallelPlan, streams: number, minPartBytes: number): Promise<Array<{ start: number; end: number }> | null> {
  const size = plan.fileSize;
  const n = Math.min(streams, Math.floor(size / Math.max(minPartBytes, 1)));
  if (n < 2 || !isSplittable(plan)) return null;
  const handle = await fs.open(filePath, 'r');
  try {
    const leading = new ByteRecordBoundaryScanner(plan.quote, plan.delimiter, plan.newline, plan.preambleLines + (plan.hasHeader ? 1 : 0));
    const head = leading.push(await readAt(handle, 0, Math.min(size, LEADING_SEARCH_BYTES)));
    if (leading.recordsToSkip > 0) return null;
    const terminator = plan.newline === '\r' ? 0x0d : 0x0a;
    const cuts: number[] = [];
    for (const at of cutOffsets(head.skipped.length, size, n)) {
      const window = await readAt(handle, at, Math.min(CUT_SEARCH_BYTES, size - at));
      const i = window.indexOf(terminator);
      if (i < 0) return null;
      const cut = at + i + 1;
      if (cut >= size || cut <= (cuts.at(-1) ?? head.skipped.length)) return null;
      cuts.push(cut);
    }
    const bounds = [0, ...cuts, size];
    return cuts.length === 0 ? null : bounds.slice(1).map((end, i) => ({ start: bounds[i]!, end }));
  } finally {
    await handle.close();
  }
}

/** Errors that end the parallel attempt in favour of one stream (rather than a retry of the same thing). */
export function isParallelGiveUp(err: unknown): boolean {
  return err instanceof SplitMisaligned || err instanceof StrayQuote || err instanceof DataError || err instanceof RecordTooLong || err instanceof UnterminatedQuote;
}

export interface LoadPartsInput {
  db: Pick<Database, 'copyCsvPart'>;
  loadId: string;
  filePath: string;
  plan: ParallelPlan;
  parts: LoadPart[];
  columns: string[];
  format: CsvBatchFormat;
  batchRows: number;
  maxRecordChars: number;
  /** After each committed batch (heartbeat, cancellation, progress); a throw stops every stream. */
  onBatch: (rows: number, bytes: number) => Promise<void>;
}

/**
 * Loads every incomplete part, one stream each, from its committed offset. Resolves when all are complete; otherwise
 * rejects, once every stream has stopped (each after its batch in flight), with a give-up error if any stream hit one
 * (see isParallelGiveUp), else with the first error.
 */
export async function loadParts(input: LoadPartsInput): Promise<void> {
  const { plan, db } = input;
  const skip = plan.preambleLines + (plan.hasHeader ? 1 : 0);
  const last = input.parts.at(-1)?.part;
  let stopped = false;
  const runPart = async (p: LoadPart): Promise<void> => {
    let offset = p.byteOffset;
    if (offset >= p.end) return;
    const records = new BatchedRecords(input.filePath, {
      encoding: plan.encoding, quote: plan.quote, delimiter: plan.delimiter, newline: plan.newline, start: offset, skip,
      maxRecordChars: input.maxRecordChars, end: p.end, endIsBoundary: p.part !== last,
    });
    do {
      if (stopped) return;
      const batch = records.batch(input.batchRows, { stopAtStrayQuote: true });
      const size = () => ({ rows: batch.stats.rows - batch.stats.blank, bytes: batch.stats.bytes });
      await db.copyCsvPart!(input.loadId, p.part, input.columns, batch.chunks, input.format, offset, size);
      offset += batch.stats.bytes;
      await input.onBatch(size().rows, batch.stats.bytes);
    } while (!records.eof);
    // The last part ends at the planned size: bytes it did not reach mean the file is shorter than planned.
    if (offset !== p.end) throw new SplitMisaligned(`part ${p.part} ended at byte ${offset}, not ${p.end}: the file is shorter than planned`);
  };
  const results = await Promise.allSettled(input.parts.map((p) => runPart(p).catch((err: unknown) => {
    stopped = true;
    throw err;
  })));
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length > 0) throw errors.find(isParallelGiveUp) ?? errors[0];
}
