// The PostgreSQL dialect's generated SQL: quoting, types, COPY and swap statements.
import { describe, expect, it } from 'vitest';
import { columnTypeSql, copyCsvSql, createTableSql, quoteIdent, swapSql } from '../../src/db/postgres/sql';

describe('postgres sql', () => {
  it('quotes identifiers, doubling embedded quotes, and refuses empty or overlong ones', () => {
    expect(quoteIdent('select')).toBe('"select"');
    expect(quoteIdent('a"; DROP TABLE x; --')).toBe('"a""; DROP TABLE x; --"');
    expect(() => quoteIdent('')).toThrow(/1 to 63/);
    expect(() => quoteIdent('x'.repeat(64))).toThrow(/1 to 63/);
  });

  it('maps column types', () => {
    expect(columnTypeSql({ kind: 'decimal', precision: 12, scale: 4 })).toBe('numeric');
    expect(columnTypeSql({ kind: 'datetime' })).toBe('timestamp');
    expect(columnTypeSql({ kind: 'text', maxLength: 10 })).toBe('text');
  });

  it('creates tables with the load id column and copies into named columns', () => {
    expect(createTableSql({ schema: 'ref', name: 't' }, [{ name: 'a', type: { kind: 'integer' } }])).toBe(
      'CREATE TABLE "ref"."t" ("a" integer, "refdata_load_id" varchar(64))',
    );
    expect(copyCsvSql({ schema: 'ref', name: 't' }, ['a'])).toBe('COPY "ref"."t" ("a", "refdata_load_id") FROM STDIN WITH (FORMAT csv)');
  });

  it('swaps by renaming the live table into bkp and the shadow into place', () => {
    expect(swapSql({ schema: 'ref', name: 't' }, { schema: 'ref', name: 't__shadow_1' }, { schema: 'bkp', name: 't__2024' })).toEqual([
      'ALTER TABLE "ref"."t" RENAME TO "t__2024"',
      'ALTER TABLE "ref"."t__2024" SET SCHEMA "bkp"',
      'ALTER TABLE "ref"."t__shadow_1" RENAME TO "t"',
    ]);
    expect(swapSql({ schema: 'ref', name: 't' }, { schema: 'ref', name: 's' }, null)).toEqual(['ALTER TABLE "ref"."s" RENAME TO "t"']);
  });
});
