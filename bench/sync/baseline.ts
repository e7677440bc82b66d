// The comparisons of bench/sync: the same rows as a CSV for `psql \copy`, and a download + parse with nothing written.
import fs from 'node:fs';
import { once } from 'node:events';
import { downloadToFile } from '../../src/instruments/download';
import { openSource } from '../../src/instruments/read-records';
import { validateRecord } from '../../src/instruments/record';

const COLUMNS = [
  'instrument_key', 'segment', 'exchange', 'instrument_type', 'name', 'trading_symbol', 'isin', 'expiry', 'strike_price', 'lot_size', 'tick_size',
  'freeze_quantity', 'underlying_key', 'option_type', 'weekly', 'source_record', 'row_hash',
];

const cell = (v: string | number | boolean | null) => (v === null ? '' : typeof v === 'string' ? `"${v.replace(/"/g, '""')}"` : String(v));

/** Writes the rows the sync would write (validated, typed, hashed) as CSV; returns the column list. */
export async function writeBaselineCsv(records: unknown[], file: string): Promise<string[]> {
  const out = fs.createWriteStream(file);
  let row = 0;
  for (const raw of records) {
    const r = validateRecord(raw, ++row);
    if (!r.ok) continue;
    const i = r.instrument;
    const line = [
      i.instrumentKey, i.segment, i.exchange, i.instrumentType, i.name, i.tradingSymbol, i.isin, i.expiry, i.strikePrice, i.lotSize, i.tickSize,
      i.freezeQuantity, i.underlyingKey, i.optionType, i.weekly, i.sourceRecord, i.rowHash,
    ].map(cell).join(',');
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return COLUMNS;
}

/** What every sync must do at least: fetch the file and read every record (optionally validating each). */
export async function downloadAndParse(url: string, destination: string, validate: boolean): Promise<number> {
  fs.rmSync(destination, { force: true });
  // The bench serves the file from loopback.
  await downloadToFile({ url, headers: {}, sentCredentials: false, allowPrivateNetworks: true, timeoutMs: 600_000, maxBytes: 2 ** 30, destination });
  const source = await openSource(destination, { maxDecompressedBytes: 2 ** 34 });
  let n = 0;
  try {
    for await (const batch of source.batches) {
      for (const rec of batch) {
        if (validate && 'raw' in rec) validateRecord(rec.raw, rec.rowNumber);
        n++;
      }
    }
  } finally {
    source.close();
  }
  return n;
}
