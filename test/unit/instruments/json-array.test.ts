// Streaming a JSON array's elements from text chunks split anywhere, and refusing what is not a whole array.
import { describe, expect, it } from 'vitest';
import { JsonShapeError, jsonArrayElements } from '../../../src/instruments/json-array';

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
  ])('%j is refused', async (text, message) => {
    await expect(collect([text])).rejects.toThrow(JsonShapeError);
    await expect(collect([text])).rejects.toThrow(message);
  });

  it('an empty array has no elements', async () => {
    expect(await collect(['[', ' ', ']'])).toEqual([]);
  });
});
