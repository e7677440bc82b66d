// Validates one source record (Upstox JSON/NDJSON or Kite CSV row) into an Instrument, or says what is wrong with it.
import { canonicalRecord, unstorableText, type CanonicalRecord } from './row-hash';
import type { Instrument, InstrumentCategory, InvalidInstrument } from './types';

/** Longest text each typed column holds (both dialects size their columns from this). */
export const TEXT_LIMITS = {
  instrumentKey: 255,
  segment: 50,
  exchange: 50,
  instrumentType: 50,
  name: 500,
  tradingSymbol: 255,
  isin: 50,
  underlyingKey: 255,
  optionType: 10,
} as const;

/** numeric(20,6) / decimal(20,6): 14 integer digits. */
const MAX_MAGNITUDE = 1e14;
/** Expiries are Indian dates: epoch milliseconds are read at UTC+05:30 (India has no daylight saving). */
const IST_OFFSET_MS = 5.5 * 60 * 60 * 1000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** 1e11 ms is March 1973: no instrument in a current master expired before it, while 1e11 s is the year 5138. */
const MIN_EPOCH_MS = 1e11;
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const FNO_SEGMENT = /^(NSE_FO|BSE_FO|NFO|BFO)(-|$)/;
const RAW_TEXT_LIMIT = 10_000;

export type RecordResult = { ok: true; instrument: Instrument } | { ok: false; invalid: InvalidInstrument };

/** F&O means equity derivatives on NSE/BSE (Upstox NSE_FO, BSE_FO; Kite NFO-FUT, BFO-OPT…); commodities are "other". */
export function categoryOf(segment: string | null, instrumentType: string | null): InstrumentCategory {
  if (segment && FNO_SEGMENT.test(segment)) return 'fno';
  if (instrumentType === 'EQ') return 'equity';
  return 'other';
}

function rawTextOf(raw: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(raw) ?? String(raw);
  } catch {
    text = String(raw);
  }
  return text.length > RAW_TEXT_LIMIT ? `${text.slice(0, RAW_TEXT_LIMIT)}…` : text;
}

/** A text field as the typed columns hold it: trimmed, empty or absent as null (objects are for FieldReader to refuse). */
export function textOf(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  const s = String(value).trim();
  return s === '' ? null : s;
}

/** Dates of expiry instants seen lately: a master's options share a few dozen expiries. */
const indianDates = new Map<number, string>();

/** The date in India (UTC+05:30) of an instant, as yyyy-MM-dd. */
function indianDateOf(epochMs: number): string {
  let iso = indianDates.get(epochMs);
  if (iso === undefined) {
    iso = new Date(epochMs + IST_OFFSET_MS).toISOString().slice(0, 10);
    if (indianDates.size >= 4096) indianDates.clear();
    indianDates.set(epochMs, iso);
  }
  return iso;
}

class FieldReader {
  readonly errors: string[] = [];
  constructor(private readonly raw: Record<string, unknown>) {}

  private first(names: readonly string[]): { name: string; value: unknown } {
    for (const name of names) {
      const value = this.raw[name];
      if (value !== undefined && value !== null && value !== '') return { name, value };
    }
    return { name: names[0]!, value: null };
  }

  text(names: readonly string[], limit: number): string | null {
    const { name, value } = this.first(names);
    if (value === null) return null;
    if (typeof value === 'object') {
      this.errors.push(`${name} must be text, not ${Array.isArray(value) ? 'a list' : 'an object'}`);
      return null;
    }
    const s = textOf(value);
    if (s !== null && s.length > limit) this.errors.push(`${name} is ${s.length} characters long; at most ${limit} fit`);
    return s;
  }

  number(names: readonly string[], positive: boolean): number | null {
    const { name, value } = this.first(names);
    if (value === null) return null;
    const n = typeof value === 'number' ? value : typeof value === 'string' && NUMERIC.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isFinite(n)) {
      this.errors.push(`${name} must be a number, got ${JSON.stringify(value)}`);
      return null;
    }
    if (Math.abs(n) >= MAX_MAGNITUDE) this.errors.push(`${name} ${n} is out of range`);
    else if (positive && n <= 0) this.errors.push(`${name} must be greater than 0, got ${n}`);
    return n;
  }

  date(names: readonly string[]): string | null {
    const { name, value } = this.first(names);
    if (value === null) return null;
    const epochMs = typeof value === 'number' ? value : typeof value === 'string' && /^\d{10,13}$/.test(value.trim()) ? Number(value.trim()) : null;
    let iso: string | null = null;
    // Epoch seconds read as milliseconds would be a date in January 1970, and load as one without complaint.
    if (epochMs !== null && epochMs > 0 && epochMs < MIN_EPOCH_MS) {
      this.errors.push(`${name} ${JSON.stringify(value)} is not epoch milliseconds (as milliseconds it is a date before 1973: epoch seconds?); it must be epoch milliseconds or yyyy-MM-dd`);
      return null;
    }
    // Past ±8.64e15 ms a Date is invalid (toISOString would throw): such a number is simply not a date.
    if (epochMs !== null && Number.isInteger(epochMs) && epochMs > 0 && epochMs < 8.64e15 - IST_OFFSET_MS) {
      iso = indianDateOf(epochMs);
    } else if (typeof value === 'string') {
      const m = ISO_DATE.exec(value.trim());
      const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
      // Impossible dates (2024-02-30) roll over; the round trip catches them.
      if (d && d.toISOString().slice(0, 10) === value.trim()) iso = value.trim();
    }
    const year = iso ? Number(iso.slice(0, 4)) : 0;
    if (!iso || year < 1970 || year > 2200) {
      this.errors.push(`${name} must be epoch milliseconds or yyyy-MM-dd, got ${JSON.stringify(value)}`);
      return null;
    }
    return iso;
  }

  boolean(names: readonly string[]): boolean | null {
    const { name, value } = this.first(names);
    if (value === null) return null;
    // Any case: `True` / `False` is how Python writes them into CSV files.
    const token = typeof value === 'string' ? value.trim().toLowerCase() : value;
    if (token === true || token === 1 || token === 'true' || token === '1') return true;
    if (token === false || token === 0 || token === 'false' || token === '0') return false;
    this.errors.push(`${name} must be true or false, got ${JSON.stringify(value)}`);
    return null;
  }
}

/**
 * The instrument's key: Upstox's `instrument_key`; a Kite row has none, so `<exchange>|<instrument_token>`
 * (Kite's own stable id) stands in.
 */
export function instrumentKeyOf(raw: Record<string, unknown>): string | null {
  const key = raw.instrument_key;
  if (typeof key === 'string' && key.trim() !== '') return key.trim();
  if (typeof key === 'number') return String(key);
  const token = raw.instrument_token;
  const exchange = raw.exchange;
  if ((typeof token === 'string' || typeof token === 'number') && String(token).trim() !== '' && typeof exchange === 'string' && exchange.trim() !== '') {
    return `${exchange.trim()}|${String(token).trim()}`;
  }
  return null;
}

/**
 * Validates one record; `rowNumber` is its 1-based position among the file's records. `canon` is the record's
 * canonical form when the caller computed it already.
 */
export function validateRecord(raw: unknown, rowNumber: number, canon?: CanonicalRecord | { problem: string }): RecordResult {
  const invalid = (errors: string[], instrumentKey: string | null = null): RecordResult => ({
    ok: false,
    invalid: { rowNumber, instrumentKey, rawText: rawTextOf(raw), errors },
  });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return invalid(['the record is not an object']);
  const record = raw as Record<string, unknown>;
  const key = instrumentKeyOf(record);
  if (key === null) return invalid(['instrument_key is missing']);
  const keyProblem = unstorableText(key);
  if (keyProblem) return invalid([`instrument_key ${keyProblem}`]);
  if (key.length > TEXT_LIMITS.instrumentKey) return invalid([`instrument_key is ${key.length} characters long; at most ${TEXT_LIMITS.instrumentKey} fit`]);

  const f = new FieldReader(record);
  const instrumentType = f.text(['instrument_type'], TEXT_LIMITS.instrumentType);
  const segment = f.text(['segment'], TEXT_LIMITS.segment);
  const optionType = f.text(['option_type'], TEXT_LIMITS.optionType) ?? (instrumentType === 'CE' || instrumentType === 'PE' ? instrumentType : null);
  const fields = {
    segment,
    exchange: f.text(['exchange'], TEXT_LIMITS.exchange),
    instrumentType,
    name: f.text(['name'], TEXT_LIMITS.name),
    tradingSymbol: f.text(['trading_symbol', 'tradingsymbol'], TEXT_LIMITS.tradingSymbol),
    isin: f.text(['isin'], TEXT_LIMITS.isin),
    expiry: f.date(['expiry']),
    strikePrice: f.number(['strike_price', 'strike'], false),
    lotSize: f.number(['lot_size'], true),
    tickSize: f.number(['tick_size'], true),
    freezeQuantity: f.number(['freeze_quantity'], true),
    underlyingKey: f.text(['underlying_key'], TEXT_LIMITS.underlyingKey),
    optionType,
    weekly: f.boolean(['weekly']),
  };
  const c = canon ?? canonicalRecord(record);
  if ('problem' in c) f.errors.push(`the record cannot be stored: ${c.problem}`);
  if (f.errors.length > 0 || 'problem' in c) return invalid(f.errors, key);
  return {
    ok: true,
    instrument: { instrumentKey: key, ...fields, category: categoryOf(segment, instrumentType), rowHash: c.hash, sourceRecord: c.json() },
  };
}
