// The table catalog, the failure ledger, reference-config validation and migration rollback against real databases:
// PostgreSQL and SQL Server when MSSQL_URL is set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnSpec, Database, TableRef } from '../../src/db/types';
import { problemCount, repairReferenceConfig, validateReferenceConfig } from '../../src/reference-config';
import { databaseTargets } from '../support/db-targets';

const targets = databaseTargets('cat_');

const columns: ColumnSpec[] = [{ name: 'code', type: { kind: 'text', maxLength: 10 } }, { name: 'elev', type: { kind: 'decimal', precision: 8, scale: 2 } }];

async function fullload(db: Database, target: TableRef, loadId: string, rows: (string | null)[][]): Promise<void> {
  const load = await db.beginLoad({ loadId, target, mode: 'fullload', columns, filePath: `/drop/reference_data_table/fullload/${target.name}.csv`, fileHash: loadId });
  await db.writeBatch(loadId, ['code', 'elev'], rows, { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: rows.length, byteOffset: 10 * rows.length });
  await db.finishLoad(load.loadId);
}

for (const target of targets) {
  // Its fixtures replace tables by fullload, whose swap moves the old one to bkp with ALTER SCHEMA … TRANSFER.
  describe.skipIf(target.skip || target.lacks('alter-schema-transfer'))(`catalog, failures and rollback: ${target.name}`, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    const suffix = Math.random().toString(36).slice(2, 8);
    const airports = { schema: 'ref', name: `cat_airports_${suffix}` };
    const trades = { schema: 'data', name: `cat_trades_${suffix}` };

    beforeAll(async () => {
      ({ db, cleanup } = await target.open());
      await db.migrate();
      await fullload(db, airports, `lc1${suffix}`, [['BOM', '11.00'], ['DEL', '216.50']]);
      await fullload(db, airports, `lc2${suffix}`, [['BOM', '11.00'], ['DEL', '216.50'], ['MAA', '16.00']]);
      await db.upsertReferenceConfig({ table: airports, sourceFile: '/drop/a.csv', loadType: 'fullload' });
      await fullload(db, trades, `lc3${suffix}`, [['X', '1.00']]);
    });
    afterAll(async () => cleanup?.());

    it('lists loaded tables with row counts, typed columns, last load and config row; not shadows in flight', async () => {
      await db.beginLoad({ loadId: `lc4${suffix}`, target: trades, mode: 'fullload', columns, filePath: '/x', fileHash: null });
      const tables = (await db.catalog.listTables()).filter((t) => t.name.endsWith(suffix));
      expect(tables.map((t) => `${t.schema}.${t.name}`)).toEqual([`data.${trades.name}`, `ref.${airports.name}`]);
      const [t, a] = tables;
      expect(a).toMatchObject({ referenceData: true, rowCount: 3, lastLoad: { loadId: `lc2${suffix}`, status: 'loaded', rows: 3, mode: 'fullload' } });
      expect(a!.columns.map((c) => c.name)).toEqual(['code', 'elev']);
      // PostgreSQL creates decimals unbounded (exact for any later value); SQL Server keeps the planned decimal(p,s).
      expect(a!.columns[1]!.dataType).toMatch(/^(numeric|decimal\(8,2\))$/);
      expect(a!.config).toMatchObject({ table: airports, sourceFile: '/drop/a.csv', loadType: 'fullload', isActive: true });
      // The newest load of trades is the one still in flight.
      expect(t).toMatchObject({ referenceData: false, rowCount: 1, config: null, lastLoad: { loadId: `lc4${suffix}`, status: 'loading' } });
      await db.abortLoad(`lc4${suffix}`);
    });

    it('shows one table in detail with its loads and bkp copies, and nothing for an unknown one', async () => {
      const detail = await db.catalog.getTable(airports);
      expect(detail?.loads.map((l) => l.loadId)).toEqual([`lc2${suffix}`, `lc1${suffix}`]);
      expect(detail?.backups).toHaveLength(1);
      expect(detail?.backups[0]).toMatch(new RegExp(`^bkp\\.cat_airports_${suffix}__\\d{14}_`));
      expect(await db.catalog.getTable({ schema: 'ref', name: `nope_${suffix}` })).toBeNull();
      expect(await db.catalog.getTable({ schema: 'ref', name: 'loads' })).toBeNull();
    });

    it('config validate finds orphans, missing and inactive rows, and --repair fixes them', async () => {
      const gone = { schema: 'ref', name: `cat_gone_${suffix}` };
      const noConfig = { schema: 'ref', name: `cat_nocfg_${suffix}` };
      await db.upsertReferenceConfig({ table: gone, sourceFile: '/drop/gone.csv', loadType: 'append' });
      await fullload(db, noConfig, `lc5${suffix}`, [['A', '1.00']]);
      await db.catalog.deactivateReferenceConfig(airports);
      const mine = (p: Awaited<ReturnType<typeof validateReferenceConfig>>) => ({
        orphans: p.orphans.map((c) => c.table.name).filter((n) => n.endsWith(suffix)),
        missing: p.missing.map((t) => t.name).filter((n) => n.endsWith(suffix)),
        inactive: p.inactive.map((c) => c.table.name).filter((n) => n.endsWith(suffix)),
      });
      const found = await validateReferenceConfig(db);
      expect(mine(found)).toEqual({ orphans: [gone.name], missing: [noConfig.name], inactive: [airports.name] });
      await repairReferenceConfig(db, found);
      expect(mine(await validateReferenceConfig(db))).toEqual({ orphans: [], missing: [], inactive: [] });
      const configs = await db.catalog.listReferenceConfigs();
      expect(configs.find((c) => c.table.name === gone.name)?.isActive).toBe(false);
      expect(configs.find((c) => c.table.name === noConfig.name)).toMatchObject({ isActive: true, loadType: 'fullload', sourceFile: `/drop/reference_data_table/fullload/${noConfig.name}.csv` });
      expect(configs.find((c) => c.table.name === airports.name)?.isActive).toBe(true);
      // The database is this suite's own: nothing else is left to repair.
      expect(problemCount(await validateReferenceConfig(db))).toBe(0);
    });

    it('stores failure categories and lists failed files of a period, newest first', async () => {
      const a = `/drop/none_reference_data_table/append/fa_${suffix}.csv`;
      const b = `/drop/reference_data_table/fullload/fb_${suffix}.csv`;
      const since = new Date(Date.now() - 60_000);
      await db.upsertTracking({ filePath: a, fileName: 'fa.csv', status: 'error', tableName: 'fa', loadType: 'append', isReferenceData: false, errorMessage: 'ragged', processedAt: new Date(Date.now() - 1000) });
      await db.failures.setCategory(a, 'InvalidFile');
      await db.upsertTracking({ filePath: b, fileName: 'fb.csv', status: 'error', tableName: 'fb', processedAt: new Date() });
      await db.upsertTracking({ filePath: `/drop/ok_${suffix}.csv`, fileName: 'ok.csv', status: 'loaded', processedAt: new Date() });
      const failures = (await db.failures.listFailures({ since, limit: 100 })).filter((f) => f.filePath.includes(suffix));
      expect(failures.map((f) => [f.fileName, f.category])).toEqual([['fb.csv', null], ['fa.csv', 'InvalidFile']]);
      expect(failures[1]).toMatchObject({ tableName: 'fa', loadType: 'append', isReferenceData: false, errorMessage: 'ragged' });
      expect(await db.failures.listFailures({ since: new Date(Date.now() + 60_000), limit: 100 })).toEqual([]);
      await db.failures.setCategory(a, null);
      expect((await db.failures.listFailures({ since, limit: 100 })).find((f) => f.filePath === a)?.category).toBeNull();
    });

    it('rolls migrations back newest first, each recorded, and migrates forward again', async () => {
      const latest = Math.max(...(await db.migrationStatus()).map((m) => m.version));
      const after = await db.migrateDown(4);
      expect(after.filter((m) => m.version > 4).every((m) => m.appliedAt === null)).toBe(true);
      expect(after.filter((m) => m.version <= 4).every((m) => m.appliedAt !== null)).toBe(true);
      // 005 is gone with its column: storing a category fails until it is applied again.
      await expect(db.failures.setCategory('/x', 'InvalidFile')).rejects.toThrow(/error_category/);
      expect((await db.migrateDown(4)).filter((m) => m.appliedAt).length).toBe(after.filter((m) => m.appliedAt).length);
      const again = await db.migrate();
      expect(again.every((m) => m.appliedAt)).toBe(true);
      expect(Math.max(...again.map((m) => m.version))).toBe(latest);
      await db.failures.setCategory('/x', 'InvalidFile');
    });
  });
}
