// Ranking existing tables for a file that would make a new one: best column match first, ties broken predictably.
import { describe, expect, it } from 'vitest';
import { suggestTables, type CandidateTable } from '../../../src/csv/table-suggestions';

const airports: CandidateTable = { schema: 'ref', name: 'airports', columns: ['code', 'name', 'city', 'elevation'] };
const airlines: CandidateTable = { schema: 'ref', name: 'airlines', columns: ['code', 'name', 'country'] };
const trades: CandidateTable = { schema: 'data', name: 'trades', columns: ['trade_id', 'qty', 'price'] };

describe('suggestTables', () => {
  it('ranks by match percentage and gives the columns either side lacks', () => {
    const s = suggestTables(['Code', 'Name', 'City', 'Elevation'], [airlines, trades, airports]);
    expect(s).toEqual([
      { table: 'ref.airports', percent: 100, matched: 4, missing: [], extra: [] },
      { table: 'ref.airlines', percent: 50, matched: 2, missing: ['country'], extra: ['City', 'Elevation'] },
    ]);
  });

  it('leaves out tables that share no column, and answers nothing when there are no tables', () => {
    expect(suggestTables(['a', 'b'], [airports, trades])).toEqual([]);
    expect(suggestTables(['code'], [])).toEqual([]);
  });

  it('breaks equal percentages by more paired columns, then the file\'s own schema, then name', () => {
    const small: CandidateTable = { schema: 'data', name: 'small', columns: ['code', 'name'] };
    const wide: CandidateTable = { schema: 'data', name: 'wide', columns: ['code', 'name', 'x', 'y'] };
    // 2 of 4 (50 %) for `small` and 2 of 4 for `wide`: same percent, same pairs; then schema and name decide.
    const refTwin: CandidateTable = { schema: 'ref', name: 'twin', columns: ['code', 'name', 'x', 'y'] };
    expect(suggestTables(['code', 'name', 'p', 'q'], [wide, small, refTwin], { schema: 'ref' }).map((t) => t.table)).toEqual(['ref.twin', 'data.small', 'data.wide']);
    expect(suggestTables(['code', 'name', 'p', 'q'], [wide, small, refTwin], { schema: 'data' }).map((t) => t.table)).toEqual(['data.small', 'data.wide', 'ref.twin']);
    // Same percent, more pairs first: 4 of 8 beats 2 of 4 (the file's 4 columns).
    const many: CandidateTable = { schema: 'data', name: 'many', columns: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] };
    const few: CandidateTable = { schema: 'data', name: 'few', columns: ['a', 'b'] };
    expect(suggestTables(['a', 'b', 'c', 'd'], [few, many]).map((t) => [t.table, t.percent, t.matched])).toEqual([['data.many', 50, 4], ['data.few', 50, 2]]);
  });

  it('keeps the best `limit` (3 by default)', () => {
    const tables = ['t1', 't2', 't3', 't4'].map((name, i) => ({ schema: 'data', name, columns: ['k', ...Array.from({ length: i }, (_, j) => `c${j}`)] }));
    expect(suggestTables(['k'], tables).map((t) => t.table)).toEqual(['data.t1', 'data.t2', 'data.t3']);
    expect(suggestTables(['k'], tables, { limit: 1 }).map((t) => t.table)).toEqual(['data.t1']);
  });
});
