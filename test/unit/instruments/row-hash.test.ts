// The row hash: the fast path for flat records writes exactly what JSON.stringify with sorted keys writes, so
// hashes stored by earlier releases still match, and refuses text the databases cannot store.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalRecord, VOLATILE_FIELDS } from '../../../src/instruments/row-hash';

/** The definition: SHA-256 of JSON.stringify with the non-volatile keys sorted. */
function referenceHash(record: Record<string, unknown>): string {
  const stable = Object.keys(record).sort().filter((k) => !VOLATILE_FIELDS.has(k));
  return createHash('sha256').update(JSON.stringify(record, stable)).digest('hex');
}

const ok = (r: Record<string, unknown>) => {
  const c = canonicalRecord(r);
  if ('problem' in c) throw new Error(c.problem);
  return c;
};

const values: unknown[] = [
  '', 'plain', 'é ü', 'quote " inside', 'back\\slash', 'tab\tnew\nline', '\u001f', '\u007f', '\u2028\u2029', '😀 pair', '\\u0000 as text',
  'x'.repeat(100_000), 0, -0, 1.5, -3, 1e21, 1e-7, 123456789.123, true, false, null,
];

describe('canonicalRecord', () => {
  it.each(values.map((v) => [v]))('writes %j as JSON.stringify does', (v) => {
    const record = { instrument_key: 'NSE_EQ|1', value: v, segment: 'NSE_EQ', last_price: 10 };
    expect(ok(record).hash).toBe(referenceHash(record));
    expect(ok(record).json()).toBe(JSON.stringify(record, Object.keys(record).sort()));
  });

  it('gives the same hash whatever the key order, and several key orders in turn', () => {
    const a = { instrument_key: 'K', segment: 'NSE_FO', lot_size: 50, expiry: 1709028000000 };
    const b = { expiry: 1709028000000, lot_size: 50, segment: 'NSE_FO', instrument_key: 'K' };
    const c = { instrument_key: 'K', segment: 'NSE_FO' };
    for (let i = 0; i < 20; i++) {
      for (const r of [a, b, c, { ...c, [`extra${i}`]: i }]) expect(ok(r).hash).toBe(referenceHash(r));
    }
    expect(ok(a).hash).toBe(ok(b).hash);
  });

  it('nested values take the general path and still sort keys at every level', () => {
    const r = { z: { b: 1, a: [2, { d: 1, c: 'x' }] }, a: 1 };
    expect(ok(r).json()).toBe('{"a":1,"z":{"a":[2,{"c":"x","d":1}],"b":1}}');
  });

  it('an empty record has a hash', () => {
    expect(ok({}).hash).toBe(referenceHash({}));
  });

  it.each([
    [{ k: 'nul \u0000 inside' }],
    [{ k: 'lone \ud800 high' }],
    [{ k: 'lone \udc00 low' }],
    [{ 'key\u0000': 'v' }],
    [{ k: 'v', last_price: 'nul \u0000' }],
  ])('refuses unstorable text in %j', (r) => {
    expect(canonicalRecord(r as Record<string, unknown>)).toHaveProperty('problem');
  });
});
