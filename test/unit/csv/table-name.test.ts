// Table and column naming: file names and header cells to safe identifiers.
import { describe, expect, it } from 'vitest';
import { CsvFormatError, deriveTableName, normalizeColumnNames, normalizeIdentifier } from '../../../src/csv';

describe('deriveTableName', () => {
  it.each([
    ['airports_20241201.csv', 'airports'],
    ['customer-data.csv', 'customer_data'],
    ['FLIGHT_SCHEDULES.CSV', 'flight_schedules'],
    ['test_data_2024-12-01.csv', 'test_data'],
    ['2024_report.csv', 't_2024_report'],
    ['airports_2024_12_01.csv', 'airports'],
    ['airports_20241201_1530.csv', 'airports'],
    ['airports_20241201T153000.csv', 'airports'],
    ['airports-2024-12-01-15-30-00.csv', 'airports'],
    ['20241201_airports.csv', 'airports'],
    ['orders_12345678.csv', 'orders_12345678'],
    ['/drop/in/sub dir/Café Prices (EU).csv', 'cafe_prices_eu'],
    ['C:\\drop\\rates.txt', 'rates'],
    ['rates.csv.gz', 'rates'],
    ['weird...name__.csv', 'weird_name'],
    ['9lives.csv', 't_9lives'],
  ])('%s → %s', (file, table) => {
    expect(deriveTableName(file)).toBe(table);
  });

  it('caps names at 63 characters without a trailing underscore', () => {
    const name = deriveTableName(`${'a'.repeat(62)}_b_${'c'.repeat(20)}.csv`);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name.endsWith('_')).toBe(false);
  });

  it.each(['.csv', '2024-12-01.csv', '___.csv', '€€€.csv'])('refuses %s with INVALID_NAME', (file) => {
    expect(() => deriveTableName(file)).toThrow(CsvFormatError);
    try {
      deriveTableName(file);
    } catch (error) {
      expect((error as CsvFormatError).code).toBe('INVALID_NAME');
    }
  });
});

describe('normalizeIdentifier', () => {
  it.each([
    ['Customer ID', 'customer_id'],
    ['  Amount (EUR) ', 'amount_eur'],
    ['1st quarter', 'c_1st_quarter'],
    ['Straße', 'strasse'],
    ['Größe', 'grosse'],
    ['Ærø', 'aero'],
    ['', ''],
  ])('%j → %j', (name, expected) => {
    expect(normalizeIdentifier(name)).toBe(expected);
  });

  it('uses the given prefix for a leading digit', () => {
    expect(normalizeIdentifier('2024', 't_')).toBe('t_2024');
  });
});

describe('normalizeColumnNames', () => {
  it.each<[string[], string[]]>([
    [['id', 'Name', 'name'], ['id', 'name', 'name_2']],
    [['a', 'a', 'a_2'], ['a', 'a_3', 'a_2']],
    [['', 'x', ''], ['column_1', 'x', 'column_3']],
    [['refdata_load_id', 'id'], ['refdata_load_id_2', 'id']],
    [['Order ID', 'order-id', 'ORDER_ID'], ['order_id', 'order_id_2', 'order_id_3']],
  ])('%j → %j', (headers, names) => {
    expect(normalizeColumnNames(headers)).toEqual(names);
  });

  it('keeps suffixed names within 63 characters', () => {
    const long = 'x'.repeat(80);
    const names = normalizeColumnNames([long, long]);
    expect(names[1]).toMatch(/_2$/);
    expect(names.every((n) => n.length <= 63)).toBe(true);
    expect(new Set(names).size).toBe(2);
  });
});
