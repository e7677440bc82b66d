// Generated Upstox-style instrument masters (day 1, day 2 …) and a loopback HTTP server that plays the broker.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

/** One record as Upstox's complete.json has it (the fields refdata types, plus a few it only keeps). */
export interface UpstoxRecord {
  instrument_key: string;
  segment: string;
  exchange: string;
  instrument_type: string;
  name: string;
  trading_symbol: string;
  exchange_token: string;
  lot_size: number;
  tick_size: number;
  isin?: string;
  expiry?: number;
  strike_price?: number;
  freeze_quantity?: number;
  underlying_key?: string;
  weekly?: boolean;
  last_price?: number;
  [extra: string]: unknown;
}

export interface MasterSpec {
  equities: number;
  indices: number;
  futures: number;
  options: number;
  mcx: number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
/** Expiry at 15:30 IST on the given date, as epoch milliseconds (how Upstox writes it). */
const expiryMs = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d, 10, 0, 0);
const dateLabel = (y: number, m: number, d: number) => `${String(d).padStart(2, '0')} ${MONTHS[m - 1]} ${String(y).slice(2)}`;

function equity(i: number): UpstoxRecord {
  const isin = `INE${String(i).padStart(6, '0')}01`;
  return {
    instrument_key: `NSE_EQ|${isin}`, segment: 'NSE_EQ', exchange: 'NSE', instrument_type: 'EQ', name: `COMPANY ${i} LIMITED`,
    trading_symbol: `SYM${i}`, exchange_token: String(1000 + i), isin, lot_size: 1, tick_size: 0.05, freeze_quantity: 100000, last_price: 100 + (i % 900),
    short_name: `Company ${i}`, security_type: 'NORMAL',
  };
}

function index(i: number): UpstoxRecord {
  return {
    instrument_key: `NSE_INDEX|Index ${i}`, segment: 'NSE_INDEX', exchange: 'NSE', instrument_type: 'INDEX', name: `Index ${i}`,
    trading_symbol: `INDEX${i}`, exchange_token: String(90000 + i), lot_size: 1, tick_size: 0.05,
  };
}

function future(i: number): UpstoxRecord {
  const m = (i % 3) + 2;
  return {
    instrument_key: `NSE_FO|${50000 + i}`, segment: 'NSE_FO', exchange: 'NSE', instrument_type: 'FUT', name: i === 0 ? 'NIFTY' : `STOCK${i}`,
    trading_symbol: `${i === 0 ? 'NIFTY' : `STOCK${i}`} FUT ${dateLabel(2024, m, 28)}`, exchange_token: String(50000 + i), expiry: expiryMs(2024, m, 28),
    lot_size: 50, tick_size: 0.05, freeze_quantity: 1800, underlying_key: 'NSE_INDEX|Nifty 50', weekly: false,
  };
}

/** NIFTY weekly options: `NIFTY 19650 CE 15 FEB 24`. `token` keeps keys unique across days. */
export function option(token: number): UpstoxRecord {
  const strike = 18000 + (token % 80) * 50;
  const type = token % 2 === 0 ? 'CE' : 'PE';
  const day = 1 + (Math.floor(token / 160) % 28);
  return {
    instrument_key: `NSE_FO|${token}`, segment: 'NSE_FO', exchange: 'NSE', instrument_type: type, name: 'NIFTY',
    trading_symbol: `NIFTY ${strike} ${type} ${dateLabel(2024, 2, day)}`, exchange_token: String(token), expiry: expiryMs(2024, 2, day),
    strike_price: strike, lot_size: 50, tick_size: 0.05, freeze_quantity: 1800, underlying_key: 'NSE_INDEX|Nifty 50', weekly: true,
    minimum_lot: 50, asset_symbol: 'NIFTY',
  };
}

function mcx(i: number): UpstoxRecord {
  return {
    instrument_key: `MCX_FO|${400000 + i}`, segment: 'MCX_FO', exchange: 'MCX', instrument_type: 'FUT', name: i % 2 ? 'CRUDEOIL' : 'GOLD',
    trading_symbol: `${i % 2 ? 'CRUDEOIL' : 'GOLD'} FUT ${dateLabel(2024, (i % 12) + 1, 19)}`, exchange_token: String(400000 + i),
    expiry: expiryMs(2024, (i % 12) + 1, 19), lot_size: 100, tick_size: 1, freeze_quantity: 10000,
  };
}

export const OPTION_TOKEN_BASE = 100_000;

/** A deterministic master with exactly the given numbers of each kind. */
export function masterRecords(spec: MasterSpec): UpstoxRecord[] {
  const out: UpstoxRecord[] = [];
  for (let i = 0; i < spec.equities; i++) out.push(equity(i));
  for (let i = 0; i < spec.indices; i++) out.push(index(i));
  for (let i = 0; i < spec.futures; i++) out.push(future(i));
  for (let i = 0; i < spec.options; i++) out.push(option(OPTION_TOKEN_BASE + i));
  for (let i = 0; i < spec.mcx; i++) out.push(mcx(i));
  return out;
}

/**
 * The next day's master: the first `remove` options expire (gone), the first `modify` equities change lot size,
 * `add` new options are listed, and every equity's last_price moves (which must not count as a change).
 */
export function nextDay(day: UpstoxRecord[], change: { remove: number; modify: number; add: number }): UpstoxRecord[] {
  let removed = 0;
  let modified = 0;
  const maxToken = day.reduce((max, r) => (r.instrument_type === 'CE' || r.instrument_type === 'PE' ? Math.max(max, Number(r.exchange_token)) : max), OPTION_TOKEN_BASE);
  const out: UpstoxRecord[] = [];
  for (const r of day) {
    const isOption = r.instrument_type === 'CE' || r.instrument_type === 'PE';
    if (isOption && removed < change.remove) {
      removed++;
      continue;
    }
    if (r.instrument_type === 'EQ' && modified < change.modify) {
      modified++;
      out.push({ ...r, lot_size: r.lot_size + 1, last_price: (r.last_price ?? 0) + 1 });
      continue;
    }
    out.push(r.instrument_type === 'EQ' ? { ...r, last_price: (r.last_price ?? 0) + 2 } : r);
  }
  for (let i = 1; i <= change.add; i++) out.push(option(maxToken + i));
  return out;
}

export const toJsonArray = (records: unknown[]) => Buffer.from(`[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
export const toNdjson = (records: unknown[]) => Buffer.from(`${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
export const gzip = (buf: Buffer) => zlib.gzipSync(buf);

/** Kite's instruments.csv columns; `instrument_key` is derived by refdata as `<exchange>|<instrument_token>`. */
export function toKiteCsv(records: UpstoxRecord[]): Buffer {
  const header = 'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange';
  const lines = records.map((r) => {
    const expiry = r.expiry ? new Date(r.expiry + 5.5 * 3600_000).toISOString().slice(0, 10) : '';
    const name = r.name.includes(',') ? `"${r.name}"` : r.name;
    return [r.exchange_token, r.exchange_token, r.trading_symbol, name, r.last_price ?? 0, expiry, r.strike_price ?? 0, r.tick_size, r.lot_size, r.instrument_type, r.segment, r.exchange].join(',');
  });
  return Buffer.from(`${header}\n${lines.join('\n')}\n`);
}

export interface Route {
  status?: number;
  body?: Buffer;
  headers?: Record<string, string>;
  /** Answer only when the request carries this Authorization header; 401 otherwise. */
  requireAuthorization?: string;
  /** Hold the answer this long (a slow broker keeps a sync running). */
  delayMs?: number;
}

export interface BrokerServer {
  url(path: string): string;
  set(path: string, route: Route): void;
  /** Requests seen, newest last: path and Authorization header. */
  requests: { path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** The broker's file server on 127.0.0.1: the one thing tests stand in for, as the real broker is out of reach. */
export async function startBroker(): Promise<BrokerServer> {
  const routes = new Map<string, Route>();
  const requests: BrokerServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push({ path, authorization: req.headers.authorization });
    const route = routes.get(path);
    if (!route) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    if (route.requireAuthorization && req.headers.authorization !== route.requireAuthorization) return void res.writeHead(401).end('unauthorized');
    const answer = () => {
      res.writeHead(route.status ?? 200, { 'content-type': 'application/octet-stream', ...(route.headers ?? {}) });
      res.end(route.body ?? '');
    };
    if (route.delayMs) setTimeout(answer, route.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    set: (path, route) => void routes.set(path, route),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
