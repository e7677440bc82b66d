// Canonical JSON of a source record and the row hash that tells a changed instrument from an unchanged one.
import { hash } from 'node:crypto';

/**
 * Fields that change every day without the instrument changing (Kite's and Upstox's CSV carry the previous
 * close as `last_price`). They stay in the stored record but do not count as a change, or every row would be
 * rewritten every day.
 */
export const VOLATILE_FIELDS: ReadonlySet<string> = new Set(['last_price']);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * In JSON.stringify's output, NUL and unpaired surrogates are the only characters written as these escapes
 * (paired surrogates are written as they are); an even run of backslashes before them is escaped text instead.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/** Text the databases cannot store: NUL (PostgreSQL text/jsonb refuse it) and unpaired UTF-16 surrogates. */
export function unstorableText(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate';
  return null;
}

class UnstorableValue extends Error {}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'string') {
      const problem = unstorableText(value);
      if (problem) throw new UnstorableValue(problem);
    }
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
}

export interface CanonicalRecord {
  /** SHA-256 hex of the record without volatile fields: what decides "changed". */
  hash: string;
  /** The whole record, keys sorted: what is stored. Built on demand, as an unchanged record never needs it. */
  json(): string;
}

/** Sorted key lists of the last key order seen: a broker's records all share one, so sorting happens once. */
let lastKeys: string[] = [];
let lastSorted: string[] = [];
let lastStable: string[] = [];

function sortedKeysOf(keys: string[]): { sorted: string[]; stable: string[] } {
  if (keys.length !== lastKeys.length || keys.some((k, i) => k !== lastKeys[i])) {
    lastKeys = keys;
    lastSorted = [...keys].sort();
    lastStable = lastSorted.filter((k) => !VOLATILE_FIELDS.has(k));
  }
  return { sorted: lastSorted, stable: lastStable };
}

/** A flat record (every value a scalar), the usual case, is serialised by one native call per form. */
function flatCanonical(record: Record<string, unknown>, keys: string[]): CanonicalRecord | { problem: string } | null {
  for (const k of keys) {
    const v = record[k];
    if (v !== null && typeof v === 'object') return null;
  }
  const { sorted, stable } = sortedKeysOf(keys);
  // With a key list, JSON.stringify writes exactly those keys in that order (and would filter nested ones too).
  const hashed = JSON.stringify(record, stable);
  // A volatile field is not hashed, so it is checked on its own.
  const checked = stable.length === sorted.length ? hashed : `${hashed}${JSON.stringify(sorted.filter((k) => VOLATILE_FIELDS.has(k)).map((k) => [k, record[k]]))}`;
  if (UNSTORABLE_ESCAPE.test(checked)) return { problem: 'a field name or value contains a NUL character or an unpaired UTF-16 surrogate' };
  // json() serialises again rather than keeping `hashed`: most records are unchanged and never need it, and a
  // batch of kept strings would be promoted to the old generation for nothing.
  return { hash: hash('sha256', hashed, 'hex'), json: () => JSON.stringify(record, sorted) };
}

/** Canonical form and row hash of a record, or the reason it cannot be stored. */
export function canonicalRecord(record: Record<string, unknown>): CanonicalRecord | { problem: string } {
  const keys = Object.keys(record);
  const flat = flatCanonical(record, keys);
  if (flat) return flat;
  try {
    const entries: string[] = [];
    const stable: string[] = [];
    for (const key of [...keys].sort()) {
      const keyProblem = unstorableText(key);
      if (keyProblem) return { problem: `a field name ${keyProblem}` };
      const entry = `${JSON.stringify(key)}:${canonical(record[key])}`;
      entries.push(entry);
      if (!VOLATILE_FIELDS.has(key)) stable.push(entry);
    }
    const json = `{${entries.join(',')}}`;
    return { hash: hash('sha256', `{${stable.join(',')}}`, 'hex'), json: () => json };
  } catch (err) {
    if (err instanceof UnstorableValue) return { problem: `a value ${err.message}` };
    throw err;
  }
}
