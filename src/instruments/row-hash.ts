// Canonical JSON of a source record and the row hash that tells a changed instrument from an unchanged one.
import { hash } from 'node:crypto';

/**
 * Fields that change every day without the instrument changing (Kite's and Upstox's CSV carry the previous
 * close as `last_price`). They stay in the stored record but do not count as a change, or every row would be
 * rewritten every day.
 */
export const VOLATILE_FIELDS: ReadonlySet<string> = new Set(['last_price']);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

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

/** What is known about one key order (a broker's records share a few), worked out once. */
interface Shape {
  keys: string[];
  /** All keys sorted: the stored JSON. */
  sorted: string[];
  /** Sorted keys without the volatile ones: what is hashed. */
  stable: string[];
  /** `{"key":` / `,"key":` before each stable key's value. */
  prefixes: string[];
  /** The same for every key (the stored JSON). */
  sortedPrefixes: string[];
  volatile: string[];
  keyProblem: string | null;
}

/** The key orders seen last, most recent first. */
const shapes: Shape[] = [];
const MAX_SHAPES = 8;

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function shapeOf(keys: string[]): Shape {
  for (let i = 0; i < shapes.length; i++) {
    const s = shapes[i]!;
    if (sameKeys(s.keys, keys)) {
      if (i > 0) {
        shapes.splice(i, 1);
        shapes.unshift(s);
      }
      return s;
    }
  }
  const sorted = [...keys].sort();
  const stable = sorted.filter((k) => !VOLATILE_FIELDS.has(k));
  let keyProblem: string | null = null;
  for (const k of keys) keyProblem ??= unstorableText(k);
  const shape = {
    keys, sorted, stable, keyProblem,
    prefixes: stable.map((k, i) => `${i === 0 ? '{' : ','}${JSON.stringify(k)}:`),
    sortedPrefixes: sorted.map((k, i) => `${i === 0 ? '{' : ','}${JSON.stringify(k)}:`),
    volatile: sorted.filter((k) => VOLATILE_FIELDS.has(k)),
  };
  shapes.unshift(shape);
  if (shapes.length > MAX_SHAPES) shapes.pop();
  return shape;
}

/** A string JSON.stringify writes as it is between quotes: no quote, backslash, control character or surrogate. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A non-string scalar as JSON.stringify writes it; undefined for anything else. */
function scalarJson(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return v === null ? 'null' : undefined;
}

/**
 * A flat record (every value a scalar), the usual case: its canonical JSON is written by concatenating the
 * keys' cached prefixes and the values, the same text as `JSON.stringify(record, stableKeys)` at a third of
 * the cost (the key-list form of JSON.stringify is V8's slow path). Null when the record is not flat.
 */
function flatCanonical(record: Record<string, unknown>, keys: string[]): CanonicalRecord | { problem: string } | null {
  const shape = shapeOf(keys);
  let unstorable = shape.keyProblem !== null;
  for (const k of keys) {
    const v = record[k];
    if (typeof v === 'string') unstorable ||= NEEDS_ESCAPE.test(v) && unstorableText(v) !== null;
    // Objects, arrays (and undefined, which no parsed file holds) take the general path.
    else if (scalarJson(v) === undefined) return null;
  }
  if (unstorable) return { problem: 'a field name or value contains a NUL character or an unpaired UTF-16 surrogate' };
  const text = writeFlat(record, shape.stable, shape.prefixes);
  // Without volatile fields the stored JSON is the hashed text; otherwise it is written when needed (most
  // records are unchanged and never need it).
  const json = shape.volatile.length === 0 ? () => text : () => writeFlat(record, shape.sorted, shape.sortedPrefixes);
  return { hash: hash('sha256', text, 'hex'), json };
}

/** JSON of a flat record's `keys` (values known to be scalars), as JSON.stringify(record, keys) writes it. */
function writeFlat(record: Record<string, unknown>, keys: string[], prefixes: string[]): string {
  if (keys.length === 0) return '{}';
  // Pieces go into one reused array and are joined once: no intermediate strings per field.
  const parts = PARTS;
  let n = 0;
  for (let i = 0; i < keys.length; i++) {
    const v = record[keys[i]!];
    parts[n++] = prefixes[i]!;
    if (typeof v === 'string') {
      if (NEEDS_ESCAPE.test(v)) {
        parts[n++] = JSON.stringify(v);
      } else {
        parts[n++] = '"';
        parts[n++] = v;
        parts[n++] = '"';
      }
    } else {
      parts[n++] = scalarJson(v)!;
    }
  }
  parts[n++] = '}';
  parts.length = n;
  return parts.join('');
}

/** The pieces of the record being written (module-level: reused, never shared across an await). */
const PARTS: string[] = [];

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
