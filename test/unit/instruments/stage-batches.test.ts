// Staging batches: unchanged records staged by key only, checkpoints in order, resumption after a checkpoint.
import { describe, expect, it } from 'vitest';
import type { StagingCheckpoint } from '../../../src/db/instruments';
import type { SourceRecord } from '../../../src/instruments/read-records';
import { canonicalRecord } from '../../../src/instruments/row-hash';
import { stageRecords, type StagingPort } from '../../../src/instruments/stage-batches';
import type { InvalidInstrument, StagedRow, StoredVersion } from '../../../src/instruments/types';

const rec = (i: number, over: Record<string, unknown> = {}) => ({ instrument_key: `NSE_EQ|${i}`, segment: 'NSE_EQ', instrument_type: 'EQ', lot_size: 1, ...over });
const hashOf = (r: Record<string, unknown>) => (canonicalRecord(r) as { hash: string }).hash;

/** Records in chunks of three, as a file's text chunks deliver them. */
async function* source(items: SourceRecord[]): AsyncGenerator<SourceRecord[]> {
  for (let i = 0; i < items.length; i += 3) yield items.slice(i, i + 3);
}

function fakePort(stored: Map<string, StoredVersion>) {
  const writes: { rows: StagedRow[]; invalid: InvalidInstrument[]; expected: StagingCheckpoint; next: StagingCheckpoint }[] = [];
  const port: StagingPort = {
    storedVersions: async (keys) => new Map(keys.filter((k) => stored.has(k)).map((k) => [k, stored.get(k)!])),
    writeBatch: async (rows, invalid, expected, next) => {
      await new Promise((r) => setTimeout(r, 5));
      writes.push({ rows, invalid, expected, next });
    },
  };
  return { port, writes };
}

const zero = { recordsRead: 0, stagedRows: 0, invalid: 0, batches: 0 };

describe('stageRecords', () => {
  it('stages an equal active record by key only, a changed, new or inactive one in full, a bad one as invalid', async () => {
    const stored = new Map<string, StoredVersion>([
      ['NSE_EQ|1', { rowHash: hashOf(rec(1)), isActive: true }],
      ['NSE_EQ|2', { rowHash: hashOf(rec(2)), isActive: true }],
      ['NSE_EQ|3', { rowHash: hashOf(rec(3)), isActive: false }],
    ]);
    const { port, writes } = fakePort(stored);
    const records: SourceRecord[] = [
      { rowNumber: 1, raw: { ...rec(1), last_price: 99 } },
      { rowNumber: 2, raw: rec(2, { lot_size: 5 }) },
      { rowNumber: 3, raw: rec(3) },
      { rowNumber: 4, raw: rec(4) },
      { rowNumber: 5, raw: rec(5, { lot_size: 0 }) },
      { rowNumber: 6, unparsable: 'not valid JSON', rawText: '{' },
    ];
    const end = await stageRecords(source(records), { from: zero, batchSize: 100, port, onCommitted: () => undefined });
    expect(end).toEqual({ recordsRead: 6, stagedRows: 5, invalid: 2, batches: 1 });
    const kinds = Object.fromEntries(writes[0]!.rows.map((r) => [r.rowNumber, r.kind]));
    expect(kinds).toEqual({ 1: 'unchanged', 2: 'full', 3: 'full', 4: 'full', 5: 'invalid' });
    expect(writes[0]!.rows.find((r) => r.rowNumber === 1)).toMatchObject({ category: 'equity', rowHash: hashOf(rec(1)) });
    expect(writes[0]!.invalid.map((i) => i.rowNumber).sort()).toEqual([5, 6]);
  });

  it('writes batches in order, each from the checkpoint the previous one reached, and resumes after `from`', async () => {
    const { port, writes } = fakePort(new Map());
    const records = Array.from({ length: 25 }, (_, i) => ({ rowNumber: i + 1, raw: rec(i + 1) }));
    const seen: number[] = [];
    const from = { recordsRead: 10, stagedRows: 10, invalid: 0, batches: 2 };
    const end = await stageRecords(source(records), { from, batchSize: 4, port, onCommitted: (cp) => void seen.push(cp.recordsRead) });
    expect(writes.map((w) => [w.expected.recordsRead, w.next.recordsRead])).toEqual([[10, 14], [14, 18], [18, 22], [22, 25]]);
    expect(seen).toEqual([14, 18, 22, 25]);
    expect(end).toEqual({ recordsRead: 25, stagedRows: 25, invalid: 0, batches: 6 });
    expect(writes.flatMap((w) => w.rows.map((r) => r.rowNumber))).toEqual(Array.from({ length: 15 }, (_, i) => i + 11));
  });

  it('a failed write fails the staging (the retry resumes from the stored checkpoint)', async () => {
    const port: StagingPort = { storedVersions: async () => new Map(), writeBatch: async () => Promise.reject(new Error('connection reset')) };
    const records = Array.from({ length: 10 }, (_, i) => ({ rowNumber: i + 1, raw: rec(i + 1) }));
    await expect(stageRecords(source(records), { from: zero, batchSize: 3, port, onCommitted: () => undefined })).rejects.toThrow('connection reset');
  });
});
