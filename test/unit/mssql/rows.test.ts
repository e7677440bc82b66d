// Result rows as the mssql driver returns them (bigint as text, bit as boolean) narrowed into the port's records.
import { describe, expect, it } from 'vitest';
import { dataTypeOf, tableColumnOf, catalogColumnsFrom } from '../../../src/db/mssql/catalog';
import { loadFromRow, migrationFromRow, trackingFromRow } from '../../../src/db/mssql/rows';

const created = new Date('2024-01-02T03:04:05Z');
const trackingRow = {
  id: 1, file_path: '/drop/a.csv', file_name: 'a.csv', file_size: '9007199254740', file_hash: null, load_type: 'append', table_name: 'prices',
  detected_delimiter: ';', detected_headers: '["a","b"]', is_reference_data: null, reference_config_inserted: false, status: 'loaded',
  created_at: created, processed_at: null, error_message: null, workflow_id: 'file:a.csv', rows_loaded: '12',
  run_id: 'run-1', rows_quarantined: '3', archived_path: '/drop/processed/a.csv',
};

describe('trackingFromRow', () => {
  it('converts bigint text to numbers and headers from JSON', () => {
    expect(trackingFromRow(trackingRow)).toEqual({
      id: 1, filePath: '/drop/a.csv', fileName: 'a.csv', fileSize: 9007199254740, fileHash: null, loadType: 'append', tableName: 'prices',
      detectedDelimiter: ';', detectedHeaders: ['a', 'b'], isReferenceData: null, referenceConfigInserted: false, status: 'loaded',
      createdAt: created, processedAt: null, errorMessage: null, workflowId: 'file:a.csv', rowsLoaded: 12,
      runId: 'run-1', rowsQuarantined: 3, archivedPath: '/drop/processed/a.csv',
    });
  });

  it('reads a plain comma list of headers and a missing file name', () => {
    const r = trackingFromRow({ ...trackingRow, detected_headers: 'a,b', file_name: null });
    expect(r.detectedHeaders).toEqual(['a', 'b']);
    expect(r.fileName).toBe('');
  });

  it('refuses a row with an unknown status rather than passing it on', () => {
    expect(() => trackingFromRow({ ...trackingRow, status: 'weird' })).toThrow();
  });
});

describe('loadFromRow', () => {
  const row = {
    load_id: 'l1', target_schema: 'data', target_table: 't', staging_schema: 'data', staging_table: 't__shadow_l1', mode: 'fullload', file_path: '/f',
    file_hash: 'h', status: 'loaded', rows_committed: '10', byte_offset: '2048', batches: 2, backup_schema: 'bkp', backup_table: 't__1',
    started_at: created, finished_at: created,
  };

  it('maps staging, checkpoint and backup', () => {
    expect(loadFromRow(row)).toMatchObject({
      loadId: 'l1', staging: { schema: 'data', name: 't__shadow_l1' }, rowsCommitted: 10, byteOffset: 2048, batches: 2, backup: { schema: 'bkp', name: 't__1' },
    });
    expect(loadFromRow({ ...row, backup_schema: null, backup_table: null }).backup).toBeNull();
  });
});

describe('migrationFromRow', () => {
  it('maps version, name and time', () => {
    expect(migrationFromRow({ version: 1, name: 'foundation', applied_at: created })).toEqual({ version: 1, name: 'foundation', appliedAt: created });
  });
});

describe('catalog columns', () => {
  const base = { column_name: 'c', max_length: null, numeric_precision: null, numeric_scale: null, datetime_precision: null, is_nullable: 'YES' };

  it.each([
    [{ data_type: 'nvarchar', max_length: 50 }, 'nvarchar(50)'],
    [{ data_type: 'NVARCHAR', max_length: -1 }, 'nvarchar(max)'],
    [{ data_type: 'decimal', numeric_precision: 18, numeric_scale: 4 }, 'decimal(18,4)'],
    [{ data_type: 'int', numeric_precision: 10, numeric_scale: 0 }, 'int'],
    [{ data_type: 'datetime2', datetime_precision: 7 }, 'datetime2'],
  ])('%j is reported as %s', (extra, dataType) => {
    const [c] = catalogColumnsFrom([{ ...base, ...extra }]);
    expect(dataTypeOf(c!)).toBe(dataType);
  });

  it('reports nullability', () => {
    const [c] = catalogColumnsFrom([{ ...base, data_type: 'int', is_nullable: 'NO' }]);
    expect(tableColumnOf(c!)).toEqual({ name: 'c', dataType: 'int', nullable: false });
  });
});
