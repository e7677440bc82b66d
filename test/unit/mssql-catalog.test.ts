// The SQL Server catalog, failure-ledger and rollback statements without a server: every parameter bound, rows narrowed once.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  backupTablesSql, catalogColumnRowsFrom, catalogColumnsSql, deactivateReferenceConfigSql, newestLoadsSql, referenceConfigsFrom,
  referenceConfigsSql, tableLoadsSql,
} from '../../src/db/mssql/catalog-sql';
import { failuresFrom, listFailuresSql, setErrorCategorySql } from '../../src/db/mssql/failures';
import { forgetMigrationSql } from '../../src/db/mssql/migrate-down';
import { expectParamsConsistent } from './mssql/statement-check';

const table = { schema: 'ref', name: "odd]name'" };

describe('catalog statements', () => {
  it('bind every parameter they reference and never inline a name or value', () => {
    for (const stmt of [
      catalogColumnsSql(), catalogColumnsSql(table), tableLoadsSql(table, 10), referenceConfigsSql(), referenceConfigsSql(table),
      deactivateReferenceConfigSql(table), setErrorCategorySql('/drop/a.csv', 'InvalidFile'), listFailuresSql(new Date(0), 50), forgetMigrationSql(5),
    ]) {
      expectParamsConsistent(stmt);
      expect(stmt.text).not.toContain('odd]name');
      expect(stmt.text).not.toContain('/drop/a.csv');
    }
  });

  it('lists columns of base tables in ref and data only, or of one table', () => {
    const all = catalogColumnsSql();
    expect(all.text).toContain("t.TABLE_TYPE = 'BASE TABLE'");
    expect(all.text).toContain('c.TABLE_SCHEMA IN (@schema_0, @schema_1)');
    expect(Object.values(all.params).map((p) => p.value)).toEqual(['ref', 'data']);
    const one = catalogColumnsSql(table);
    expect(one.params.table_name!.value).toBe(table.name);
    expect(one.text).toMatch(/ORDER BY c\.TABLE_SCHEMA, c\.TABLE_NAME, c\.ORDINAL_POSITION$/);
  });

  it('picks the newest load per table with ROW_NUMBER and caps a table\'s history with TOP', () => {
    expect(newestLoadsSql).toContain('ROW_NUMBER() OVER (PARTITION BY target_schema, target_table ORDER BY started_at DESC)');
    expect(newestLoadsSql).toMatch(/WHERE rn = 1$/);
    expect(tableLoadsSql(table, 10).text).toMatch(/^SELECT TOP \(@limit\) /);
    expect(tableLoadsSql(table, 10).params.limit).toEqual({ type: 'int', value: 10 });
    expect(backupTablesSql).toContain("s.name = N'bkp'");
  });

  it('narrows catalog rows into typed columns with their DDL spelling', () => {
    const rows = [
      { table_schema: 'ref', table_name: 'airports', column_name: 'code', data_type: 'NVARCHAR', max_length: 10, numeric_precision: null, numeric_scale: null, datetime_precision: null, is_nullable: 'YES' },
      { table_schema: 'ref', table_name: 'airports', column_name: 'elev', data_type: 'decimal', max_length: null, numeric_precision: 12, numeric_scale: 2, datetime_precision: null, is_nullable: 'NO' },
      { table_schema: 'ref', table_name: 'airports', column_name: 'notes', data_type: 'nvarchar', max_length: -1, numeric_precision: null, numeric_scale: null, datetime_precision: null, is_nullable: 'YES' },
    ];
    expect(catalogColumnRowsFrom(rows)).toEqual([
      { schema: 'ref', table: 'airports', name: 'code', dataType: 'nvarchar(10)', nullable: true },
      { schema: 'ref', table: 'airports', name: 'elev', dataType: 'decimal(12,2)', nullable: false },
      { schema: 'ref', table: 'airports', name: 'notes', dataType: 'nvarchar(max)', nullable: true },
    ]);
    expect(() => catalogColumnRowsFrom([{ table_schema: 'ref' }])).toThrow();
  });

  it('narrows config rows and marks orphans inactive with the server clock', () => {
    const at = new Date('2025-01-02T03:04:05Z');
    expect(referenceConfigsFrom([{ id: 1, schema_name: 'ref', table_name: 'a', source_file: null, load_type: 'fullload', key_column: null, is_active: true, created_at: at, updated_at: at }])).toEqual([
      { id: 1, table: { schema: 'ref', name: 'a' }, sourceFile: null, loadType: 'fullload', keyColumn: null, isActive: true, createdAt: at.toISOString(), updatedAt: at.toISOString() },
    ]);
    expect(deactivateReferenceConfigSql(table).text).toContain('is_active = 0, updated_at = SYSUTCDATETIME()');
  });
});

describe('failure ledger statements', () => {
  it('select failed files of the window newest first, capped', () => {
    const stmt = listFailuresSql(new Date('2025-01-01T00:00:00Z'), 50_000);
    expect(stmt.text).toContain("WHERE status = N'error' AND COALESCE(processed_at, created_at) >= @since");
    expect(stmt.params.limit!.value).toBe(10_000);
    expect(stmt.params.since).toEqual({ type: 'datetime2', value: new Date('2025-01-01T00:00:00Z') });
  });

  it('narrow rows', () => {
    const at = new Date();
    expect(failuresFrom([{ file_path: '/d/x.csv', file_name: null, table_name: 'x', load_type: 'append', is_reference_data: false, error_category: 'InvalidFile', error_message: 'bad', workflow_id: 'w', failed_at: at }])).toEqual([
      { filePath: '/d/x.csv', fileName: '', tableName: 'x', loadType: 'append', isReferenceData: false, category: 'InvalidFile', errorMessage: 'bad', workflowId: 'w', failedAt: at },
    ]);
  });
});

describe('sql/mssql/005_error_category.sql', () => {
  const root = path.resolve(__dirname, '../../sql');
  const ms = fs.readFileSync(path.join(root, 'mssql/005_error_category.sql'), 'utf8');
  const pg = fs.readFileSync(path.join(root, 'postgres/005_error_category.sql'), 'utf8');

  it('adds the same column and index as PostgreSQL, idempotently, as one batch', () => {
    expect(pg).toMatch(/ADD COLUMN IF NOT EXISTS error_category varchar\(50\)/);
    expect(ms).toMatch(/IF COL_LENGTH\(N'ref\.file_monitor_tracking', N'error_category'\) IS NULL\s+ALTER TABLE ref\.file_monitor_tracking ADD error_category nvarchar\(50\) NULL;/);
    for (const sql of [pg, ms]) expect(sql).toMatch(/ix_file_monitor_tracking_failures ON ref\.file_monitor_tracking \(status, processed_at\)/);
    expect(ms).not.toMatch(/^\s*GO\s*$/im);
    // The batch is compiled before the column exists, so no later statement may name it.
    expect(ms.replace(/--[^\n]*/g, '').split('error_category').length - 1).toBe(2);
  });
});
