// Unit tests of the ledger statements: tracking upsert, lookups, newest-first listing, reference config upsert.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TRACKING_LIMIT, MAX_TRACKING_LIMIT, deleteTrackingSql, listTrackingSql, selectTrackingSql, upsertReferenceConfigSql, upsertTrackingSql,
} from '../../../src/db/mssql/sql';
import { expectParamsConsistent } from './statement-check';

describe('upsertTrackingSql', () => {
  it('merges by file path under HOLDLOCK and returns the row', () => {
    const stmt = upsertTrackingSql({ filePath: '/drop/a.csv', status: 'loading', rowsLoaded: 5 });
    expect(stmt.text).toMatch(/^MERGE ref\.file_monitor_tracking WITH \(HOLDLOCK\) AS t/);
    expect(stmt.text).toContain('ON t.[file_path] = s.[file_path]');
    expect(stmt.text).toContain('WHEN MATCHED THEN UPDATE SET t.[status] = @status, t.[rows_loaded] = @rows_loaded');
    expect(stmt.text).toContain('INSERT ([file_path], [status], [rows_loaded]) VALUES (@file_path, @status, @rows_loaded)');
    expect(stmt.text).toMatch(/OUTPUT inserted\.\[id\], .*inserted\.\[rows_loaded\];$/);
    expect(stmt.params.rows_loaded).toEqual({ type: 'bigint', value: 5 });
    expectParamsConsistent(stmt);
  });

  it('writes only the given fields; a new row starts waiting without overwriting an existing status', () => {
    const stmt = upsertTrackingSql({ filePath: '/drop/a.csv', fileName: 'a.csv' });
    expect(stmt.text).toContain('UPDATE SET t.[file_name] = @file_name\n');
    expect(stmt.text).toContain('INSERT ([file_path], [file_name], [status])');
    expect(stmt.params.status).toEqual({ type: 'nvarchar', value: 'waiting' });
    expectParamsConsistent(stmt);
  });

  it('with only the path it still returns the existing row (no-op update)', () => {
    const stmt = upsertTrackingSql({ filePath: '/drop/a.csv' });
    expect(stmt.text).toContain('UPDATE SET t.[file_path] = t.[file_path]');
    expectParamsConsistent(stmt);
  });

  it('binds each field with its SQL type; headers as JSON; null clears a field; undefined leaves it', () => {
    const at = new Date('2024-01-02T03:04:05Z');
    const stmt = upsertTrackingSql({
      filePath: '/p', detectedHeaders: ['a', 'b,c'], isReferenceData: true, referenceConfigInserted: false, processedAt: at, errorMessage: null,
      fileSize: 123, workflowId: undefined,
    });
    expect(stmt.params).toMatchObject({
      detected_headers: { type: 'nvarchar', value: '["a","b,c"]' },
      is_reference_data: { type: 'bit', value: true },
      reference_config_inserted: { type: 'bit', value: false },
      processed_at: { type: 'datetime2', value: at },
      error_message: { type: 'nvarchar', value: null },
      file_size: { type: 'bigint', value: 123 },
    });
    expect(stmt.params.workflow_id).toBeUndefined();
    expect(stmt.text).not.toContain('workflow_id] =');
  });
});

describe('tracking lookups', () => {
  it('selects by id or by path', () => {
    expect(selectTrackingSql({ id: 7 }).text).toMatch(/WHERE \[id\] = @id$/);
    expect(selectTrackingSql({ filePath: '/x' }).text).toMatch(/WHERE \[file_path\] = @file_path$/);
    expectParamsConsistent(selectTrackingSql({ id: 7 }));
    expectParamsConsistent(deleteTrackingSql('/x'));
  });

  it('lists newest first with TOP (@limit) and only the filters given', () => {
    const all = listTrackingSql({});
    expect(all.text).toMatch(/^SELECT TOP \(@limit\) /);
    expect(all.text).not.toContain('WHERE');
    expect(all.text).toMatch(/ORDER BY \[created_at\] DESC, \[id\] DESC$/);
    expect(all.params.limit).toEqual({ type: 'int', value: DEFAULT_TRACKING_LIMIT });
    const filtered = listTrackingSql({ status: 'error', table: 'prices', limit: 5 });
    expect(filtered.text).toContain('WHERE [status] = @status AND [table_name] = @table_name');
    expect(filtered.params.limit?.value).toBe(5);
    for (const s of [all, filtered]) expectParamsConsistent(s);
  });

  it.each([
    [0, 1],
    [-3, 1],
    [2.7, 2],
    [1_000_000, MAX_TRACKING_LIMIT],
  ])('clamps limit %d to %d', (limit, expected) => {
    expect(listTrackingSql({ limit }).params.limit?.value).toBe(expected);
  });
});

describe('upsertReferenceConfigSql', () => {
  it('merges by schema and table, re-activates, and keeps the key column unless one is given', () => {
    const stmt = upsertReferenceConfigSql({ table: { schema: 'ref', name: 'currencies' }, sourceFile: '/a.csv', loadType: 'fullload' });
    expect(stmt.text).toMatch(/^MERGE ref\.reference_data_cfg WITH \(HOLDLOCK\) AS t/);
    expect(stmt.text).toContain('t.[key_column] = COALESCE(@key_column, t.[key_column])');
    expect(stmt.text).toContain('t.[is_active] = 1');
    expect(stmt.text).toContain('t.[updated_at] = SYSUTCDATETIME()');
    expect(stmt.params.key_column?.value).toBeNull();
    expect(upsertReferenceConfigSql({ table: { schema: 'ref', name: 'c' }, sourceFile: '/a', loadType: 'append', keyColumn: 'code' }).params.key_column?.value).toBe('code');
    expectParamsConsistent(stmt);
  });
});
