// Streams a planned file as decoded text from a byte offset, and measures text back in the file's bytes.
import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import iconv from 'iconv-lite';
import { countUtf8Characters, detectEncoding } from './csv/encoding';
import { RecordBoundaryScanner } from './csv/record-boundaries';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const iconvName: Record<string, string> = {
  'utf-16le': 'utf16le',
  'utf-16be': 'utf16be',
  'windows-1252': 'win1252',
  latin1: 'latin1',
};

export function bomBytes(encoding: string): number {
  return encoding === 'utf-8-bom' ? 3 : encoding === 'utf-16le' || encoding === 'utf-16be' ? 2 : 0;
}

/** How many bytes of the file `text` came from (exact for valid input in the file's encoding). */
export function textByteLength(text: string, encoding: string): number {
  if (encoding === 'utf-8' || encoding === 'utf-8-bom') return Buffer.byteLength(text, 'utf8');
  if (encoding === 'utf-16le' || encoding === 'utf-16be') return text.length * 2;
  return text.length;
}

/**
 * For a file planned as UTF-8 (its first MiB was plain ASCII) that has bytes further on that are not UTF-8: the
 * single-byte encoding (Windows-1252 or Latin-1) to read it in from `offset`, a record boundary before those bytes, or
 * null when the file really mixes encodings. It is single-byte when the bytes before `offset` and the MiB from the
 * first non-ASCII byte after it hold fewer than two UTF-8 multi-byte characters between them (the planner's rule:
 * one could be a coincidence of two Windows-1252 letters), and those bytes decode as one of the two.
 */
export async function singleByteEncodingAfter(filePath: string, offset: number): Promise<'windows-1252' | 'latin1' | null> {
  const handle = await fs.promises.open(filePath, 'r');
  try {
    const buf = Buffer.alloc(1024 * 1024);
    let utf8Chars = 0;
    const read = async (pos: number, max: number): Promise<Buffer> => buf.subarray(0, (await handle.read(buf, 0, Math.min(buf.length, max), pos)).bytesRead);
    // Already loaded (before a retry, perhaps in this very encoding): ASCII, or single-byte text.
    for (let pos = 0; pos < offset; ) {
      const chunk = await read(pos, offset - pos);
      if (chunk.length === 0) break;
      if (!isAscii(chunk)) utf8Chars += countUtf8Characters(chunk);
      if (utf8Chars >= 2) return null;
      pos += chunk.length;
    }
    for (let pos = offset; ; ) {
      const chunk = await read(pos, buf.length);
      if (chunk.length === 0) return null;
      if (!isAscii(chunk)) {
        if (utf8Chars + countUtf8Characters(chunk) >= 2) return null;
        const encoding = detectEncoding(chunk);
        return encoding === 'windows-1252' || encoding === 'latin1' ? encoding : null;
      }
      pos += chunk.length;
    }
  } finally {
    await handle.close();
  }
}

/** Bytes of a file planned as UTF-8 that are not UTF-8: a part of the file in another encoding. */
export class NotUtf8 extends Error {
  /** The data row holding them, when known. */
  constructor(message: string, readonly row?: number) {
    super(message);
  }
}

/**
 * Decodes bytes of a file in its encoding (no BOM handling: callers cut it off). UTF-8 is decoded strictly: a byte
 * that is not UTF-8 throws NotUtf8 instead of becoming U+FFFD, so a mixed file is refused rather than garbled.
 */
export function decodeBytes(raw: Buffer, encoding: string): string {
  if (encoding === 'utf-8' || encoding === 'utf-8-bom') {
    try {
      return strictUtf8.decode(raw);
    } catch {
      throw new NotUtf8('bytes that are not UTF-8 in a file read as UTF-8');
    }
  }
  return iconv.decode(raw, iconvName[encoding] ?? 'latin1', { stripBOM: false });
}

/** Decoded text of the file from byte `start` (a record boundary), in chunks of about 1 MiB; `onBytes` sees the raw bytes. */
export async function* decodedText(filePath: string, encoding: string, start = 0, onBytes?: (raw: Buffer) => void): AsyncGenerator<string> {
  const bytes = fs.createReadStream(filePath, { start, highWaterMark: 64 * 1024 });
  const utf8 = encoding === 'utf-8' || encoding === 'utf-8-bom';
  const decoder = utf8 ? new StringDecoder('utf8') : iconv.getDecoder(iconvName[encoding] ?? 'latin1', { stripBOM: start === 0 });
  let first = start === 0;
  try {
    for await (const chunk of bytes as AsyncIterable<Buffer>) {
      onBytes?.(chunk);
      let text = decoder.write(chunk);
      if (first && utf8 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text) {
        first = false;
        yield text;
      }
    }
    const rest = decoder.end();
    if (rest) yield rest;
  } finally {
    bytes.destroy();
  }
}

/** Data rows of a file (records after preamble and header, blank lines not counted), counted without parsing fields. */
export async function countDataRows(
  filePath: string,
  d: { encoding: string; quote: string; delimiter: string; newline: '\r\n' | '\n' | '\r'; preambleLines: number; hasHeader: boolean },
): Promise<number> {
  const scanner = new RecordBoundaryScanner(d.quote, d.delimiter, d.newline, d.preambleLines + (d.hasHeader ? 1 : 0));
  let n = 0;
  for await (const chunk of decodedText(filePath, d.encoding)) {
    const r = scanner.push(chunk);
    n += r.records - r.blankRecords;
  }
  return n + scanner.finish().records;
}
