// Matching a file's columns to an existing table's.
import { describe, expect, it } from 'vitest';
import { MATCH_THRESHOLD, columnTypeFromSql, matchSchema, withPairedNames, withTableTypes } from '../../../src/csv';

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

  it('pairs the same name before a looser one, so an unpaired column never takes a paired table column\'s name', () => {
    const match = matchSchema(['customerid', 'customer_id', 'name'], ['customer_id', 'name']);
    expect(match.mapping).toEqual([
      { file: 'customer_id', table: 'customer_id' },
      { file: 'name', table: 'name' },
    ]);
    expect(match.extra).toEqual(['customerid']);
  });

  it('names the file\'s columns as the table columns they were paired with', () => {
    const columns = [{ name: 'customerid', type: { kind: 'integer' as const } }, { name: 'desk', type: { kind: 'text' as const } }];
    expect(withPairedNames(columns, matchSchema(['customerid', 'desk'], ['customer_id', 'amount'])).map((c) => c.name)).toEqual(['customer_id', 'desk']);
  });

  it('exports the threshold', () => {
    expect(MATCH_THRESHOLD).toBe(70);
  });
});

describe('the types an append converts to', () => {
  it.each([
    ['integer', { kind: 'integer' }],
    ['int', { kind: 'integer' }],
    ['bigint', { kind: 'bigint' }],
    ['numeric', { kind: 'decimal', precision: 38, scale: 0 }],
    ['numeric(12,4)', { kind: 'decimal', precision: 12, scale: 4 }],
    ['decimal(18, 2)', { kind: 'decimal', precision: 18, scale: 2 }],
    ['boolean', { kind: 'boolean' }],
    ['bit', { kind: 'boolean' }],
    ['date', { kind: 'date' }],
    ['timestamp without time zone', { kind: 'datetime' }],
    ['datetime2', { kind: 'datetime' }],
    ['text', { kind: 'text' }],
    ['character varying', { kind: 'text' }],
    ['nvarchar(50)', { kind: 'text' }],
    ['nvarchar(max)', { kind: 'text' }],
    ['jsonb', null],
    ['timestamp with time zone', null],
    ['smallint', null],
  ])('%s → %j', (sql, want) => {
    expect(columnTypeFromSql(sql)).toEqual(want);
  });

  it("a file column takes the table column's type; columns the table lacks, or of types refdata does not make, keep the file's", () => {
    const file = [
      { name: 'code', type: { kind: 'text' as const, maxLength: 3 } },
      { name: 'qty', type: { kind: 'text' as const, maxLength: 4 } },
      { name: 'payload', type: { kind: 'text' as const, maxLength: 9 } },
      { name: 'extra', type: { kind: 'integer' as const } },
    ];
    const table = [
      { name: 'code', dataType: 'text', nullable: true },
      { name: 'qty', dataType: 'integer', nullable: true },
      { name: 'payload', dataType: 'jsonb', nullable: true },
    ];
    expect(withTableTypes(file, table)).toEqual([
      { name: 'code', type: { kind: 'text' } },
      { name: 'qty', type: { kind: 'integer' } },
      file[2],
      file[3],
    ]);
  });
});
