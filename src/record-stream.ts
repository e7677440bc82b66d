// Streams the records of a planned CSV file: raw bytes → decoded text → papaparse, with a running byte count.
import fs from 'node:fs';
import iconv from 'iconv-lite';
import Papa from 'papaparse';

export interface StreamDialect {
  encoding: string;
  delimiter: string;
  quote: string;
}

const iconvName: Record<string, string> = {
  'utf-8': 'utf8',
  'utf-8-bom': 'utf8',
  'utf-16le': 'utf16le',
  'utf-16be': 'utf16be',
  'windows-1252': 'win1252',
  latin1: 'latin1',
};

export interface RecordStream {
  records: AsyncIterable<string[]>;
  /** Raw bytes read from the file so far. */
  bytesRead(): number;
  close(): void;
}

export function streamRecords(filePath: string, d: StreamDialect): RecordStream {
  let bytes = 0;
  const source = fs.createReadStream(filePath, { highWaterMark: 1 << 20 });
  source.on('data', (chunk) => (bytes += chunk.length));
  const parser = Papa.parse(Papa.NODE_STREAM_INPUT, { delimiter: d.delimiter, quoteChar: d.quote, escapeChar: d.quote, skipEmptyLines: true });
  const records = source.pipe(iconv.decodeStream(iconvName[d.encoding] ?? 'utf8')).pipe(parser) as unknown as AsyncIterable<string[]>;
  return { records, bytesRead: () => bytes, close: () => source.destroy() };
}

/** Data rows of a file (records after preamble and header), counted by the same parser the loader uses. */
export async function countDataRows(filePath: string, d: StreamDialect & { preambleLines: number; hasHeader: boolean }): Promise<number> {
  const s = streamRecords(filePath, d);
  let n = 0;
  try {
    for await (const _ of s.records) n++;
  } finally {
    s.close();
  }
  return Math.max(0, n - d.preambleLines - (d.hasHeader ? 1 : 0));
}
