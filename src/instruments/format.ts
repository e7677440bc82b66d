// Recognises the instrument file's compression and layout from its first bytes, whatever its name or headers say.
import type { SourceFormat } from './types';

/** RFC 1952: every gzip member starts with 1f 8b. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Columns that make a first line a Kite-style (or Upstox CSV) header. */
const CSV_KEY_COLUMNS = ['instrument_key', 'instrument_token', 'tradingsymbol', 'trading_symbol'];

/**
 * The layout of (decompressed) text from its beginning: `[` a JSON array, `{` one JSON object per line,
 * a header naming instrument columns CSV; null when it is none of them.
 */
export function detectFormat(headText: string): SourceFormat | null {
  const text = headText.replace(/^\uFEFF/, '');
  const first = /\S/.exec(text);
  if (!first) return null;
  if (first[0] === '[') return 'json-array';
  if (first[0] === '{') return 'ndjson';
  const line = text.slice(first.index).split(/\r?\n/, 1)[0]!;
  const columns = line.split(',').map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
  return columns.length > 1 && columns.some((c) => CSV_KEY_COLUMNS.includes(c)) ? 'csv' : null;
}

export function describeFormat(format: SourceFormat, gzip: boolean): string {
  const name = { 'json-array': 'JSON array', ndjson: 'NDJSON', csv: 'CSV' }[format];
  return gzip ? `${name} (gzip)` : name;
}
