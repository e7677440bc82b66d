// Pure pieces of the table catalog and of migration rollback: which tables count as loaded, backups, rollback plans.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleTables, backupsOf, isLoadedTableName, newestLoadPerTable, type CatalogColumnRow } from '../../src/db/catalog';
import { readMigrations, type MigrationFile } from '../../src/db/migration-files';
import { rollbackPlan } from '../../src/db/migrate-down';
import type { LoadRecord } from '../../src/db/types';

const col = (schema: string, table: string, name: string, dataType = 'text'): CatalogColumnRow => ({ schema, table, name, dataType, nullable: true });

function load(table: string, loadId: string, startedAt: string, status: LoadRecord['status'] = 'loaded'): LoadRecord {
  return {
    loadId, target: { schema: 'ref', name: table }, staging: { schema: 'ref', name: table }, mode: 'fullload', filePath: `/d/${table}.csv`,
    fileHash: null, status, rowsCommitted: 3, rowsQuarantined: 0, byteOffset: 10, batches: 1, backup: null, startedAt: new Date(startedAt), finishedAt: null,
  };
}

describe('assembleTables', () => {
  it('keeps tables that carry the load-id column, leaves out shadows, stages, refdata\'s own tables and foreign tables', () => {
    const columns = [
      col('ref', 'airports', 'code'), col('ref', 'airports', 'refdata_load_id'),
      col('ref', 'airports__shadow_ab12cd34', 'code'), col('ref', 'airports__shadow_ab12cd34', 'refdata_load_id'),
      col('data', 'trades__stage_ab12cd34', 'refdata_load_id'),
      col('ref', 'loads', 'load_id'), col('ref', 'instruments', 'refdata_load_id'),
      col('data', 'hand_made', 'x'),
      col('data', 'trades', 'qty', 'integer'), col('data', 'trades', 'refdata_load_id'),
    ];
    const configs = [{ id: 1, table: { schema: 'ref', name: 'airports' }, sourceFile: '/d/a.csv', loadType: 'fullload' as const, keyColumn: null, isActive: true, createdAt: 'x', updatedAt: 'x' }];
    const tables = assembleTables(columns, [load('airports', 'load_1', '2025-01-01T00:00:00Z')], configs, new Map([['ref.airports', 3]]));
    expect(tables.map((t) => `${t.schema}.${t.name}`)).toEqual(['data.trades', 'ref.airports']);
    const airports = tables[1]!;
    expect(airports).toMatchObject({ referenceData: true, rowCount: 3, columns: [{ name: 'code', dataType: 'text', nullable: true }], config: { id: 1 } });
    expect(airports.lastLoad).toMatchObject({ loadId: 'load_1', rows: 3, startedAt: '2025-01-01T00:00:00.000Z' });
    expect(tables[0]).toMatchObject({ referenceData: false, rowCount: 0, lastLoad: null, config: null, columns: [{ name: 'qty', dataType: 'integer' }] });
  });

  it('names shadows and stages as in-flight, not loaded', () => {
    expect(isLoadedTableName('airports')).toBe(true);
    expect(isLoadedTableName('airports__shadow_0a1b2c3d')).toBe(false);
    expect(isLoadedTableName('airports__stage_0a1b2c3d')).toBe(false);
    expect(isLoadedTableName('file_monitor_tracking')).toBe(false);
  });

  it('takes the newest load of each table', () => {
    const newest = newestLoadPerTable([load('a', 'l1', '2025-01-01'), load('a', 'l2', '2025-02-01'), load('b', 'l3', '2024-01-01')]);
    expect(newest.map((l) => l.loadId).sort()).toEqual(['l2', 'l3']);
  });
});

describe('backupsOf', () => {
  it('finds a table\'s bkp copies by name, newest first, and not those of a table sharing its prefix', () => {
    const bkp = ['airports__20250101020304_ab12cd', 'airports__20250301020304_ef34gh', 'airports_old__20250401020304_aa', 'airports__x'];
    expect(backupsOf({ schema: 'ref', name: 'airports' }, bkp)).toEqual(['bkp.airports__20250301020304_ef34gh', 'bkp.airports__20250101020304_ab12cd']);
  });
});

describe('rollbackPlan', () => {
  const m = (version: number, down: string | null): MigrationFile => ({ version, name: `m${version}`, sql: 'x', downSql: down });
  const known = [m(1, 'd1'), m(2, 'd2'), m(3, 'd3'), m(5, 'd5')];

  it('undoes applied versions above the target, newest first', () => {
    expect(rollbackPlan([1, 2, 3, 5], known, 1).map((s) => s.version)).toEqual([5, 3, 2]);
    expect(rollbackPlan([1, 2], known, 2)).toEqual([]);
    expect(rollbackPlan([1, 2, 3, 5], known, 0).map((s) => s.downSql)).toEqual(['d5', 'd3', 'd2', 'd1']);
  });

  it('refuses before doing anything when a down file is missing or a version is unknown', () => {
    expect(() => rollbackPlan([1, 2, 3], [m(1, 'd1'), m(2, null), m(3, 'd3')], 0)).toThrow(/002_m2 has no 002_m2\.down\.sql/);
    expect(() => rollbackPlan([1, 9], known, 0)).toThrow(/migration 9 is applied but this release does not know it/);
    expect(() => rollbackPlan([1], known, -1)).toThrow(/0 or more/);
  });

  it('has a down file for every migration of both dialects', () => {
    const root = path.resolve(__dirname, '../../sql');
    for (const dialect of ['postgres', 'mssql']) {
      const missing = readMigrations(path.join(root, dialect)).filter((f) => f.downSql === null).map((f) => `${dialect}/${f.version}_${f.name}`);
      expect(missing).toEqual([]);
    }
    const names = (d: string) => fs.readdirSync(path.join(root, d)).sort();
    expect(names('mssql')).toEqual(names('postgres'));
  });
});
