// Text cells become the JS values the TDS bulk API sends, typed by the staging table's catalog columns.
import sql from 'mssql';
import { describe, expect, it } from 'vitest';
import { buildBulkTable, bulkColumnOf, toBulkValue, type BulkColumn } from '../../../src/db/mssql/bulk';
import type { CatalogColumn } from '../../../src/db/mssql/catalog';
import { DataError } from '../../../src/db/types';
import { classifyDbError } from '../../../src/db/transient';
import { EXACT_DECIMAL_TYPE } from '../../../src/db/mssql/exact-decimal';

const catalog = (data_type: string, extra: Partial<CatalogColumn> = {}): CatalogColumn => ({
  column_name: 'c', data_type, max_length: null, numeric_precision: null, numeric_scale: null, datetime_precision: null, is_nullable: 'YES', ...extra,
});
const col = (data_type: string, extra: Partial<CatalogColumn> = {}): BulkColumn => bulkColumnOf(catalog(data_type, extra));

describe('bulkColumnOf', () => {
  it('declares each catalog type with its size', () => {
    const dec = col('decimal', { numeric_precision: 18, numeric_scale: 4 }).sqlType as sql.ISqlTypeWithPrecisionScale;
    expect([dec.type, dec.precision, dec.scale]).toEqual([EXACT_DECIMAL_TYPE, 18, 4]);
    const text = col('nvarchar', { max_length: 50 }).sqlType as sql.ISqlTypeWithLength;
    expect([text.type, text.length]).toEqual([sql.NVarChar, 50]);
    expect((col('nvarchar', { max_length: -1 }).sqlType as sql.ISqlTypeWithLength).length).toBe(sql.MAX);
    expect(col('nchar', { max_length: 2 }).sqlType.type).toBe(sql.NChar);
    expect(col('varchar', { max_length: -1 }).sqlType.type).toBe(sql.VarChar);
    expect(col('int').sqlType.type).toBe(sql.Int);
    expect(col('bigint').sqlType.type).toBe(sql.BigInt);
    expect(col('bit').sqlType.type).toBe(sql.Bit);
    expect(col('date').sqlType.type).toBe(sql.Date);
    expect((col('datetime2', { datetime_precision: 3 }).sqlType as sql.ISqlTypeWithScale).scale).toBe(3);
  });

  it('refuses a type it cannot load, naming the column', () => {
    expect(() => bulkColumnOf({ ...catalog('geography'), column_name: 'shape' })).toThrow(/shape has type geography/);
  });
});

describe('toBulkValue', () => {
  it.each<[string, Partial<CatalogColumn>, string, unknown]>([
    ['int', {}, '42', 42],
    ['int', {}, ' -7 ', -7],
    ['bigint', {}, '9007199254740993', '9007199254740993'],
    ['decimal', { numeric_precision: 38, numeric_scale: 10 }, '12345678901234567890.0123456789', '12345678901234567890.0123456789'],
    ['decimal', { numeric_precision: 10, numeric_scale: 2 }, '-1.5', '-1.5'],
    ['float', {}, '1e3', 1000],
    ['bit', {}, 'true', true],
    ['bit', {}, 'FALSE', false],
    ['bit', {}, '1', true],
    ['bit', {}, '0', false],
    ['nvarchar', { max_length: 10 }, '  keep  ', '  keep  '],
  ])('%s %j: %j → %j', (type, extra, text, expected) => {
    expect(toBulkValue(col(type, extra), text)).toEqual(expected);
  });

  it('keeps null as null for every kind', () => {
    for (const t of ['int', 'bigint', 'decimal', 'bit', 'date', 'datetime2', 'nvarchar']) expect(toBulkValue(col(t), null)).toBeNull();
  });

  it('reads dates as UTC midnight so the driver (useUTC) writes the same calendar day', () => {
    expect(toBulkValue(col('date'), '2024-02-29')).toEqual(new Date('2024-02-29T00:00:00Z'));
    expect((toBulkValue(col('date'), '0099-01-01') as Date).getUTCFullYear()).toBe(99);
  });

  it('keeps a wall-clock datetime as written and converts one with an offset to UTC', () => {
    expect(toBulkValue(col('datetime2'), '2024-01-02T03:04:05')).toEqual(new Date('2024-01-02T03:04:05Z'));
    expect(toBulkValue(col('datetime2'), '2024-01-02 03:04:05.123')).toEqual(new Date('2024-01-02T03:04:05.123Z'));
    expect(toBulkValue(col('datetime2'), '2024-01-02T03:04')).toEqual(new Date('2024-01-02T03:04:00Z'));
    expect(toBulkValue(col('datetime2'), '2024-01-02T03:04:05+02:00')).toEqual(new Date('2024-01-02T01:04:05Z'));
    expect(toBulkValue(col('datetime2'), '2024-01-02T03:04:05-0130')).toEqual(new Date('2024-01-02T04:34:05Z'));
    expect(toBulkValue(col('datetime2'), '2024-01-02T03:04:05Z')).toEqual(new Date('2024-01-02T03:04:05Z'));
    expect(toBulkValue(col('datetime2'), '2024-01-02')).toEqual(new Date('2024-01-02T00:00:00Z'));
  });

  it.each<[string, Partial<CatalogColumn>, string]>([
    ['int', {}, '1.5'],
    ['int', {}, '2147483648'],
    ['tinyint', {}, '256'],
    ['smallint', {}, '-32769'],
    ['bigint', {}, '9223372036854775808'],
    ['decimal', {}, '1,5'],
    ['decimal', {}, 'abc'],
    ['decimal', { numeric_precision: 5, numeric_scale: 2 }, '1000'],
    ['float', {}, ''],
    ['bit', {}, 'yes'],
    ['date', {}, '2023-02-30'],
    ['date', {}, '02/01/2024'],
    ['date', {}, '0000-01-01'],
    ['datetime2', {}, '2024-01-02T25:00:00'],
    ['datetime2', {}, 'yesterday'],
    ['nvarchar', { max_length: 3 }, 'abcd'],
  ])('%s %j refuses %j with a message naming the column', (type, extra, text) => {
    expect(() => toBulkValue(col(type, extra), text)).toThrow(/column c: .* (is not a valid|does not fit)/);
  });
});

describe('buildBulkTable', () => {
  it('targets the quoted staging path, escapes column names, and tags every row with the load id', () => {
    const columns = [bulkColumnOf({ ...catalog('nvarchar', { max_length: 20 }), column_name: 'a]b' }), bulkColumnOf({ ...catalog('int'), column_name: 'qty' })];
    const table = buildBulkTable({ schema: 'data', name: 'x]y__shadow_1' }, columns, [['p', '1'], [null, null]], 'load-1');
    expect(table.create).toBe(false);
    expect(table.path).toBe('[data].[x]]y__shadow_1]');
    expect(table.columns.map((c) => c.name)).toEqual(['a]]b', 'qty', 'refdata_load_id']);
    expect(table.columns.every((c) => c.nullable)).toBe(true);
    expect([...table.rows]).toEqual([['p', 1, 'load-1'], [null, null, 'load-1']]);
  });

  it('says which row and column of the batch is wrong', () => {
    const columns = [bulkColumnOf({ ...catalog('int'), column_name: 'qty' })];
    expect(() => buildBulkTable({ schema: 'data', name: 't' }, columns, [['1'], ['x']], 'l')).toThrow(/row 2 of the batch: column qty/);
    expect(() => buildBulkTable({ schema: 'data', name: 't' }, columns, [['1', '2']], 'l')).toThrow(/2 values for 1 columns/);
  });

  it('a value that does not fit is a data error naming row and column, so the load fails instead of retrying forever', () => {
    const columns = [bulkColumnOf({ ...catalog('nvarchar'), column_name: 'code', max_length: 6 })];
    let caught: unknown;
    try {
      buildBulkTable({ schema: 'data', name: 't' }, columns, [['abc'], ['abcdefgh']], 'l');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DataError);
    expect(caught).toMatchObject({ code: '8152', line: 2, column: 'code' });
    expect(classifyDbError(caught).kind).toBe('data');
  });
});
