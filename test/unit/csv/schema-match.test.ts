// Matching a file's columns to an existing table's.
import { describe, expect, it } from 'vitest';
import { MATCH_THRESHOLD, matchSchema } from '../../../src/csv';

describe('matchSchema', () => {
  it('matches ignoring case, spaces and underscores', () => {
    const match = matchSchema(['Customer ID', 'Name', 'created_at'], ['customer_id', 'NAME', 'CreatedAt']);
    expect(match).toEqual({
      percent: 100,
      mapping: [
        { file: 'Customer ID', table: 'customer_id' },
        { file: 'Name', table: 'NAME' },
        { file: 'created_at', table: 'CreatedAt' },
      ],
      missing: [],
      extra: [],
      isAcceptable: true,
    });
  });

  it.each<[string, string[], string[], number, boolean]>([
    ['7 of 10 is the threshold', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'x', 'y', 'z'], ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'], 70, true],
    ['2 of 3 is below it', ['a', 'b', 'x'], ['a', 'b', 'c'], 66.7, false],
    ['more table columns count against', ['a', 'b'], ['a', 'b', 'c', 'd'], 50, false],
    ['more file columns count against', ['a', 'b', 'c', 'd'], ['a', 'b', 'c'], 75, true],
    ['the load id column is ignored', ['a', 'b'], ['a', 'b', 'refdata_load_id'], 100, true],
    ['nothing to compare', [], [], 0, false],
  ])('%s', (_name, file, table, percent, acceptable) => {
    const match = matchSchema(file, table);
    expect(match.percent).toBe(percent);
    expect(match.isAcceptable).toBe(acceptable);
  });

  it('lists missing and extra columns, and maps each table column once', () => {
    const match = matchSchema(['id', 'ID', 'price', 'note'], ['id', 'price', 'currency']);
    expect(match.mapping).toEqual([
      { file: 'id', table: 'id' },
      { file: 'price', table: 'price' },
    ]);
    expect(match.extra).toEqual(['ID', 'note']);
    expect(match.missing).toEqual(['currency']);
    expect(match.percent).toBe(50);
  });

  it('exports the threshold', () => {
    expect(MATCH_THRESHOLD).toBe(70);
  });
});
