// Type inference, value conversion and SQL type names.
import { describe, expect, it } from 'vitest';
import type { ColumnType } from '../../../src/db/types';
import { CsvFormatError, convertValue, inferColumns, mapColumnTypeToSql } from '../../../src/csv';

const typeOf = (...values: string[]): ColumnType => inferColumns(['c'], values.map((v) => [v]))[0]!.type;

describe('inferColumns', () => {
  it.each<[string, string[], ColumnType]>([
    ['small integers', ['1', '-2', '+3', ' 42 '], { kind: 'integer' }],
    ['int32 bounds', ['2147483647', '-2147483648'], { kind: 'integer' }],
    ['past int32', ['2147483648', '1'], { kind: 'bigint' }],
    ['int64 bounds', ['9223372036854775807', '-9223372036854775808'], { kind: 'bigint' }],
    ['past int64', ['9223372036854775808'], { kind: 'decimal', precision: 19, scale: 0 }],
    ['more digits than decimal(38)', ['1'.repeat(39)], { kind: 'text', maxLength: 39 }],
    ['decimals', ['1.5', '-22.25', '.125', '300'], { kind: 'decimal', precision: 6, scale: 3 }],
    ['zero point', ['0.5', '0.25'], { kind: 'decimal', precision: 2, scale: 2 }],
    ['leading zeros are codes', ['007', '12'], { kind: 'text', maxLength: 3 }],
    ['leading zeros with point', ['00.5'], { kind: 'text', maxLength: 4 }],
    ['exponent', ['1e5', '2'], { kind: 'text', maxLength: 3 }],
    ['decimal comma', ['1,5', '2,25'], { kind: 'text', maxLength: 4 }],
    ['0/1 only stays integer', ['0', '1', '1'], { kind: 'integer' }],
    ['true/false', ['true', 'FALSE', 'True'], { kind: 'boolean' }],
    ['yes/no with 0/1', ['yes', 'no', '1', '0'], { kind: 'boolean' }],
    ['y/n and t/f', ['Y', 'n', 't', 'F'], { kind: 'boolean' }],
    ['not all boolean words', ['yes', 'maybe'], { kind: 'text', maxLength: 5 }],
    ['ISO dates', ['2024-12-01', '2024/02/29'], { kind: 'date' }],
    ['DD-Mon-YYYY', ['01-Dec-2024', '5-jan-2023'], { kind: 'date' }],
    ['impossible date', ['2023-02-29'], { kind: 'text', maxLength: 10 }],
    ['ambiguous day-month order', ['01-12-2024'], { kind: 'text', maxLength: 10 }],
    ['datetimes', ['2024-12-01T10:00:00Z', '2024-12-01 10:00', '2024-12-01 10:00:00.123+02:00'], { kind: 'datetime' }],
    ['dates mixed with datetimes', ['2024-12-01', '2024-12-01 10:00:00'], { kind: 'datetime' }],
    ['dates mixed with numbers', ['2024-12-01', '5'], { kind: 'text', maxLength: 10 }],
    ['text length in code units', ['ab', 'Zürich', ''], { kind: 'text', maxLength: 6 }],
    ['only empty cells', ['', '  '], { kind: 'text', maxLength: 2 }],
    ['empty and NULL do not decide', ['', 'NULL', '\\N', '5'], { kind: 'integer' }],
  ])('%s', (_name, values, expected) => {
    expect(typeOf(...values)).toEqual(expected);
  });

  it('keeps column order and names, and tolerates short rows', () => {
    const columns = inferColumns(['a', 'b'], [['1', 'x'], ['2']]);
    expect(columns).toEqual([
      { name: 'a', type: { kind: 'integer' } },
      { name: 'b', type: { kind: 'text', maxLength: 1 } },
    ]);
  });
});

describe('convertValue', () => {
  const decimal: ColumnType = { kind: 'decimal', precision: 6, scale: 2 };
  it.each<[string, ColumnType, string | null]>([
    [' 42 ', { kind: 'integer' }, '42'],
    ['+7', { kind: 'bigint' }, '7'],
    ['', { kind: 'integer' }, null],
    ['NULL', { kind: 'date' }, null],
    ['-.5', decimal, '-0.5'],
    ['0012.50', decimal, '12.50'],
    ['1234.567', decimal, '1234.567'],
    ['Yes', { kind: 'boolean' }, 'true'],
    ['0', { kind: 'boolean' }, 'false'],
    ['2024/12/01', { kind: 'date' }, '2024-12-01'],
    ['01-Dec-2024', { kind: 'date' }, '2024-12-01'],
    ['2024-12-01', { kind: 'datetime' }, '2024-12-01 00:00:00'],
    ['2024-12-01T10:30', { kind: 'datetime' }, '2024-12-01 10:30:00'],
    ['2024-12-01T01:30:00.5+02:00', { kind: 'datetime' }, '2024-11-30 23:30:00.5'],
    ['2024-12-01 10:00:00Z', { kind: 'datetime' }, '2024-12-01 10:00:00'],
    ['  padded ', { kind: 'text' }, '  padded '],
    ['', { kind: 'text' }, null],
    ['NULL', { kind: 'text' }, 'NULL'],
  ])('%j as %j → %j', (value, type, expected) => {
    expect(convertValue(value, type)).toBe(expected);
  });

  it.each<[string, ColumnType, RegExp]>([
    ['abc', { kind: 'integer' }, /"abc" is not a valid integer/],
    ['2147483648', { kind: 'integer' }, /not a valid integer \(outside/],
    ['1.5', { kind: 'bigint' }, /not a valid bigint/],
    ['12345.6', decimal, /decimal\(6,2\).*4 digits before the point/],
    ['maybe', { kind: 'boolean' }, /not a valid boolean/],
    ['2023-02-29', { kind: 'date' }, /not a valid date/],
    ['2024-12-01 25:00', { kind: 'datetime' }, /not a valid datetime/],
  ])('refuses %j as %j', (value, type, message) => {
    let caught: unknown;
    try {
      convertValue(value, type);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CsvFormatError);
    expect((caught as CsvFormatError).code).toBe('TYPE_CONVERSION');
    expect((caught as CsvFormatError).message).toMatch(message);
  });

  it('without decimal bounds (an unbounded numeric column) keeps every digit of a wider value', () => {
    expect(convertValue('12345.6789', decimal, { decimalBounds: false })).toBe('12345.6789');
    expect(convertValue('-0.005', { kind: 'decimal', precision: 2, scale: 2 }, { decimalBounds: false })).toBe('-0.005');
    expect(() => convertValue('12,5', decimal, { decimalBounds: false })).toThrow(/not a valid decimal/);
  });
});

describe('mapColumnTypeToSql', () => {
  it.each<[ColumnType, string, string]>([
    [{ kind: 'integer' }, 'integer', 'int'],
    [{ kind: 'bigint' }, 'bigint', 'bigint'],
    [{ kind: 'decimal', precision: 10, scale: 2 }, 'numeric', 'decimal(10,2)'],
    [{ kind: 'boolean' }, 'boolean', 'bit'],
    [{ kind: 'date' }, 'date', 'date'],
    [{ kind: 'datetime' }, 'timestamp', 'datetime2'],
    [{ kind: 'text', maxLength: 40 }, 'text', 'nvarchar(40)'],
    [{ kind: 'text', maxLength: 0 }, 'text', 'nvarchar(1)'],
    [{ kind: 'text', maxLength: 4000 }, 'text', 'nvarchar(4000)'],
    [{ kind: 'text', maxLength: 4001 }, 'text', 'nvarchar(max)'],
    [{ kind: 'text' }, 'text', 'nvarchar(max)'],
  ])('%j → %s / %s', (type, postgres, mssql) => {
    expect(mapColumnTypeToSql(type, 'postgres')).toBe(postgres);
    expect(mapColumnTypeToSql(type, 'mssql')).toBe(mssql);
  });
});
