// What the distribution writes besides the database's own CSV: COPY-compatible CSV, the invalid file, the manifest.
import { describe, expect, it } from 'vitest';
import { csvField, csvLine, trimDecimal } from '../../../src/distribution/csv';
import { invalidFileChunks } from '../../../src/distribution/invalid-file';
import { manifestText } from '../../../src/distribution/manifest';
import type { InvalidRecordRow } from '../../../src/db/distribution-runs';

async function text(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

async function* pages(...ps: InvalidRecordRow[][]): AsyncGenerator<InvalidRecordRow[]> {
  for (const p of ps) yield p;
}

const row = (id: number, over: Partial<InvalidRecordRow> = {}): InvalidRecordRow => ({
  id, source: 'instrument_sync', sourceRef: 'run-1', recordId: `NSE_FO|${id}`, rowNumber: id, errors: '["lot_size must be a number"]', createdAt: '2025-06-21 10:15:00', ...over,
});

describe('CSV as COPY prints it', () => {
  it.each([
    [null, ''],
    ['', '""'],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\r', '"cr\r"'],
    ['NSE_EQ|INE001', 'NSE_EQ|INE001'],
  ])('%j → %j', (value, out) => {
    expect(csvField(value)).toBe(out);
  });

  it('joins a line with commas and ends it with LF', () => {
    expect(csvLine(['a', null, ''])).toBe('a,,""\n');
  });

  it('trims a decimal\'s scale like trim_scale', () => {
    expect(trimDecimal('18000.000000')).toBe('18000');
    expect(trimDecimal('0.050000')).toBe('0.05');
    expect(trimDecimal('12')).toBe('12');
    expect(trimDecimal(null)).toBeNull();
  });
});

describe('the invalid file', () => {
  it('is [] with no records', async () => {
    const counter = { rows: 0 };
    expect(await text(invalidFileChunks(pages(), counter))).toBe('[]\n');
    expect(counter.rows).toBe(0);
  });

  it('is one item per line across pages, keys in a fixed order, valid JSON', async () => {
    const counter = { rows: 0 };
    const out = await text(invalidFileChunks(pages([row(1), row(2)], [], [row(3, { errors: 'not json', recordId: null, source: 'file', sourceRef: 'load_1' })]), counter));
    expect(counter.rows).toBe(3);
    expect(out.split('\n')).toHaveLength(6);
    expect(out.split('\n')[1]).toBe('{"recordId":"NSE_FO|1","source":"instrument_sync","sourceRef":"run-1","rowNumber":1,"errors":["lot_size must be a number"],"timestamp":"2025-06-21 10:15:00"},');
    expect(JSON.parse(out)).toEqual([
      expect.objectContaining({ recordId: 'NSE_FO|1' }),
      expect.objectContaining({ recordId: 'NSE_FO|2' }),
      { recordId: null, source: 'file', sourceRef: 'load_1', rowNumber: 3, errors: ['not json'], timestamp: '2025-06-21 10:15:00' },
    ]);
  });
});

describe('the manifest', () => {
  it('lists each file with rows, bytes and SHA-256, from stored values only (the same bytes on a re-run)', () => {
    const input = {
      submissionId: 'b3c1', runId: '20250621', businessDate: '2025-06-21', kind: 'full' as const, generatedAt: '2025-06-21T19:30:00.123456Z',
      watermark: { from: '2025-06-20T19:30:00.000001Z', to: '2025-06-21T19:30:00.123456Z' },
      files: [{ name: '20250621_full.csv', type: 'full' as const, dataset: 'instruments', rows: 2, bytes: 120, sha256: 'a'.repeat(64) }],
    };
    const text1 = manifestText(input);
    expect(manifestText({ ...input })).toBe(text1);
    expect(JSON.parse(text1)).toEqual({
      submission_id: 'b3c1', run_id: '20250621', business_date: '2025-06-21', kind: 'full', generated_at: '2025-06-21T19:30:00.123456Z',
      watermark: { from: '2025-06-20T19:30:00.000001Z', to: '2025-06-21T19:30:00.123456Z' }, timestamps: 'UTC',
      files: [{ name: '20250621_full.csv', type: 'full', dataset: 'instruments', rows: 2, bytes: 120, sha256: 'a'.repeat(64) }],
    });
    expect(text1.endsWith('}\n')).toBe(true);
  });
});
