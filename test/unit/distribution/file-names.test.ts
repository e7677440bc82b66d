// Distribution naming: one function for every file, run keys, business dates from schedules and time zones.
import { describe, expect, it } from 'vitest';
import { compactDate, contentTypeOf, distributionFileName, isRunKey, runKeyOf } from '../../../src/distribution/file-names';
import { addDays, localDate, localTimeSuffix, parseBusinessDate, scheduledBusinessDate } from '../../../src/distribution/business-date';

describe('distributionFileName', () => {
  it.each([
    ['20250621', 'full', undefined, '20250621_full.csv'],
    ['20250621', 'delta', undefined, '20250621_delta.csv'],
    ['20250621', 'cancellation', undefined, '20250621_cancellation.csv'],
    ['20250621', 'invalid', undefined, '20250621_invalid.json'],
    ['20250621', 'manifest', undefined, '20250621_manifest.json'],
    ['20250621', 'full', 'instruments', '20250621_full.csv'],
    ['20250621', 'full', 'airports', '20250621_airports_full.csv'],
    ['20250621', 'delta', 'flight_schedules', '20250621_flight_schedules_delta.csv'],
    // One manifest per run, whatever the dataset.
    ['20250621', 'manifest', 'airports', '20250621_manifest.json'],
    ['20250621T143015', 'delta', undefined, '20250621T143015_delta.csv'],
  ] as const)('%s %s %s → %s', (stem, type, dataset, name) => {
    expect(distributionFileName(stem, type, dataset)).toBe(name);
  });

  it.each([['2025-06-21'], ['20250621T1430'], ['../x'], ['']])('refuses the stem %j', (stem) => {
    expect(() => distributionFileName(stem, 'full')).toThrow(/YYYYMMDD/);
  });

  it.each([['Airports'], ['a/b'], ['..'], ['1x'], ['a'.repeat(64)]])('refuses the dataset %j', (dataset) => {
    expect(() => distributionFileName('20250621', 'full', dataset)).toThrow(/normalised/);
  });

  it('types CSV and JSON for receivers', () => {
    expect(contentTypeOf('20250621_full.csv')).toBe('text/csv; charset=utf-8');
    expect(contentTypeOf('20250621_manifest.json')).toBe('application/json');
  });
});

describe('run keys', () => {
  it('are the compact date, and T + HHmmss for an intraday delta', () => {
    expect(runKeyOf('2025-06-21')).toBe('20250621');
    expect(runKeyOf('2025-06-21', null)).toBe('20250621');
    expect(runKeyOf('2025-06-21', '143015')).toBe('20250621T143015');
    expect(() => runKeyOf('2025-06-21', '1430')).toThrow(/HHmmss/);
    expect(() => compactDate('20250621')).toThrow(/yyyy-MM-dd/);
    expect(isRunKey('20250621T143015')).toBe(true);
    expect(isRunKey('2025062')).toBe(false);
  });
});

describe('business dates', () => {
  it('reads wall-clock dates and times in the configured zone', () => {
    const at = new Date('2025-06-20T19:30:00Z');
    expect(localDate(at, 'Asia/Kolkata')).toBe('2025-06-21');
    expect(localTimeSuffix(at, 'Asia/Kolkata')).toBe('010000');
    expect(localDate(at, 'UTC')).toBe('2025-06-20');
    expect(localTimeSuffix(new Date('2025-06-20T00:00:05Z'), 'UTC')).toBe('000005');
  });

  it('a nightly run sends the day before its scheduled local date (lag 1), also when caught up late', () => {
    // 01:00 IST on the 21st = 19:30 UTC on the 20th.
    expect(scheduledBusinessDate(new Date('2025-06-20T19:30:00Z'), 'Asia/Kolkata', 1)).toBe('2025-06-20');
    expect(scheduledBusinessDate(new Date('2025-06-20T19:30:00Z'), 'Asia/Kolkata', 0)).toBe('2025-06-21');
    expect(scheduledBusinessDate(new Date('2025-03-01T01:00:00Z'), 'UTC', 1)).toBe('2025-02-28');
    expect(scheduledBusinessDate(new Date('2024-03-01T01:00:00Z'), 'UTC', 1)).toBe('2024-02-29');
  });

  it('does calendar arithmetic and parses both date spellings, refusing impossible dates', () => {
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(parseBusinessDate('2025-06-21')).toBe('2025-06-21');
    expect(parseBusinessDate('20250621')).toBe('2025-06-21');
    expect(parseBusinessDate('2025-02-30')).toBeNull();
    expect(parseBusinessDate('21/06/2025')).toBeNull();
  });
});
