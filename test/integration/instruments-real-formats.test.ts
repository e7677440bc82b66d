// The broker's files as they really come on real PostgreSQL: byte order marks, pretty-printing, CRLF, gzip under
// any name, text numbers, nulls and extra fields, Kite's quoted names. The values read back are the file's; files
// that are not an instrument master fail with a specific reason before anything changes.
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALID_RECORD_SOURCE } from '../../src/db/instruments';
import { masterRecords } from '../support/instrument-files';
import { startSyncHarness, type SyncHarness } from '../support/instrument-sync-steps';

let h: SyncHarness;
beforeAll(async () => {
  h = await startSyncHarness();
});
afterAll(async () => h?.close());

async function syncFile(name: string, content: string | Buffer, opts: Parameters<SyncHarness['sync']>[1] = {}) {
  const file = path.join(h.temp.path, name);
  await fs.writeFile(file, content);
  return h.sync({ file }, opts);
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

const invalidOf = (runId: string) =>
  h.query<{ record_id: string | null; row_number: string; errors: string }>(
    'SELECT record_id, row_number, errors FROM ref.invalid_records WHERE source = $1 AND source_ref = $2 ORDER BY row_number::int', [INVALID_RECORD_SOURCE, runId],
  ).then((rows) => rows.map((r) => ({ key: r.record_id, row: Number(r.row_number), errors: JSON.parse(r.errors) as string[] })));
const activeKeys = async () => (await h.query<{ instrument_key: string }>('SELECT instrument_key FROM ref.instruments WHERE is_active ORDER BY 1')).map((r) => r.instrument_key);

// Upstox complete.json records with every field it carries (the ones refdata only keeps included).
const niftyCall = {
  weekly: false, segment: 'NSE_FO', name: 'NIFTY', exchange: 'NSE', expiry: 1740680999000, instrument_type: 'CE', asset_symbol: 'NIFTY',
  underlying_symbol: 'NIFTY', instrument_key: 'NSE_FO|43919', lot_size: 75, freeze_quantity: 1800.0, exchange_token: '43919', minimum_lot: 75,
  asset_key: 'NSE_INDEX|Nifty 50', underlying_key: 'NSE_INDEX|Nifty 50', tick_size: 5.0, asset_type: 'INDEX', underlying_type: 'INDEX',
  trading_symbol: 'NIFTY 23400 CE 27 FEB 25', strike_price: 23400.0, qty_multiplier: 1.0, last_trading_date: 1740680999000,
};
const reliance = {
  segment: 'NSE_EQ', name: 'RELIANCE INDUSTRIES LTD', exchange: 'NSE', isin: 'INE002A01018', instrument_type: 'EQ', instrument_key: 'NSE_EQ|INE002A01018',
  lot_size: 1, freeze_quantity: 100000.0, exchange_token: '2885', tick_size: 10.0, trading_symbol: 'RELIANCE', short_name: 'Reliance Industries', security_type: 'NORMAL',
};
const day = [
  niftyCall,
  reliance,
  // Numbers as text, nulls, and fields refdata has never heard of.
  { ...niftyCall, instrument_key: 'NSE_FO|43920', lot_size: '75', strike_price: '23450.0', expiry: '1740680999000', weekly: null, isin: null, new_field: { nested: [1, 2] } },
  // Not storable as they are: zero and negative lots, an expiry in epoch seconds.
  { ...niftyCall, instrument_key: 'NSE_FO|43921', lot_size: 0 },
  { ...niftyCall, instrument_key: 'NSE_FO|43922', lot_size: -75 },
  { ...niftyCall, instrument_key: 'NSE_FO|43923', expiry: 1740680999 },
  { ...reliance, name: 'RELIANCE AGAIN' },
  ...masterRecords({ equities: 6, indices: 1, futures: 1, options: 4, mcx: 1 }),
];
const validKeys = [...new Set(day.map((r) => r.instrument_key))].filter((k) => !['NSE_FO|43921', 'NSE_FO|43922', 'NSE_FO|43923'].includes(k)).sort();

describe('Upstox files as they come', () => {
  it('a pretty-printed JSON array with a BOM and leading blank lines, gzipped under a .csv name', async () => {
    const r = await syncFile('complete.csv', zlib.gzipSync(`\uFEFF\r\n  \n${JSON.stringify(day, null, 2)}\n`));
    expect(r).toMatchObject({ status: 'succeeded', format: 'json-array', records: day.length, invalid: 4, duplicates: 1, added: validKeys.length });
    expect(await activeKeys()).toEqual(validKeys);
    expect(await h.db.instruments.getInstrument('NSE_FO|43919')).toMatchObject({
      segment: 'NSE_FO', instrumentType: 'CE', optionType: 'CE', expiry: '2025-02-27', strikePrice: 23400, lotSize: 75, tickSize: 5, freezeQuantity: 1800,
      weekly: false, underlyingKey: 'NSE_INDEX|Nifty 50', tradingSymbol: 'NIFTY 23400 CE 27 FEB 25', sourceRecord: niftyCall,
    });
    expect(await h.db.instruments.getInstrument('NSE_FO|43920')).toMatchObject({ lotSize: 75, strikePrice: 23450, expiry: '2025-02-27', weekly: null, isin: null });
    expect(await h.db.instruments.getInstrument('NSE_EQ|INE002A01018')).toMatchObject({ isin: 'INE002A01018', name: 'RELIANCE INDUSTRIES LTD', instrumentType: 'EQ' });
    expect(await invalidOf(r.runId)).toEqual([
      { key: 'NSE_FO|43921', row: 4, errors: ['lot_size must be greater than 0, got 0'] },
      { key: 'NSE_FO|43922', row: 5, errors: ['lot_size must be greater than 0, got -75'] },
      { key: 'NSE_FO|43923', row: 6, errors: [expect.stringMatching(/^expiry 1740680999 is not epoch milliseconds .*epoch seconds\?/)] },
      { key: 'NSE_EQ|INE002A01018', row: 7, errors: ['instrument_key NSE_EQ|INE002A01018 appears more than once in the file (first at record 2)'] },
    ]);
  });

  it('the same records as NDJSON with a BOM, CRLF and blank lines are the same instruments: nothing changes', async () => {
    const ndjson = `\uFEFF${day.map((r) => JSON.stringify(r)).join('\r\n\r\n')}\r\n  \r\n`;
    const r = await syncFile('complete.ndjson', ndjson);
    expect(r).toMatchObject({ status: 'succeeded', format: 'ndjson', records: day.length, invalid: 4, duplicates: 1, added: 0, updated: 0, deactivated: 0, unchanged: validKeys.length });
  });

  it.each([
    ['an empty array', '[ ]\n', /no records/, 'NO_RECORDS'],
    ['a pretty-printed object wrapping the array', JSON.stringify({ status: 'success', data: day }, null, 2), /first line \("\{" alone\) is not a JSON object on its own/, 'BAD_JSON'],
    ['a one-line object wrapping the array', JSON.stringify({ status: 'success', data: day }), /holds a list and no instrument_key/, 'BAD_JSON'],
    ['an HTML error page', '<!DOCTYPE html>\n<html><body><h1>403 Forbidden</h1></body></html>\n', /looks like an HTML page/, 'UNKNOWN_FORMAT'],
  ])('%s fails the sync as CorruptSource and deactivates nothing', async (_what, content, message, code) => {
    const before = await activeKeys();
    const f = await failureOf(syncFile('odd.json', content));
    expect(f).toMatchObject({ type: 'CorruptSource', nonRetryable: true, details: [{ code }] });
    expect(f.message).toMatch(message);
    expect(f.message).toMatch(/nothing was changed/i);
    expect(await activeKeys()).toEqual(before);
  });
});

describe('a Kite instruments.csv as it comes', () => {
  let k: SyncHarness;
  beforeAll(async () => {
    k = await startSyncHarness();
  });
  afterAll(async () => k?.close());

  it('with a BOM, CRLF, quoted names holding commas, empty expiries; its indices (lot size 0) are invalid records', async () => {
    const equities = Array.from({ length: 6 }, (_, i) => `${738561 + i},${2885 + i},STOCK${i},"STOCK ${i} INDUSTRIES, LTD",2450.5,,0,0.05,1,EQ,NSE,NSE`);
    const csv = [
      'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange',
      '256265,1001,NIFTY 50,"NIFTY 50",0,,0,0,0,EQ,INDICES,NSE',
      ...equities,
      '12345602,48225,NIFTY25FEB23400CE,"NIFTY",112.35,2025-02-27,23400,0.05,75,CE,NFO-OPT,NFO',
      '12345603,48226,NIFTY25FEBFUT,"NIFTY",23500,2025-02-27,0,0.1,75,FUT,NFO-FUT,NFO',
      '',
    ].join('\r\n');
    const file = path.join(k.temp.path, 'instruments');
    await fs.writeFile(file, `\uFEFF${csv}`);
    const r = await k.sync({ file });
    expect(r).toMatchObject({ status: 'succeeded', format: 'csv', records: 9, invalid: 1, added: 8 });
    expect(await k.db.instruments.getInstrument('NSE|738561')).toMatchObject({ name: 'STOCK 0 INDUSTRIES, LTD', tradingSymbol: 'STOCK0', expiry: null, lotSize: 1, tickSize: 0.05, segment: 'NSE' });
    expect(await k.db.instruments.getInstrument('NFO|12345602')).toMatchObject({ name: 'NIFTY', expiry: '2025-02-27', strikePrice: 23400, optionType: 'CE', lotSize: 75, segment: 'NFO-OPT' });
    const invalid = await k.query<{ record_id: string; errors: string }>('SELECT record_id, errors FROM ref.invalid_records WHERE source = $1 AND source_ref = $2', [INVALID_RECORD_SOURCE, r.runId]);
    expect(invalid.map((x) => [x.record_id, JSON.parse(x.errors)])).toEqual([['NSE|256265', ['lot_size must be greater than 0, got 0', 'tick_size must be greater than 0, got 0']]]);
  });
});
