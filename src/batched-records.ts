// Streams a file's whole records in batches, without holding a batch in memory: each batch is an async stream
// of text chunks ending on record boundaries, with its row and byte counts growing as it is read.
import fs from 'node:fs/promises';
import { RecordBoundaryScanner, type ScannedText } from './csv/record-boundaries';
import { bomBytes, decodeBytes, decodedText, textByteLength } from './record-stream';

export interface BatchStats {
  rows: number;
  blank: number;
  bytes: number;
}

export interface BatchStream {
  /** Chunks of whole records; closing this early does not lose records (drain() still counts them). */
  chunks: AsyncIterable<string>;
  stats: BatchStats;
  /** Reads the rest of the batch without using it (after the database refused part of it). */
  drain(): Promise<void>;
}

export class RecordTooLong extends Error {}
export class UnterminatedQuote extends Error {}

export interface BatchedRecordsOptions {
  encoding: string;
  quote: string;
  newline: '\r\n' | '\n' | '\r';
  /** Byte offset of a record boundary to start from (0 = the file's start). */
  start: number;
  /** Leading records to skip (preamble and header); only meaningful at start 0. */
  skip: number;
  maxRecordChars: number;
  onBytes?: (raw: Buffer) => void;
}

export class BatchedRecords {
  private readonly source: AsyncIterator<string>;
  private readonly scanner: RecordBoundaryScanner;
  private atStart: boolean;
  eof = false;

  constructor(filePath: string, private readonly o: BatchedRecordsOptions) {
    this.source = decodedText(filePath, o.encoding, o.start, o.onBytes)[Symbol.asyncIterator]();
    this.scanner = new RecordBoundaryScanner(o.quote, o.newline, o.start === 0 ? o.skip : 0);
    this.atStart = o.start === 0;
  }

  /** The next batch of about `maxRows` records (it ends at the first chunk boundary after that many). */
  batch(maxRows: number): BatchStream {
    const stats: BatchStats = { rows: 0, blank: 0, bytes: this.atStart ? bomBytes(this.o.encoding) : 0 };
    this.atStart = false;
    const account = (r: ScannedText) => {
      stats.rows += r.records;
      stats.blank += r.blankRecords;
      stats.bytes += textByteLength(r.text, this.o.encoding) + (r.skippedChars ? textByteLength(r.skippedChars, this.o.encoding) : 0);
    };
    const gen = (async function* (self: BatchedRecords): AsyncGenerator<string> {
      while (stats.rows < maxRows && !self.eof) {
        const n = await self.source.next();
        if (n.done) {
          self.eof = true;
          const last = self.scanner.finish();
          if (last.unterminatedQuote) throw new UnterminatedQuote('a quoted field near the end of the file is never closed');
          account(last);
          if (last.text) yield last.text;
          break;
        }
        const r = self.scanner.push(n.value);
        account(r);
        if (self.scanner.pendingLength > self.o.maxRecordChars) {
          throw new RecordTooLong(`a record is longer than ${self.o.maxRecordChars} characters (an unclosed quote or a giant field)`);
        }
        if (r.text) yield r.text;
      }
    })(this);
    // Without a return() a consumer that stops early (a refused COPY) cannot end the generator mid-batch.
    const chunks: AsyncIterable<string> = { [Symbol.asyncIterator]: () => ({ next: () => gen.next() }) };
    return {
      chunks,
      stats,
      async drain() {
        while (!(await gen.next()).done);
      },
    };
  }
}

/** The decoded text of bytes [start, end) of the file (a batch, re-read for row-by-row handling). */
export async function readTextRange(filePath: string, encoding: string, start: number, end: number): Promise<string> {
  const handle = await fs.open(filePath, 'r');
  try {
    const buf = Buffer.alloc(end - start);
    const { bytesRead } = await handle.read(buf, 0, buf.length, start);
    const raw = buf.subarray(start === 0 ? bomBytes(encoding) : 0, bytesRead);
    return decodeBytes(raw, encoding);
  } finally {
    await handle.close();
  }
}
