// Unit tests of the ledger statements: tracking upsert, lookups, newest-first listing, reference config upsert, invalid records.
import { describe, expect, it } from 'vitest';
import type { InvalidRecordInput } from '../../../src/db/types';
import {
  DEFAULT_TRACKING_LIMIT, INVALID_RECORD_PARAMS, MAX_INVALID_RECORDS_PER_STATEMENT, MAX_TRACKING_LIMIT, deleteTrackingSql, insertInvalidRecordsSql, listTrackingSql, selectTrackingSql, upsertReferenceConfigSql, upsertTrackingSql,
} from '../../../src/db/mssql/sql';
import { expectParamsConsistent } from './statement-check';

describe('upsertTrackingSql', () => {
  it('a run writes its own row: updated by run id under a key-range lock, a new run inserts a new row, and returns it', () => {
    const stmt = upsertTrackingSql({ filePath: '/drop/a.csv', runId: 'r1', status: 'waiting' });
    expect(stmt.text).not.toContain('MERGE');
    expect(stmt.text).toMatch(/^SET XACT_ABORT ON;\nBEGIN TRANSACTION;\nUPDATE t SET t\.\[status\] = @status\n/);
    expect(stmt.text).toContain('FROM ref.file_monitor_tracking t WITH (UPDLOCK, SERIALIZABLE) WHERE t.[run_id] = @run_id;\nIF @@ROWCOUNT = 0\n');
    expect(stmt.text).toContain('INSERT INTO ref.file_monitor_tracking ([file_path], [status], [run_id]) VALUES (@file_path, @status, @run_id);\nCOMMIT TRANSACTION;');
    expect(stmt.text).toMatch(/\nSELECT \[id\], .* FROM ref\.file_monitor_tracking WHERE \[run_id\] = @run_id;$/);
    expectParamsConsistent(stmt);
  });

  it('without a run id, updates the newest row of the path or inserts one, in one transaction, and returns it', () => {
    const stmt = upsertTrackingSql({ filePath: '/drop/a.csv', status: 'loading', rowsLoaded: 5 });
    expect(stmt.text).not.toContain('MERGE');
    expect(stmt.text).not.toContain('OUTPUT');
    expect(stmt.text).toContain('WITH (UPDLOCK, SERIALIZABLE) WHERE [file_path] = @file_path ORDER BY [id] DESC');
    expect(stmt.text).toContain('UPDATE ref.file_monitor_tracking SET [status] = @status, [rows_loaded] = @rows_loaded WHERE [id] = @latest;');
    expect(stmt.text).toContain('INSERT INTO ref.file_monitor_tracking ([file_path], [status], [rows_loaded]) VALUES (@file_path, @status, @rows_loaded);');
    expect(stmt.text).toMatch(/\nSELECT \[id\], .* FROM ref\.file_monitor_tracking WHERE \[id\] = @latest;$/);
    expect(stmt.params.rows_loaded).toEqual({ type: 'bigint', value: 5 });
    expectParamsConsistent(stmt);
  });

  it('writes only the given fields; a new row starts waiting without overwriting an existing status', () => {
    const stmt = upsertTrackingSql({ filePath: '/drop/a.csv', fileName: 'a.csv' });
    expect(stmt.text).toContain('SET [file_name] = @file_name WHERE');
    expect(stmt.text).toContain('([file_path], [file_name], [status])');
    expect(stmt.params.status).toEqual({ type: 'nvarchar', value: 'waiting' });
    expectParamsConsistent(stmt);
  });

  it('with only the path it still returns the existing row (no-op update)', () => {
    const stmt = upsertTrackingSql({ filePath: '/drop/a.csv' });
    expect(stmt.text).toContain('SET [file_path] = [file_path] WHERE');
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
    expect(selectTrackingSql({ id: 7 }).text).toMatch(/WHERE \[id\] = @id ORDER BY \[id\] DESC$/);
    // The newest row of a path: its current drop.
    expect(selectTrackingSql({ filePath: '/x' }).text).toMatch(/^SELECT TOP \(1\) .* WHERE \[file_path\] = @file_path ORDER BY \[id\] DESC$/);
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
    const latest = listTrackingSql({ status: 'waiting', latestPerPath: true });
    expect(latest.text).toContain('WHERE [status] = @status AND [id] IN (SELECT MAX([id]) FROM ref.file_monitor_tracking GROUP BY [file_path])');
    for (const s of [all, filtered, latest]) expectParamsConsistent(s);
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
  it('updates by schema and table under a key-range lock or inserts, re-activates, and keeps the key column unless one is given', () => {
    const stmt = upsertReferenceConfigSql({ table: { schema: 'ref', name: 'currencies' }, sourceFile: '/a.csv', loadType: 'fullload' });
    expect(stmt.text).not.toContain('MERGE');
    expect(stmt.text).toContain('FROM ref.reference_data_cfg t WITH (UPDLOCK, SERIALIZABLE) WHERE t.[schema_name] = @schema_name AND t.[table_name] = @table_name;\nIF @@ROWCOUNT = 0\n');
    expect(stmt.text).toContain('t.[key_column] = COALESCE(@key_column, t.[key_column])');
    expect(stmt.text).toContain('t.[is_active] = 1');
    expect(stmt.text).toContain('t.[updated_at] = SYSUTCDATETIME()');
    expect(stmt.params.key_column?.value).toBeNull();
    expect(upsertReferenceConfigSql({ table: { schema: 'ref', name: 'c' }, sourceFile: '/a', loadType: 'append', keyColumn: 'code' }).params.key_column?.value).toBe('code');
    expectParamsConsistent(stmt);
  });
});

describe('insertInvalidRecordsSql', () => {
  const record = (i: number): InvalidRecordInput => ({
    source: 'csv', sourceRef: `/drop/f${i}.csv`, recordId: i % 2 ? `r${i}` : null, rowNumber: i, rawText: i % 3 ? `a,b,${i}` : null, errors: [`bad ${i}`, 'x"y'],
  });

  it('writes nothing for no records', () => {
    expect(insertInvalidRecordsSql([])).toEqual([]);
  });

  it('inserts every field as a parameter, the errors as a JSON text array', () => {
    const [stmt, ...rest] = insertInvalidRecordsSql([record(1), record(2)]);
    expect(rest).toEqual([]);
    expect(stmt!.text).toBe(
      'INSERT INTO ref.invalid_records ([source], [source_ref], [record_id], [row_number], [raw_text], [errors])\n' +
        'VALUES (@source_0, @source_ref_0, @record_id_0, @row_number_0, @raw_text_0, @errors_0),\n' +
        '       (@source_1, @source_ref_1, @record_id_1, @row_number_1, @raw_text_1, @errors_1)',
    );
    expect(stmt!.params).toMatchObject({
      source_0: { type: 'nvarchar', value: 'csv' },
      record_id_0: { value: 'r1' },
      record_id_1: { value: null },
      row_number_1: { type: 'bigint', value: 2 },
      raw_text_1: { value: 'a,b,2' },
      errors_0: { type: 'nvarchar', value: '["bad 1","x\\"y"]' },
    });
    expect(JSON.parse(String(stmt!.params.errors_1!.value))).toEqual(['bad 2', 'x"y']);
    expectParamsConsistent(stmt!);
  });

  it('chunks so no statement exceeds 2,100 parameters or 1,000 rows, and keeps every record once, in order', () => {
    const records = Array.from({ length: 1000 }, (_, i) => record(i));
    const statements = insertInvalidRecordsSql(records);
    expect(statements.map((s) => Object.keys(s.params).length / INVALID_RECORD_PARAMS)).toEqual([333, 333, 333, 1]);
    for (const s of statements) {
      expect(Object.keys(s.params).length).toBeLessThan(2100);
      expectParamsConsistent(s);
    }
    const refs = statements.flatMap((s) => Object.entries(s.params).filter(([k]) => k.startsWith('source_ref_')).map(([, p]) => p.value));
    expect(refs).toEqual(records.map((r) => r.sourceRef));
    expect(MAX_INVALID_RECORDS_PER_STATEMENT * INVALID_RECORD_PARAMS).toBeLessThanOrEqual(2000);
  });

  it('a hostile value stays a parameter: the text is the same whatever the values', () => {
    const evil: InvalidRecordInput = { source: "x'); DROP TABLE ref.loads; --", sourceRef: ']', recordId: "'", rowNumber: 1, rawText: 'a', errors: ["'); --"] };
    expect(insertInvalidRecordsSql([evil])[0]!.text).toBe(insertInvalidRecordsSql([record(1)])[0]!.text);
  });

  it.each([0, 334, 1.5])('refuses a chunk size of %d', (size) => {
    expect(() => insertInvalidRecordsSql([record(1)], size)).toThrow(/chunk size/);
  });
});
