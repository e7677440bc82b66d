// Streams a file's whole records in batches, without holding a batch in memory: each batch is an async stream
// of text chunks ending on record boundaries, with its row and byte counts growing as it is read.
import fs from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { firstNonUtf8Byte } from './csv/encoding';
import { ByteRecordBoundaryScanner, RecordBoundaryScanner, type Scanned } from './csv/record-boundaries';
import { bomBytes, decodeBytes, decodedText, textByteLength } from './record-stream';

/** Read size: small enough that each chunk is a short-lived object the young generation collects cheaply. */
const CHUNK_BYTES = 64 * 1024;

export interface BatchStats {
  rows: number;
  blank: number;
  bytes: number;
}

export interface BatchStream {
  /** Chunks of whole records (UTF-8 bytes, or text); closing this early does not lose records (drain() still counts them). */
  chunks: AsyncIterable<string | Buffer>;
  stats: BatchStats;
  /** Reads the rest of the batch without using it (after the database refused part of it). */
  drain(): Promise<void>;
}

export class RecordTooLong extends Error {}
export class UnterminatedQuote extends Error {}
/** A batch read with `stopAtStrayQuote` reached records with quotes inside unquoted fields; it ends before them. */
export class StrayQuote extends Error {}
/** A range read with `endIsBoundary` ends inside a record (or inside the skipped leading records): not a record boundary. */
export class SplitMisaligned extends Error {}

export interface BatchedRecordsOptions {
  encoding: string;
  quote: string;
  delimiter: string;
  newline: '\r\n' | '\n' | '\r';
  /** Byte offset of a record boundary to start from (0 = the file's start). */
  start: number;
  /** Leading records to skip (preamble and header); only meaningful at start 0. */
  skip: number;
  /** Byte offset to stop at (UTF-8 only; default: the file's end). */
  end?: number;
  /** `end` was taken for a record boundary: reaching it inside a record fails the batch with SplitMisaligned. */
  endIsBoundary?: boolean;
  maxRecordChars: number;
  onBytes?: (raw: Buffer) => void;
}

/** Raw bytes of the file from `start`, in chunks; a UTF-8 BOM at the file's start is left out (the stats count it). */
async function* rawBytes(filePath: string, encoding: string, start: number, onBytes?: (raw: Buffer) => void, end?: number): AsyncGenerator<Buffer> {
  if (end !== undefined && end <= start) return;
  const stream = createReadStream(filePath, { start, end: end === undefined ? undefined : end - 1, highWaterMark: CHUNK_BYTES });
  let bom = start === 0 ? bomBytes(encoding) : 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      onBytes?.(chunk);
      const cut = Math.min(bom, chunk.length);
      bom -= cut;
      if (chunk.length > cut) yield cut ? chunk.subarray(cut) : chunk;
    }
  } finally {
    stream.destroy();
  }
}

/** One step of a source: records found in the next chunk, measured in the file's bytes; null at the end. */
interface Step {
  out: string | Buffer;
  records: number;
  blank: number;
  bytes: number;
  strayQuotes: number;
  unterminatedQuote?: boolean;
}

interface RecordSource {
  next(): Promise<Step | null>;
  finish(): Step;
  pending(): number;
  /** At a record boundary after every skipped leading record. */
  atBoundary(): boolean;
}

/** What recordSource needs of a scanner (text or bytes). */
interface Scanner<T> {
  push(chunk: T): Scanned<T>;
  finish(): Scanned<T> & { unterminatedQuote: boolean };
  readonly pendingLength: number;
  readonly recordsToSkip: number;
}

/** A scanner fed from `chunks`, its results measured in file bytes by `bytesOf`. */
function scannedSource<T extends string | Buffer>(chunks: AsyncIterable<T>, scanner: Scanner<T>, bytesOf: (t: T) => number): RecordSource {
  const it = chunks[Symbol.asyncIterator]();
  const step = (r: Scanned<T>): Step => ({ out: r.text, records: r.records, blank: r.blankRecords, bytes: bytesOf(r.text) + bytesOf(r.skipped), strayQuotes: r.strayQuotes });
  return {
    async next() {
      const n = await it.next();
      return n.done ? null : step(scanner.push(n.value));
    },
    finish() {
      const last = scanner.finish();
      return { ...step(last), unterminatedQuote: last.unterminatedQuote };
    },
    pending: () => scanner.pendingLength,
    atBoundary: () => scanner.pendingLength === 0 && scanner.recordsToSkip === 0,
  };
}

/**
 * UTF-8 files go to the database as the bytes they are (no decoding, no re-encoding, exact byte offsets); other
 * encodings are decoded to text first, which the database driver sends as UTF-8.
 */
function recordSource(filePath: string, o: BatchedRecordsOptions): RecordSource {
  const skip = o.start === 0 ? o.skip : 0;
  if (o.encoding === 'utf-8' || o.encoding === 'utf-8-bom') {
    return scannedSource(rawBytes(filePath, o.encoding, o.start, o.onBytes, o.end), new ByteRecordBoundaryScanner(o.quote, o.delimiter, o.newline, skip), (b) => b.length);
  }
  if (o.end !== undefined) throw new Error('byte ranges are read from UTF-8 files only');
  return scannedSource(decodedText(filePath, o.encoding, o.start, o.onBytes), new RecordBoundaryScanner(o.quote, o.delimiter, o.newline, skip), (t) => textByteLength(t, o.encoding));
}

export class BatchedRecords {
  private readonly source: RecordSource;
  private atStart: boolean;
  eof = false;

  constructor(filePath: string, private readonly o: BatchedRecordsOptions) {
    this.source = recordSource(filePath, o);
    this.atStart = o.start === 0;
  }

  /**
   * The next batch of about `maxRows` records (it ends at the first chunk boundary after that many). With
   * `stopAtStrayQuote`, reaching records that hold a quote inside an unquoted field fails the batch's chunks with
   * StrayQuote (COPY would misread them); the batch then ends after those records, for the caller to load them
   * parsed. drain() never throws it.
   */
  batch(maxRows: number, opts: { stopAtStrayQuote?: boolean } = {}): BatchStream {
    const stats: BatchStats = { rows: 0, blank: 0, bytes: this.atStart ? bomBytes(this.o.encoding) : 0 };
    this.atStart = false;
    const account = (r: Step) => {
      stats.rows += r.records;
      stats.blank += r.blank;
      stats.bytes += r.bytes;
    };
    const gen = (async function* (self: BatchedRecords): AsyncGenerator<string | Buffer> {
      while (stats.rows < maxRows && !self.eof) {
        const r = await self.source.next();
        if (!r) {
          self.eof = true;
          if (self.o.endIsBoundary && !self.source.atBoundary()) throw new SplitMisaligned(`byte ${self.o.end} is not a record boundary`);
          const last = self.source.finish();
          if (last.unterminatedQuote) throw new UnterminatedQuote('a quoted field near the end of the file is never closed');
          account(last);
          if (last.strayQuotes > 0 && opts.stopAtStrayQuote) throw new StrayQuote(`${last.strayQuotes} quote characters inside unquoted fields`);
          if (last.out.length) yield last.out;
          break;
        }
        account(r);
        if (self.source.pending() > self.o.maxRecordChars) {
          throw new RecordTooLong(`a record is longer than ${self.o.maxRecordChars} characters (an unclosed quote or a giant field)`);
        }
        if (r.strayQuotes > 0 && opts.stopAtStrayQuote) throw new StrayQuote(`${r.strayQuotes} quote characters inside unquoted fields`);
        if (r.out.length) yield r.out;
      }
    })(this);
    // Without a return() a consumer that stops early (a refused COPY) cannot end the generator mid-batch.
    const chunks: AsyncIterable<string | Buffer> = { [Symbol.asyncIterator]: () => ({ next: () => gen.next() }) };
    return {
      chunks,
      stats,
      async drain() {
        try {
          while (!(await gen.next()).done);
        } catch (err) {
          if (!(err instanceof StrayQuote)) throw err;
        }
      },
    };
  }
}

/** The bytes [start, end) of the file, without a BOM at its start. */
async function readRange(filePath: string, encoding: string, start: number, end: number): Promise<Buffer> {
  const handle = await fs.open(filePath, 'r');
  try {
    const buf = Buffer.alloc(end - start);
    const { bytesRead } = await handle.read(buf, 0, buf.length, start);
    return buf.subarray(start === 0 ? bomBytes(encoding) : 0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The decoded text of bytes [start, end) of the file (a batch, re-read for row-by-row handling). */
export async function readTextRange(filePath: string, encoding: string, start: number, end: number): Promise<string> {
  return decodeBytes(await readRange(filePath, encoding, start, end), encoding);
}

/**
 * The data row (1-based, counting on from `rowsBefore`) of the first byte in [start, end) that is not UTF-8, found by
 * counting the records before it; undefined when every byte is UTF-8.
 */
export async function rowOfFirstNonUtf8(
  filePath: string,
  o: Pick<BatchedRecordsOptions, 'encoding' | 'quote' | 'delimiter' | 'newline' | 'skip'>,
  range: { start: number; end: number; rowsBefore: number },
): Promise<number | undefined> {
  const raw = await readRange(filePath, o.encoding, range.start, range.end);
  const bad = firstNonUtf8Byte(raw);
  if (bad < 0) return undefined;
  const before = new ByteRecordBoundaryScanner(o.quote, o.delimiter, o.newline, range.start === 0 ? o.skip : 0).push(raw.subarray(0, bad));
  return range.rowsBefore + before.records - before.blankRecords + 1;
}
