// A deterministic instrument-style CSV: N rows × 12 columns (~106 bytes a row), written in streamed chunks.
import fs from 'node:fs';

export const HEADER = [
  'instrument_key', 'exchange_token', 'trading_symbol', 'name', 'exchange', 'segment',
  'instrument_type', 'expiry', 'strike_price', 'lot_size', 'tick_size', 'is_active',
];

const names = ['RELIANCE INDUSTRIES', 'TATA CONSULTANCY', 'HDFC BANK', 'INFOSYS', 'ICICI BANK', 'NIFTY', 'BANKNIFTY'];
const types = ['EQ', 'FUT', 'CE', 'PE'];

export function rowAt(i: number): string {
  const t = types[i % 4];
  const month = (i % 12) + 1;
  const strike = t === 'CE' || t === 'PE' ? (15000 + (i % 400) * 50).toFixed(2) : '0.00';
  return [
    `NSE_FO|${100000 + i}`, String(100000 + i), `SYM${i}${t}`, `"${names[i % names.length]}, LTD"`, 'NSE', 'NSE_FO', t,
    `2025-${String(month).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`, strike, String(25 * ((i % 8) + 1)),
    '0.05', i % 10 === 0 ? 'false' : 'true',
  ].join(',');
}

export async function generateCsv(filePath: string, rows: number): Promise<number> {
  const out = fs.createWriteStream(filePath);
  out.write(`${HEADER.join(',')}\n`);
  let buf: string[] = [];
  for (let i = 0; i < rows; i++) {
    buf.push(rowAt(i));
    if (buf.length === 10_000) {
      if (!out.write(`${buf.join('\n')}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = [];
    }
  }
  if (buf.length) out.write(`${buf.join('\n')}\n`);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return fs.statSync(filePath).size;
}
