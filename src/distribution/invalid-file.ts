// The invalid file (`YYYYMMDD_invalid.json`): a JSON array, one item per invalid record, written a page at a time.
import type { InvalidRecordRow } from '../db/distribution-runs';

/** One item, keys in a fixed order so the same records always give the same bytes. */
export interface InvalidItem {
  recordId: string | null;
  source: string;
  sourceRef: string | null;
  rowNumber: number | null;
  errors: string[];
  /** `YYYY-MM-DD HH:mm:ss`, UTC, when the record was found invalid. */
  timestamp: string;
}

/** Stored errors are a JSON array of messages; anything else is kept whole as one message. */
function errorsOf(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) return parsed.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  } catch {
    // not JSON: fall through
  }
  return [text];
}

export function invalidItemOf(r: InvalidRecordRow): InvalidItem {
  return { recordId: r.recordId, source: r.source, sourceRef: r.sourceRef, rowNumber: r.rowNumber, errors: errorsOf(r.errors), timestamp: r.createdAt };
}

/**
 * Streams `[`, the items one per line, `]`: constant memory however many records there are, and valid JSON at
 * every size (`[]` when there are none). Counts the items in `counter.rows`.
 */
export async function* invalidFileChunks(pages: AsyncIterable<InvalidRecordRow[]>, counter: { rows: number }): AsyncGenerator<Buffer> {
  let first = true;
  yield Buffer.from('[');
  for await (const page of pages) {
    if (page.length === 0) continue;
    const text = page.map((r) => JSON.stringify(invalidItemOf(r))).join(',\n');
    yield Buffer.from(`${first ? '\n' : ',\n'}${text}`);
    first = false;
    counter.rows += page.length;
  }
  yield Buffer.from(first ? ']\n' : '\n]\n');
}
