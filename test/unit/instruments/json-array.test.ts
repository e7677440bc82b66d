// Streaming a JSON array's elements from text chunks split anywhere, and refusing what is not a whole array.
import { describe, expect, it } from 'vitest';
import { JsonArraySplitter, JsonShapeError, jsonArrayBatches, jsonArrayElements } from '../../../src/instruments/json-array';

async function collect(chunks: string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const v of jsonArrayElements(source())) out.push(v);
  return out;
}

const doc = JSON.stringify([{ a: 1, b: [1, { c: 'x"y' }], d: null, e: true }, 'scalar', [2, 3], { __proto__: 'kept', u: '\u20ac' }]);

describe('jsonArrayElements', () => {
  it('yields each element whole, wherever the chunks split the text', async () => {
    const want = JSON.parse(doc) as unknown[];
    expect(await collect([doc])).toEqual(want);
    for (const size of [1, 2, 3, 7]) {
      const chunks: string[] = [];
      for (let i = 0; i < doc.length; i += size) chunks.push(doc.slice(i, i + size));
      expect(await collect(chunks)).toEqual(want);
    }
  });

  it('keeps a "__proto__" key as data, as JSON.parse does', async () => {
    const [, , , last] = await collect(['[1,2,3,{"__proto__":{"x":1}}]']);
    expect(Object.getPrototypeOf(last)).toBe(Object.prototype);
    expect(Object.keys(last as object)).toEqual(['__proto__']);
  });

  it.each([
    ['[{"a":1},{"b":', /cut off/],
    ['[{"a":1}', /cut off|malformed/],
    ['{"a":1}', /a JSON object, not an array/],
    ['[1] [2]', /malformed|more JSON/],
    ['[1,}', /malformed/],
    ['[1,]', /comma before the closing bracket/],
    ['[,1]', /unexpected "," where a record should be/],
    ['[{"a":1} x {"b":2}]', /unexpected "x" between records \(after 1 records\)/],
    ['[{"a":1}{"b":2}]', /unexpected "\{" between records/],
    ['[{"a":1},{"b":2,}]', /malformed.*in records 1–2/],
    ['[{"a":1}]]', /more JSON after its array/],
    ['[{"a":"open string}]', /cut off/],
    ['[{"a":"x\\"}]', /cut off/],
    ['[tru]', /malformed/],
    ['', /not a JSON array/],
    ['"text"', /not a JSON array/],
  ])('%j is refused', async (text, message) => {
    await expect(collect([text])).rejects.toThrow(JsonShapeError);
    await expect(collect([text])).rejects.toThrow(message);
  });

  it('an empty array has no elements', async () => {
    expect(await collect(['[', ' ', ']'])).toEqual([]);
  });

  it('finds the ends of records around escaped quotes and backslashes, unicode escapes and brackets inside strings', async () => {
    const records = [{ a: 'q"}]', b: '\\' }, { c: '\\"[{', d: '\u00e9\ud83d\ude00' }, { e: ['}', { f: ']' }] }];
    const text = `[${records.map((r) => JSON.stringify(r)).join(',')}]`.replace('é', '\\u00e9');
    for (const size of [1, 2, 5, 64]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      expect(await collect(chunks)).toEqual(records);
    }
  });

  it('carries a string value larger than a chunk across many chunks', async () => {
    const big = 'x'.repeat(300_000) + '"\\' + 'y'.repeat(100_000);
    const text = JSON.stringify([{ k: 1 }, { huge: big }, { k: 2 }]);
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 65_536) chunks.push(text.slice(i, i + 65_536));
    const got = (await collect(chunks)) as Record<string, unknown>[];
    expect(got).toHaveLength(3);
    expect(got[1]!.huge).toBe(big);
  });

  it('hands out every record a chunk completes at once, and keeps only the unfinished one', () => {
    const splitter = new JsonArraySplitter();
    expect(splitter.push('[{"a":1}, {"a":2}, {"a"')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(splitter.push(':3}, 4, "five", nu')).toEqual([{ a: 3 }, 4, 'five']);
    expect(splitter.push('ll, true]  \n')).toEqual([null, true]);
    expect(splitter.ended).toBe(true);
    expect(() => splitter.end()).not.toThrow();
  });

  it('skips a byte order mark and whitespace around the array', async () => {
    expect(await collect(['\uFEFF \n[ {"a" : 1} \n, 2 ]\n'])).toEqual([{ a: 1 }, 2]);
  });

  it('batches: one array per chunk that completes records', async () => {
    async function* source() {
      yield '[1,2';
      yield ',3';
      yield ']';
    }
    const batches: unknown[][] = [];
    for await (const b of jsonArrayBatches(source())) batches.push(b);
    expect(batches).toEqual([[1], [2], [3]]);
  });
});
