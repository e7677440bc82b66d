// Error analysis without a database: --since parsing, and failures from the ledger and the reports grouped and counted.
import { describe, expect, it } from 'vitest';
import type { FailureRecord } from '../../src/db/failures';
import { SinceError, UNCATEGORIZED, outcomeCategory, parseSince, summarizeFailures, type ErrorReportInfo } from '../../src/error-analysis';

const now = new Date('2025-03-10T12:00:00Z');
const root = '/drop';

describe('parseSince', () => {
  it.each([
    ['30m', '2025-03-10T11:30:00.000Z'],
    ['12h', '2025-03-10T00:00:00.000Z'],
    ['7d', '2025-03-03T12:00:00.000Z'],
    ['2w', '2025-02-24T12:00:00.000Z'],
    ['2025-03-01', '2025-03-01T00:00:00.000Z'],
    ['2025-03-01T08:00:00Z', '2025-03-01T08:00:00.000Z'],
  ])('%s', (text, iso) => expect(parseSince(text, now).toISOString()).toBe(iso));

  it.each(['yesterday', '7', '-1d', '7 days', '2025-13-45', ''])('refuses %j', (text) => {
    expect(() => parseSince(text, now)).toThrow(SinceError);
  });
});

const row = (over: Partial<FailureRecord>): FailureRecord => ({
  filePath: `${root}/none_reference_data_table/append/x.csv`, fileName: 'x.csv', tableName: 'x', loadType: 'append', isReferenceData: false,
  category: 'InvalidFile', errorMessage: 'bad', workflowId: 'wf', failedAt: new Date('2025-03-10T10:00:00Z'), ...over,
});
const report = (over: Partial<ErrorReportInfo>): ErrorReportInfo => ({
  reportPath: '/r.error.json', originalPath: `${root}/none_reference_data_table/append/x.csv`, category: 'InvalidFile', message: 'bad',
  code: 'RAGGED_ROWS', workflowId: 'wf', time: new Date('2025-03-10T10:00:00Z'), ...over,
});

describe('summarizeFailures', () => {
  const opts = { dropRoot: root, since: new Date('2025-03-03T12:00:00Z'), until: now, truncated: false };

  it('counts each report once, and a ledger row only when its path has no report', () => {
    const s = summarizeFailures(
      [
        row({}),
        row({ filePath: `${root}/reference_data_table/fullload/airports_20250301.csv`, fileName: 'airports_20250301.csv', tableName: null, loadType: 'fullload', isReferenceData: true, category: null, errorMessage: 'lost' }),
      ],
      [
        report({ time: new Date('2025-03-09T10:00:00Z'), reportPath: '/old.error.json', code: 'BAD_VALUE' }),
        report({ time: new Date('2025-03-10T10:00:00Z'), reportPath: '/new.error.json' }),
      ],
      opts,
    );
    expect(s.total).toBe(3);
    expect(s.byCategory).toEqual([{ category: 'InvalidFile', count: 2 }, { category: UNCATEGORIZED, count: 1 }]);
    expect(s.groups[0]).toEqual({
      category: 'InvalidFile', table: 'x', folder: 'none_reference_data_table/append', count: 2,
      firstSeen: '2025-03-09T10:00:00.000Z', lastSeen: '2025-03-10T10:00:00.000Z', codes: { BAD_VALUE: 1, RAGGED_ROWS: 1 },
      example: { file: 'x.csv', filePath: `${root}/none_reference_data_table/append/x.csv`, message: 'bad', reportPath: '/new.error.json', workflowId: 'wf' },
    });
    // Never planned, so the ledger has no table: the file name says which it would have been.
    expect(s.groups[1]).toMatchObject({ category: UNCATEGORIZED, table: 'airports', folder: 'reference_data_table/fullload', count: 1, example: { reportPath: null, message: 'lost' } });
  });

  it('groups by category, table and folder and orders the largest first', () => {
    const s = summarizeFailures([], [
      report({ category: 'SchemaMismatch' }),
      report({ category: 'InvalidFile', originalPath: `${root}/none_reference_data_table/fullload/x.csv` }),
      report({ category: 'InvalidFile', originalPath: `${root}/none_reference_data_table/fullload/x.csv` }),
    ], opts);
    expect(s.groups.map((g) => [g.category, g.folder, g.count])).toEqual([
      ['InvalidFile', 'none_reference_data_table/fullload', 2],
      ['SchemaMismatch', 'none_reference_data_table/append', 1],
    ]);
  });

  it('is empty for a quiet period', () => {
    expect(summarizeFailures([], [], opts)).toEqual({ since: opts.since.toISOString(), until: now.toISOString(), total: 0, truncated: false, byCategory: [], groups: [] });
  });
});

describe('outcomeCategory', () => {
  it('is the failure type when given, Cancelled for a cancelled file, and null for a file that did not fail', async () => {
    expect(await outcomeCategory({ status: 'error', errorType: 'SchemaMismatch', archivedTo: null })).toBe('SchemaMismatch');
    expect(await outcomeCategory({ status: 'cancelled', archivedTo: null })).toBe('Cancelled');
    expect(await outcomeCategory({ status: 'loaded', errorType: 'InvalidFile', archivedTo: '/x' })).toBeNull();
    expect(await outcomeCategory({ status: 'error', archivedTo: '/no/such/file.csv' })).toBeNull();
  });
});
