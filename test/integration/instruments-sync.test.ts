// The instrument sync's activities on real PostgreSQL with generated masters: exact counts day after day.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALID_RECORD_SOURCE } from '../../src/db/instruments';
import { gzip, masterRecords, nextDay, startBroker, toJsonArray, toKiteCsv, toNdjson, type BrokerServer, type UpstoxRecord } from '../support/instrument-files';
import { startSyncHarness, type SyncHarness } from '../support/instrument-sync-steps';

let h: SyncHarness;
let broker: BrokerServer;
const spec = { equities: 30, indices: 5, futures: 4, options: 60, mcx: 6 };
const total = 105;
let day1: UpstoxRecord[];
let day2: UpstoxRecord[];

beforeAll(async () => {
  h = await startSyncHarness();
  broker = await startBroker();
  day1 = masterRecords(spec);
  day2 = nextDay(day1, { remove: 5, modify: 3, add: 7 });
});
afterAll(async () => {
  await broker?.close();
  await h?.close();
});

async function snapshot(): Promise<Map<string, { updated_at: string; is_active: boolean }>> {
  const rows = await h.query<{ instrument_key: string; updated_at: Date; is_active: boolean }>('SELECT instrument_key, updated_at, is_active FROM ref.instruments');
  return new Map(rows.map((r) => [r.instrument_key, { updated_at: r.updated_at.toISOString(), is_active: r.is_active }]));
}

describe('instrument sync, day after day', () => {
  it('day 1 (gzip JSON array over HTTP) adds every instrument, with counts per segment and type', async () => {
    broker.set('/complete.json.gz', { body: gzip(toJsonArray(day1)) });
    const r = await h.sync({ url: broker.url('/complete.json.gz') });
    expect(r).toMatchObject({ status: 'succeeded', format: 'json-array', records: total, invalid: 0, activeBefore: 0, activeAfter: total, added: total, updated: 0, unchanged: 0, deactivated: 0, reactivated: 0 });
    expect(r.bySegment.NSE_EQ).toMatchObject({ added: 30, activeAfter: 30 });
    expect(r.bySegment.NSE_FO).toMatchObject({ added: 64, activeAfter: 64 });
    expect(r.bySegment.MCX_FO).toMatchObject({ added: 6 });
    expect(r.byType.CE.added + r.byType.PE.added).toBe(60);
    expect(r.byType.FUT.added).toBe(10);
    const nifty = await h.db.instruments.getInstrument(`NSE_FO|100001`);
    expect(nifty).toMatchObject({ instrumentType: 'PE', optionType: 'PE', name: 'NIFTY', lotSize: 50, strikePrice: 18050, weekly: true, isActive: true, expiry: '2024-02-10' });
    expect(nifty!.tradingSymbol).toBe('NIFTY 18050 PE 10 FEB 24');
    expect((nifty!.sourceRecord as { asset_symbol: string }).asset_symbol).toBe('NIFTY');
  });

  it('an unchanged file (now NDJSON) writes nothing: every updated_at stays as it was', async () => {
    const before = await snapshot();
    broker.set('/complete.ndjson', { body: toNdjson(day1) });
    const r = await h.sync({ url: broker.url('/complete.ndjson') });
    expect(r).toMatchObject({ status: 'succeeded', format: 'ndjson', added: 0, updated: 0, unchanged: total, deactivated: 0, reactivated: 0, activeAfter: total });
    expect(await snapshot()).toEqual(before);
  });

  it('day 2: 7 listed, 3 changed, 5 expired; a moved last_price is not a change', async () => {
    const before = await snapshot();
    broker.set('/complete.json.gz', { body: gzip(toJsonArray(day2)) });
    const r = await h.sync({ url: broker.url('/complete.json.gz') });
    expect(r).toMatchObject({ status: 'succeeded', records: 107, activeBefore: total, added: 7, updated: 3, unchanged: total - 8, deactivated: 5, reactivated: 0, activeAfter: 107 });
    expect(r.bySegment.NSE_EQ).toMatchObject({ updated: 3, unchanged: 27 });
    expect(r.bySegment.NSE_FO).toMatchObject({ added: 7, deactivated: 5, activeBefore: 64, activeAfter: 66 });
    const after = await snapshot();
    const changed = [...after].filter(([k, v]) => before.get(k)?.updated_at !== v.updated_at).map(([k]) => k);
    expect(changed).toHaveLength(7 + 3 + 5);
    const gone = await h.db.instruments.getInstrument('NSE_FO|100000');
    expect(gone).toMatchObject({ isActive: false });
    expect(gone!.deactivatedAt).not.toBeNull();
    const lot = await h.db.instruments.getInstrument(`NSE_EQ|INE00000001`);
    expect(lot?.lotSize).toBe(2);
  });

  it('day 3 equals day 1: the expired options return (reactivated), the new ones go', async () => {
    broker.set('/complete.json.gz', { body: gzip(toJsonArray(day1)) });
    const r = await h.sync({ url: broker.url('/complete.json.gz') });
    expect(r).toMatchObject({ added: 0, reactivated: 5, deactivated: 7, updated: 3, unchanged: total - 8, activeAfter: total });
    const back = await h.db.instruments.getInstrument('NSE_FO|100000');
    expect(back).toMatchObject({ isActive: true, deactivatedAt: null });
  });

  it('invalid records are stored with their reasons and never stop the sync; a known key is not deactivated', async () => {
    const bad: unknown[] = [
      ...day1.slice(0, 40),
      { ...day1[40], lot_size: 0 },
      { ...day1[41], expiry: 'next thursday' },
      { ...day1[42], strike_price: 'abc', tick_size: -1 },
      { ...day1[43], instrument_key: '' },
      'not an object',
      { ...day1[44] },
      ...day1.slice(44),
    ];
    broker.set('/bad.json', { body: toJsonArray(bad) });
    const r = await h.sync({ url: broker.url('/bad.json') });
    // day1[43] lost its key (so it is gone today); the duplicate of day1[44] is invalid.
    expect(r).toMatchObject({ status: 'succeeded', records: total + 2, invalid: 6, duplicates: 1, deactivated: 1, added: 0 });
    const rows = await h.query<{ record_id: string | null; row_number: string; errors: string }>(
      'SELECT record_id, row_number, errors FROM ref.invalid_records WHERE source = $1 AND source_ref = $2 ORDER BY row_number', [INVALID_RECORD_SOURCE, r.runId],
    );
    expect(rows.map((x) => Number(x.row_number))).toEqual([41, 42, 43, 44, 45, 47]);
    expect(JSON.parse(rows[0]!.errors)).toEqual(['lot_size must be greater than 0, got 0']);
    expect(JSON.parse(rows[1]!.errors)[0]).toMatch(/expiry must be epoch milliseconds or yyyy-MM-dd/);
    expect(JSON.parse(rows[2]!.errors)).toHaveLength(2);
    expect(JSON.parse(rows[3]!.errors)).toEqual(['instrument_key is missing']);
    expect(JSON.parse(rows[5]!.errors)[0]).toMatch(/appears more than once in the file \(first at record 46\)/);
    // An invalid record of a known instrument keeps it active and unchanged.
    expect(await h.db.instruments.getInstrument(day1[40]!.instrument_key)).toMatchObject({ isActive: true, lotSize: day1[40]!.lot_size });
    expect(await h.db.instruments.getInstrument(day1[43]!.instrument_key)).toMatchObject({ isActive: false });
  });

  it('the same file again is known by its SHA-256: not staged, with the counts and invalid records a full staging gives', async () => {
    const invalidOf = (runId: string) =>
      h.query<{ record_id: string | null; row_number: string; errors: string }>(
        'SELECT record_id, row_number, errors FROM ref.invalid_records WHERE source = $1 AND source_ref = $2 ORDER BY row_number', [INVALID_RECORD_SOURCE, runId],
      );
    const batchesOf = async (runId: string) => Number((await h.query<{ batches: number }>('SELECT batches FROM ref.instrument_sync_runs WHERE run_id = $1', [runId]))[0]!.batches);
    const comparable = (r: Awaited<ReturnType<typeof h.sync>>) => {
      const { runId: _r, startedAt: _s, finishedAt: _f, durationMs: _d, ...rest } = r;
      return rest;
    };
    const before = await snapshot();
    const full = await h.sync({ url: broker.url('/bad.json') }, { config: { reuseIdenticalFile: false } });
    expect(await batchesOf(full.runId)).toBeGreaterThan(0);
    const reused = await h.sync({ url: broker.url('/bad.json') });
    expect(await batchesOf(reused.runId)).toBe(0);
    expect(comparable(reused)).toEqual(comparable(full));
    expect(reused).toMatchObject({ status: 'succeeded', records: total + 2, invalid: 6, duplicates: 1, added: 0, updated: 0, deactivated: 0, unchanged: total - 4 });
    expect(await invalidOf(reused.runId)).toEqual(await invalidOf(full.runId));
    expect(await snapshot()).toEqual(before);
    // An active instrument's last_seen_at is the last successful apply: this run's.
    const [{ applied_at: appliedAt }] = await h.query<{ applied_at: Date }>('SELECT applied_at FROM ref.instrument_sync_runs WHERE run_id = $1', [reused.runId]);
    expect((await h.db.instruments.getInstrument(day1[0]!.instrument_key))!.lastSeenAt).toBe(appliedAt.toISOString());

    // Once an instrument changed after that apply, the file is staged again.
    await h.query(`UPDATE ref.instruments SET updated_at = now() + interval '1 second' WHERE instrument_key = $1`, [day1[0]!.instrument_key]);
    const again = await h.sync({ url: broker.url('/bad.json') });
    expect(await batchesOf(again.runId)).toBeGreaterThan(0);
    expect(comparable(again)).toEqual(comparable(full));
  });

  it('a Kite CSV from a local file syncs as well (keys derived as exchange|instrument_token)', async () => {
    const file = path.join(h.temp.path, 'instruments.csv');
    await fs.writeFile(file, toKiteCsv(day1.slice(0, 50)));
    const r = await h.sync({ file }, { config: { guard: { maxDeactivateShare: 1, minEquities: 0, requireFno: true } } });
    expect(r).toMatchObject({ status: 'succeeded', format: 'csv', records: 50, invalid: 0, added: 50 });
    expect(await h.db.instruments.getInstrument('NSE|1000')).toMatchObject({ tradingSymbol: 'SYM0', instrumentType: 'EQ', lotSize: 1 });
    await expect(fs.access(file)).resolves.toBeUndefined();
  });
});
