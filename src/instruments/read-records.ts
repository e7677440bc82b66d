// Opens a downloaded instrument file (gzip or not; JSON array, NDJSON or CSV) and streams its records in constant memory.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import Papa from 'papaparse';
import { SourceError, isZlibError } from './errors';
import { detectFormat, isGzip } from './format';
import { JsonShapeError, jsonArrayBatches, jsonErrorKind } from './json-array';
import { instrumentKeyOf } from './record';
import type { SourceFormat } from './types';

/** One record of the file: parsed (validation comes next), or text that could not even be parsed. */
export type SourceRecord = { rowNumber: number; raw: unknown } | { rowNumber: number; unparsable: string; rawText: string };

export interface OpenedSource {
  gzip: boolean;
  format: SourceFormat;
  /**
   * The records in order, a chunk of the file's worth at a time: one await per chunk rather than per record
   * (per-record async iteration cost more than parsing, with the activity's async context tracking).
   */
  batches: AsyncIterable<SourceRecord[]>;
  /** The same records one at a time. */
  records: AsyncIterable<SourceRecord>;
  /** Bytes of the file read so far (compressed bytes for gzip), for progress. */
  bytesRead(): number;
  close(): void;
}

const HEAD_CHARS = 4096;
const CHUNK_BYTES = 1 << 16;

async function readHead(filePath: string): Promise<Buffer> {
  const fh = await fs.promises.open(filePath, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Decoded text of the byte stream; a damaged gzip or an oversized stream ends it with a SourceError. */
async function* textOf(bytes: Readable, maxDecompressedBytes: number): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let total = 0;
  try {
    for await (const chunk of bytes as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxDecompressedBytes) {
        throw new SourceError(`the instrument file decompresses to more than ${maxDecompressedBytes} bytes; refusing it`, 'CorruptSource', 'TOO_LARGE');
      }
      const text = decoder.write(chunk);
      if (text) yield text;
    }
  } catch (err) {
    if (isZlibError(err)) {
      throw new SourceError(`the gzip stream is damaged or cut off (${err.message}); nothing was changed`, 'CorruptSource', err.code);
    }
    throw err;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/** Reads text until the format is known; returns the format and the same text, nothing lost. */
async function peekFormat(text: AsyncGenerator<string>): Promise<{ format: SourceFormat | null; empty: boolean; head: string; text: AsyncGenerator<string> }> {
  const head: string[] = [];
  let length = 0;
  while (length < HEAD_CHARS) {
    const next = await text.next();
    if (next.done) break;
    head.push(next.value);
    length += next.value.length;
  }
  async function* replay(): AsyncGenerator<string> {
    yield* head;
    yield* text;
  }
  const start = head.join('').slice(0, HEAD_CHARS);
  return { format: detectFormat(start), empty: start.trim() === '', head: start, text: replay() };
}

const CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/g;

/**
 * What kind of file an unrecognised start looks like, as a fixed phrase: never any of its characters, because a file
 * that is not an instrument master may be anything (a key, a password file) and this phrase goes into the run's
 * error, the report, the log and the events.
 */
export function describeStart(head: string): string {
  const text = head.replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('PK\u0003\u0004')) return 'a ZIP archive (refdata reads gzip or plain files: unzip it first)';
  if (text.startsWith('%PDF')) return 'a PDF document';
  if (/^<(!doctype html|html|head|body)/i.test(text)) return 'an HTML page (an error or login page instead of the file?)';
  if (/^<\?xml/i.test(text)) return 'an XML document (an error answer instead of the file?)';
  const sample = text.slice(0, 512);
  if ((sample.match(CONTROL) ?? []).length > sample.length / 20) return 'binary data';
  const firstLine = sample.split(/\r?\n/, 1)[0]!;
  if (/[;\t|]/.test(firstLine) && !firstLine.includes(',')) return 'delimited text that is not comma-separated (instrument CSVs use commas)';
  if (firstLine.includes(',')) return 'comma-separated text whose first line names no instrument column (instrument_key, instrument_token or tradingsymbol)';
  return 'text of no known instrument layout';
}

async function* jsonArrayRecords(text: AsyncIterable<string>): AsyncGenerator<SourceRecord[]> {
  let rowNumber = 0;
  try {
    for await (const elements of jsonArrayBatches(text)) yield elements.map((raw) => ({ rowNumber: ++rowNumber, raw }));
  } catch (err) {
    if (err instanceof JsonShapeError) throw new SourceError(`${err.message}; nothing was changed`, 'CorruptSource', 'BAD_JSON');
    throw err;
  }
}

/**
 * Why a file that starts with `{` is not NDJSON, judged by its first record (null when it is): a first line that is
 * not JSON on its own is a pretty-printed document, and an object that holds a list but no instrument key is an
 * API response wrapping the instruments (`{"status": …, "data": [...]}`). Either way every line or the one record
 * would be "invalid", and the guard would have to stop what is really the wrong file.
 */
export function notNdjsonReason(firstLine: string, parsed: { raw: unknown } | null): string | null {
  if (parsed === null) {
    return `its first line${firstLine.trim() === '{' ? ' ("{" alone)' : ''} is not a JSON object on its own, so it is not NDJSON (one instrument per line); a pretty-printed JSON object?`;
  }
  const raw = parsed.raw;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const record = raw as Record<string, unknown>;
  if (instrumentKeyOf(record) !== null) return null;
  const lists = Object.keys(record).filter((k) => Array.isArray(record[k]));
  if (lists.length === 0) return null;
  // The keys' names are the file's own bytes: only their number is said.
  return `its first record holds ${lists.length === 1 ? 'a list' : `${lists.length} lists`} and no instrument_key: it is one JSON object wrapping the instruments (an API response?), not a JSON array or NDJSON of instruments`;
}

async function* ndjsonRecords(text: AsyncIterable<string>): AsyncGenerator<SourceRecord[]> {
  let rowNumber = 0;
  let pending = '';
  const parse = (line: string, complete: boolean): SourceRecord | null => {
    const trimmed = line.trim();
    if (trimmed === '') return null;
    rowNumber++;
    let record: SourceRecord;
    try {
      record = { rowNumber, raw: JSON.parse(trimmed) as unknown };
    } catch (err) {
      // A last line without its newline that does not parse is a cut-off file, not one bad record.
      if (!complete && rowNumber > 1) throw new SourceError(`the NDJSON file is cut off in record ${rowNumber}; nothing was changed`, 'CorruptSource', 'TRUNCATED');
      record = { rowNumber, unparsable: `not valid JSON: ${jsonErrorKind(err)}`, rawText: trimmed.slice(0, 10_000) };
    }
    if (rowNumber === 1) {
      const reason = notNdjsonReason(trimmed, 'raw' in record ? record : null);
      if (reason) throw new SourceError(`the instrument file starts with "{" but ${reason}; nothing was changed`, 'CorruptSource', 'BAD_JSON');
    }
    return record;
  };
  for await (const chunk of text) {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    const batch: SourceRecord[] = [];
    for (const line of lines) {
      const rec = parse(line, true);
      if (rec) batch.push(rec);
    }
    if (batch.length > 0) yield batch;
  }
  const last = parse(pending, false);
  if (last) yield [last];
}

async function* csvRecords(text: AsyncGenerator<string>): AsyncGenerator<SourceRecord[]> {
  const rows = Papa.parse(Papa.NODE_STREAM_INPUT, { header: false, skipEmptyLines: 'greedy' });
  const source = Readable.from(text);
  source.on('error', (err) => rows.destroy(err));
  source.pipe(rows);
  let header: string[] | null = null;
  let rowNumber = 0;
  for await (const fields of rows as AsyncIterable<string[]>) {
    if (header === null) {
      header = fields.map((h) => h.trim().replace(/^\uFEFF/, '').toLowerCase());
      continue;
    }
    rowNumber++;
    if (fields.length !== header.length) {
      yield [{ rowNumber, unparsable: `has ${fields.length} fields, the header has ${header.length}`, rawText: Papa.unparse([fields]) }];
      continue;
    }
    const raw: Record<string, string> = {};
    header.forEach((h, i) => (raw[h] = fields[i]!));
    yield [{ rowNumber, raw }];
  }
}

async function* oneByOne(batches: AsyncIterable<SourceRecord[]>): AsyncGenerator<SourceRecord> {
  for await (const batch of batches) yield* batch;
}

/** Opens the file, detects gzip by its magic bytes and the layout by its first characters. */
export async function openSource(filePath: string, opts: { maxDecompressedBytes: number }): Promise<OpenedSource> {
  const gzip = isGzip(await readHead(filePath));
  const file = fs.createReadStream(filePath, { highWaterMark: CHUNK_BYTES });
  const bytes: Readable = gzip ? file.pipe(zlib.createGunzip({ chunkSize: CHUNK_BYTES })) : file;
  // pipe() does not forward errors; a read error must end the text stream, not hang it.
  if (gzip) file.on('error', (err) => bytes.destroy(err));
  const close = () => {
    bytes.destroy();
    file.destroy();
  };
  const { format, empty, head, text } = await peekFormat(textOf(bytes, opts.maxDecompressedBytes)).catch((err: unknown) => {
    close();
    throw err;
  });
  if (format === null) {
    close();
    if (empty) throw new SourceError('the instrument file is empty; nothing was changed', 'CorruptSource', 'EMPTY');
    throw new SourceError(
      `the instrument file is neither a JSON array, NDJSON nor an instrument CSV: it looks like ${describeStart(head)}; nothing was changed`,
      'CorruptSource',
      'UNKNOWN_FORMAT',
    );
  }
  const batches = format === 'json-array' ? jsonArrayRecords(text) : format === 'ndjson' ? ndjsonRecords(text) : csvRecords(text);
  return { gzip, format, batches, records: oneByOne(batches), bytesRead: () => file.bytesRead, close };
}
