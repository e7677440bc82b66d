// Unit tests of the SQL Server statement generators: quoting, types, DDL, the swap, loads and migration bookkeeping.
import { describe, expect, it } from 'vitest';
import type { ColumnType } from '../../../src/db/types';
import {
  LOAD_ID_COLUMN, abortLoadRecordSql, addColumnSql, addLoadIdColumnSql, advanceCheckpointSql, columnTypeSql, countRowsSql, createTableSql,
  deleteLoadRowsSql, describeTableSql, dropTableIfExistsSql, ensureMigrationsTableSql, ensureSchemaSql, finishLoadRecordSql, insertLoadSql,
  migrationAppliedSql, migrationLockSql, qualified, quoteIdent, recordMigrationSql, selectLoadSql, swapSql, tablesWithPrefixSql,
} from '../../../src/db/mssql/sql';
import { expectParamsConsistent, readBracketed } from './statement-check';

const hostileNames = ['a]b', ']', ']]', '[x]', '; DROP TABLE x', "x'; DROP TABLE y; --", 'select', 'table', 'order', 'a b', 'a.b', 'ünïcødé', 'x'.repeat(128)];

describe('quoteIdent', () => {
  it.each([
    ['plain', '[plain]'],
    ['a]b', '[a]]b]'],
    ['; DROP TABLE x', '[; DROP TABLE x]'],
    ['select', '[select]'],
    ['[x]', '[[x]]]'],
  ])('quotes %j as %s', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });

  it.each(hostileNames)('a hostile name %j reads back as exactly itself and nothing follows it', (name) => {
    expect(readBracketed(quoteIdent(name))).toEqual({ name, rest: '' });
  });

  it('refuses empty, over-128-character and NUL names', () => {
    expect(() => quoteIdent('')).toThrow(/empty/);
    expect(() => quoteIdent('x'.repeat(129))).toThrow(/128/);
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
  });

  it('qualified quotes schema and name separately', () => {
    const q = qualified({ schema: 'da]ta', name: '; DROP TABLE x' });
    expect(q).toBe('[da]]ta].[; DROP TABLE x]');
    const first = readBracketed(q);
    expect(first.name).toBe('da]ta');
    expect(readBracketed(first.rest.slice(1))).toEqual({ name: '; DROP TABLE x', rest: '' });
  });
});

describe('columnTypeSql', () => {
  it.each<[ColumnType, string]>([
    [{ kind: 'integer' }, 'int'],
    [{ kind: 'bigint' }, 'bigint'],
    [{ kind: 'decimal', precision: 18, scale: 4 }, 'decimal(18,4)'],
    [{ kind: 'decimal', precision: 38, scale: 0 }, 'decimal(38,0)'],
    [{ kind: 'boolean' }, 'bit'],
    [{ kind: 'date' }, 'date'],
    [{ kind: 'datetime' }, 'datetime2'],
    [{ kind: 'text', maxLength: 50 }, 'nvarchar(50)'],
    [{ kind: 'text', maxLength: 4000 }, 'nvarchar(4000)'],
    [{ kind: 'text', maxLength: 4001 }, 'nvarchar(max)'],
    [{ kind: 'text' }, 'nvarchar(max)'],
  ])('maps %j to %s', (type, sql) => {
    expect(columnTypeSql(type)).toBe(sql);
  });

  it.each<ColumnType>([
    { kind: 'decimal', precision: 0, scale: 0 },
    { kind: 'decimal', precision: 39, scale: 2 },
    { kind: 'decimal', precision: 10, scale: 11 },
    { kind: 'decimal', precision: 10.5, scale: 1 },
    { kind: 'text', maxLength: 0 },
  ])('refuses %j', (type) => {
    expect(() => columnTypeSql(type)).toThrow();
  });
});

describe('table DDL', () => {
  const table = { schema: 'data', name: 'prices' };

  it('creates every column nullable plus the load id tag', () => {
    const ddl = createTableSql(table, [
      { name: 'code', type: { kind: 'text', maxLength: 12 } },
      { name: 'order', type: { kind: 'decimal', precision: 10, scale: 2 } },
    ]);
    expect(ddl).toBe(
      'CREATE TABLE [data].[prices] (\n  [code] nvarchar(12) NULL,\n  [order] decimal(10,2) NULL,\n  [refdata_load_id] nvarchar(64) NULL\n)',
    );
  });

  it('quotes hostile column names so they stay one identifier', () => {
    const ddl = createTableSql(table, [{ name: 'a]b; DROP TABLE x', type: { kind: 'integer' } }]);
    expect(ddl).toContain('[a]]b; DROP TABLE x] int NULL');
  });

  it('refuses the reserved load id column and case-insensitive duplicates', () => {
    expect(() => createTableSql(table, [{ name: LOAD_ID_COLUMN, type: { kind: 'text' } }])).toThrow(/reserved/);
    expect(() => createTableSql(table, [{ name: 'Code', type: { kind: 'text' } }, { name: 'code', type: { kind: 'text' } }])).toThrow(/duplicate/);
    expect(() => addColumnSql(table, { name: 'REFDATA_LOAD_ID', type: { kind: 'text' } })).toThrow(/reserved/);
  });

  it('adds columns as nullable and drops only if present', () => {
    expect(addColumnSql(table, { name: 'qty', type: { kind: 'bigint' } })).toBe('ALTER TABLE [data].[prices] ADD [qty] bigint NULL');
    expect(addLoadIdColumnSql(table)).toBe('ALTER TABLE [data].[prices] ADD [refdata_load_id] nvarchar(64) NULL');
    expect(dropTableIfExistsSql({ schema: 'data', name: 'x]y' })).toBe('DROP TABLE IF EXISTS [data].[x]]y]');
    expect(countRowsSql(table)).toBe('SELECT COUNT_BIG(*) AS row_count FROM [data].[prices]');
  });

  it('creates a schema through EXEC of a QUOTENAMEd parameter, since CREATE SCHEMA must be alone in its batch', () => {
    const stmt = ensureSchemaSql('da]ta');
    expect(stmt.text).toMatch(/IF SCHEMA_ID\(@schema_name\) IS NULL/);
    expect(stmt.text).toContain("N'CREATE SCHEMA ' + QUOTENAME(@schema_name)");
    expect(stmt.text).toMatch(/EXEC \(@ddl\)/);
    expect(stmt.text).not.toContain('da]ta');
    expectParamsConsistent(stmt);
  });

  it('describes a table from INFORMATION_SCHEMA by parameters', () => {
    const stmt = describeTableSql(table);
    expect(stmt.text).toContain('INFORMATION_SCHEMA.COLUMNS');
    expect(stmt.text).toContain('ORDER BY ORDINAL_POSITION');
    expect(stmt.params.schema_name?.value).toBe('data');
    expectParamsConsistent(stmt);
  });
});

describe('swapSql', () => {
  const target = { schema: 'data', name: 'prices' };
  const shadow = { schema: 'data', name: 'prices__shadow_ab12' };
  const backup = { schema: 'bkp', name: 'prices__20240102030405_ab12' };

  it('renames the target to the backup name, transfers it to bkp, then renames the shadow into place', () => {
    const stmt = swapSql(target, shadow, backup);
    const lines = stmt.text.split('\n');
    expect(lines).toEqual([
      "EXEC sp_rename @objname = @target_path, @newname = @backup_name, @objtype = N'OBJECT';",
      'ALTER SCHEMA [bkp] TRANSFER [data].[prices__20240102030405_ab12];',
      "EXEC sp_rename @objname = @shadow_path, @newname = @target_name, @objtype = N'OBJECT';",
    ]);
    expect(stmt.params).toMatchObject({
      target_path: { value: '[data].[prices]' },
      backup_name: { value: 'prices__20240102030405_ab12' },
      shadow_path: { value: '[data].[prices__shadow_ab12]' },
      target_name: { value: 'prices' },
    });
    expectParamsConsistent(stmt);
  });

  it('without a current table only renames the shadow', () => {
    const stmt = swapSql(target, shadow, null);
    expect(stmt.text).toBe("EXEC sp_rename @objname = @shadow_path, @newname = @target_name, @objtype = N'OBJECT';");
    expectParamsConsistent(stmt);
  });

  it('passes hostile names to sp_rename as values and quotes them in ALTER SCHEMA', () => {
    const stmt = swapSql({ schema: 'data', name: "p]'x" }, { schema: 'data', name: 's' }, { schema: 'bkp', name: "p]'x__1" });
    expect(stmt.text).toContain("ALTER SCHEMA [bkp] TRANSFER [data].[p]]'x__1];");
    expect(stmt.params.target_name?.value).toBe("p]'x");
    expect(stmt.params.target_path?.value).toBe("[data].[p]]'x]");
  });

  it('refuses a shadow outside the target schema (sp_rename cannot move it)', () => {
    expect(() => swapSql(target, { schema: 'bkp', name: 'x' }, null)).toThrow(/schema/);
  });
});

describe('load statements', () => {
  it("deletes exactly one load's rows by parameter", () => {
    const stmt = deleteLoadRowsSql({ schema: 'data', name: 't' }, "l1'; DROP TABLE x");
    expect(stmt.text).toBe('DELETE FROM [data].[t] WHERE [refdata_load_id] = @load_id');
    expectParamsConsistent(stmt);
  });

  it('locks the load row only when asked', () => {
    expect(selectLoadSql('x').text).not.toContain('UPDLOCK');
    expect(selectLoadSql('x', true).text).toContain('WITH (UPDLOCK, HOLDLOCK)');
  });

  it('inserts a load as loading and returns the row', () => {
    const stmt = insertLoadSql({
      loadId: 'l1', target: { schema: 'data', name: 't' }, staging: { schema: 'data', name: 't__shadow_l1' }, mode: 'fullload', filePath: '/f', fileHash: null,
    });
    expect(stmt.text).toContain('OUTPUT inserted.load_id');
    expect(stmt.text).toContain("N'loading'");
    expect(stmt.params.file_hash).toEqual({ type: 'nvarchar', value: null });
    expectParamsConsistent(stmt);
  });

  it('advances the checkpoint only from the expected one', () => {
    const stmt = advanceCheckpointSql('l1', { rowsCommitted: 10, byteOffset: 100 }, { rowsCommitted: 20, rowsQuarantined: 3, byteOffset: 200 });
    expect(stmt.text).toMatch(/WHERE load_id = @load_id AND status = N'loading' AND rows_committed = @expected_rows AND rows_quarantined = @expected_quarantined\s+AND byte_offset = @expected_offset/);
    expect(stmt.params).toMatchObject({
      expected_rows: { type: 'bigint', value: 10 }, expected_quarantined: { type: 'bigint', value: 0 }, expected_offset: { type: 'bigint', value: 100 },
      next_rows: { type: 'bigint', value: 20 }, next_quarantined: { type: 'bigint', value: 3 }, next_offset: { type: 'bigint', value: 200 },
    });
    expectParamsConsistent(stmt);
  });

  it('finishes and aborts only a load that is still loading', () => {
    const finish = finishLoadRecordSql('l1', { schema: 'bkp', name: 'b' });
    expect(finish.text).toContain("status = N'loaded'");
    expect(finish.text).toContain("AND status = N'loading'");
    expect(finish.params.backup_table?.value).toBe('b');
    expect(finishLoadRecordSql('l1', null).params.backup_schema?.value).toBeNull();
    expect(abortLoadRecordSql('l1').text).toContain("status = N'aborted'");
    for (const s of [finish, abortLoadRecordSql('l1')]) expectParamsConsistent(s);
  });

  it('lists tables by prefix through parameters only', () => {
    const stmt = tablesWithPrefixSql(['data', 'bkp'], "c_'x");
    expect(stmt.text).toContain('IN (@schema_0, @schema_1)');
    expectParamsConsistent(stmt);
    expect(() => tablesWithPrefixSql(['data'], '')).toThrow();
  });
});

describe('migration bookkeeping', () => {
  it('creates ref and ref.schema_migrations(version int primary key, name, applied_at) when missing', () => {
    expect(ensureMigrationsTableSql).toContain("IF SCHEMA_ID(N'ref') IS NULL EXEC (N'CREATE SCHEMA [ref]')");
    expect(ensureMigrationsTableSql).toMatch(/IF OBJECT_ID\(N'ref\.schema_migrations', N'U'\) IS NULL/);
    expect(ensureMigrationsTableSql).toMatch(/version\s+int NOT NULL CONSTRAINT pk_schema_migrations PRIMARY KEY/);
    expect(ensureMigrationsTableSql).toMatch(/name\s+nvarchar\(255\) NOT NULL/);
    expect(ensureMigrationsTableSql).toMatch(/applied_at datetime2 NOT NULL .*DEFAULT SYSUTCDATETIME\(\)/);
  });

  it('records and checks versions by parameter under a transaction-owned app lock', () => {
    expect(recordMigrationSql(1, 'foundation').params).toEqual({ version: { type: 'int', value: 1 }, name: { type: 'nvarchar', value: 'foundation' } });
    expect(migrationAppliedSql(1).text).toContain('UPDLOCK, HOLDLOCK');
    const lock = migrationLockSql(1000);
    expect(lock.text).toContain("@LockOwner = N'Transaction'");
    for (const s of [recordMigrationSql(1, 'x'), migrationAppliedSql(1), lock]) expectParamsConsistent(s);
  });
});
