// One contract for the database port, run against PostgreSQL and SQL Server when MSSQL_URL is set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/types';
import { databaseTargets, type DatabaseTarget } from '../support/db-targets';

const targets = databaseTargets('contract_');

for (const target of targets) {
  describe.skipIf(target.skip)(`database port contract: ${target.name}`, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    const suffix = Math.random().toString(36).slice(2, 8);
    const table = { schema: 'data', name: `contract_${suffix}` };

    /** Rows now in a table that may not exist yet: each test counts from where the ones before it left off. */
    const rowsIn = async (t: typeof table) => ((await db.describeTable(t)) === null ? 0 : db.countRows(t));
    /** A statement this target's engine lacks (Babelfish, for SQL Server) skips the test that needs it, saying why. */
    const lacks = (feature: Parameters<DatabaseTarget['lacks']>[0]) => target.lacks(feature);

    beforeAll(async () => {
      ({ db, cleanup } = await target.open());
      await db.migrate();
    });
    afterAll(async () => cleanup?.());

    it('migrates idempotently and reports every migration applied', async () => {
      const again = await db.migrate();
      expect(again.length).toBeGreaterThan(0);
      expect(again.every((m) => m.appliedAt instanceof Date)).toBe(true);
    });

    it('tracking rows upsert by file path and list newest first with filters', async () => {
      const a = await db.upsertTracking({ filePath: `/drop/a_${suffix}.csv`, fileName: 'a.csv', status: 'waiting' });
      expect(a.status).toBe('waiting');
      expect(a.referenceConfigInserted).toBe(false);
      const b = await db.upsertTracking({ filePath: `/drop/a_${suffix}.csv`, status: 'loaded', rowsLoaded: 3, detectedHeaders: ['x', 'y'] });
      expect(b.id).toBe(a.id);
      expect(b.fileName).toBe('a.csv');
      expect(b.rowsLoaded).toBe(3);
      expect(b.detectedHeaders).toEqual(['x', 'y']);
      await db.upsertTracking({ filePath: `/drop/b_${suffix}.csv`, fileName: 'b.csv', status: 'error', tableName: `t_${suffix}` });
      const errors = await db.listTracking({ status: 'error', table: `t_${suffix}` });
      expect(errors.map((r) => r.fileName)).toEqual(['b.csv']);
      const all = await db.listTracking({ limit: 2 });
      expect(all[0].fileName).toBe('b.csv');
      await db.deleteTracking(`/drop/b_${suffix}.csv`);
      expect(await db.getTrackingByPath(`/drop/b_${suffix}.csv`)).toBeNull();
    });

    it('the ledger keeps one row per drop: a run writes its own row, the newest row of a path is its current state', async () => {
      const p = `/drop/h_${suffix}.csv`;
      const first = await db.upsertTracking({ runId: `r1${suffix}`, filePath: p, fileName: 'h.csv', status: 'waiting' });
      await db.upsertTracking({ filePath: p, status: 'loaded', rowsLoaded: 5, rowsQuarantined: 1, archivedPath: '/drop/processed/h.csv' });
      // A retried claim finds its own row; a new run adds one.
      expect((await db.upsertTracking({ runId: `r1${suffix}`, filePath: p, fileName: 'h.csv' })).id).toBe(first.id);
      const second = await db.upsertTracking({ runId: `r2${suffix}`, filePath: p, fileName: 'h.csv', status: 'waiting' });
      expect(second.id).not.toBe(first.id);
      await db.upsertTracking({ filePath: p, status: 'vanished' });
      expect(await db.getTracking(first.id)).toMatchObject({ status: 'loaded', rowsLoaded: 5, rowsQuarantined: 1, archivedPath: '/drop/processed/h.csv', runId: `r1${suffix}` });
      expect(await db.getTrackingByPath(p)).toMatchObject({ id: second.id, status: 'vanished', runId: `r2${suffix}` });
      const mine = <T extends { filePath: string }>(rows: T[]) => rows.filter((r) => r.filePath === p);
      expect(mine(await db.listTracking({ limit: 1000 })).length).toBe(2);
      expect(mine(await db.listTracking({ limit: 1000, latestPerPath: true })).map((r) => r.id)).toEqual([second.id]);
      expect(mine(await db.listTracking({ status: 'loaded', limit: 1000, latestPerPath: true }))).toEqual([]);
    });

    it.skipIf(lacks('alter-schema-transfer'))('fullload keeps the old rows in bkp and swaps atomically', async () => {
      const columns = [{ name: 'code', type: { kind: 'text' as const } }, { name: 'qty', type: { kind: 'integer' as const } }];
      const first = await db.beginLoad({ loadId: `l1${suffix}`, target: table, mode: 'fullload', columns, filePath: '/f1', fileHash: 'h1' });
      expect(await db.describeTable(table)).toBeNull();
      await db.writeBatch(first.loadId, ['code', 'qty'], [['a', '1'], ['b', null]], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 2, byteOffset: 10 });
      await db.finishLoad(first.loadId);
      expect(await db.countRows(table)).toBe(2);

      const second = await db.beginLoad({ loadId: `l2${suffix}`, target: table, mode: 'fullload', columns, filePath: '/f2', fileHash: 'h2' });
      await db.writeBatch(second.loadId, ['code', 'qty'], [['c', '3']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 5 });
      expect(await db.countRows(table)).toBe(2);
      const done = await db.finishLoad(second.loadId);
      expect(await db.countRows(table)).toBe(1);
      expect(done.backup?.schema).toBe('bkp');
      expect(await db.countRows(done.backup!)).toBe(2);
      expect((await db.finishLoad(second.loadId)).status).toBe('loaded');
    });

    it('a stale checkpoint is refused and the batch is not written', async () => {
      const before = await rowsIn(table);
      const load = await db.beginLoad({ loadId: `l3${suffix}`, target: table, mode: 'append', columns: [{ name: 'code', type: { kind: 'text' } }], filePath: '/f3', fileHash: null });
      await db.writeBatch(load.loadId, ['code'], [['x']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 2 });
      await expect(
        db.writeBatch(load.loadId, ['code'], [['y']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 2 }),
      ).rejects.toThrow(/checkpoint moved/);
      expect(await db.countRows(load.staging)).toBe(load.staging.name === table.name ? 2 : 1);
      expect((await db.getLoad(load.loadId))?.rowsCommitted).toBe(1);
      await db.finishLoad(load.loadId);
      expect(await db.countRows(table)).toBe(before + 1);
    });

    it('aborting an append deletes exactly its rows, and is idempotent', async () => {
      const before = await rowsIn(table);
      const load = await db.beginLoad({ loadId: `l4${suffix}`, target: table, mode: 'append', columns: [{ name: 'code', type: { kind: 'text' } }, { name: 'extra', type: { kind: 'date' } }], filePath: '/f4', fileHash: null });
      await db.writeBatch(load.loadId, ['code', 'extra'], [['z', '2024-01-02']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 2 });
      expect((await db.describeTable(table))?.map((c) => c.name)).toContain('extra');
      await db.abortLoad(load.loadId);
      await db.abortLoad(load.loadId);
      expect(await db.countRows(table)).toBe(before);
      expect((await db.getLoad(load.loadId))?.status).toBe('aborted');
    });

    it('aborting a fullload drops its shadow and leaves the live table alone', async () => {
      const before = await rowsIn(table);
      const load = await db.beginLoad({ loadId: `l5${suffix}`, target: table, mode: 'fullload', columns: [{ name: 'code', type: { kind: 'text' } }], filePath: '/f5', fileHash: null });
      await db.writeBatch(load.loadId, ['code'], [['q']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 2 });
      await db.abortLoad(load.loadId);
      expect(await db.describeTable(load.staging)).toBeNull();
      expect(await db.countRows(table)).toBe(before);
    });

    it('reverting an append deletes its rows', async () => {
      const before = await db.countRows(table);
      const load = await db.beginLoad({ loadId: `l6${suffix}`, target: table, mode: 'append', columns: [{ name: 'code', type: { kind: 'text' } }], filePath: '/f6', fileHash: 'h6' });
      await db.writeBatch(load.loadId, ['code'], [['r1'], ['r2']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 2, byteOffset: 6 });
      await db.finishLoad(load.loadId);
      expect(await db.countRows(table)).toBe(before + 2);
      expect((await db.findLoadedByHash(table, 'h6'))?.loadId).toBe(load.loadId);
      expect((await db.revertLoad(load.loadId)).status).toBe('reverted');
      expect(await db.countRows(table)).toBe(before);
      expect(await db.findLoadedByHash(table, 'h6')).toBeNull();
    });

    it.skipIf(lacks('alter-schema-transfer'))('reverting a fullload brings the bkp copy back', async () => {
      const t2 = { schema: 'data', name: `revert_${suffix}` };
      const cols = [{ name: 'code', type: { kind: 'text' as const } }];
      const a = await db.beginLoad({ loadId: `l7${suffix}`, target: t2, mode: 'fullload', columns: cols, filePath: '/a', fileHash: null });
      await db.writeBatch(a.loadId, ['code'], [['old1'], ['old2'], ['old3']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 3, byteOffset: 9 });
      await db.finishLoad(a.loadId);
      const b = await db.beginLoad({ loadId: `l8${suffix}`, target: t2, mode: 'fullload', columns: cols, filePath: '/b', fileHash: null });
      await db.writeBatch(b.loadId, ['code'], [['new']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 3 });
      await db.finishLoad(b.loadId);
      await expect(db.revertLoad(a.loadId)).rejects.toThrow(/later fullload/);
      await db.revertLoad(b.loadId);
      expect(await db.countRows(t2)).toBe(3);
      expect((await db.listLoads({ table: t2.name })).map((l) => l.status)).toEqual(['reverted', 'loaded']);
    });

    it('an append is invisible to readers until it finishes, then all of its batches at once', async () => {
      const t = { schema: 'data', name: `contract_app_${suffix}` };
      const cols = [{ name: 'code', type: { kind: 'text' as const } }, { name: 'qty', type: { kind: 'integer' as const } }];
      const first = await db.beginLoad({ loadId: `la${suffix}`, target: t, mode: 'append', columns: cols, filePath: '/fa', fileHash: null });
      await db.writeBatch(first.loadId, ['code', 'qty'], [['a', '1']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 4 });
      await db.finishLoad(first.loadId);
      const load = await db.beginLoad({ loadId: `lb${suffix}`, target: t, mode: 'append', columns: cols, filePath: '/fb', fileHash: null });
      await db.writeBatch(load.loadId, ['code', 'qty'], [['b', '2'], ['c', null]], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 2, byteOffset: 8 });
      await db.writeBatch(load.loadId, ['code', 'qty'], [['d', '4']], { rowsCommitted: 2, byteOffset: 8 }, { rowsCommitted: 3, byteOffset: 12 });
      expect(await db.countRows(t)).toBe(1);
      await db.finishLoad(load.loadId);
      expect(await db.countRows(t)).toBe(4);
      await db.revertLoad(load.loadId);
      expect(await db.countRows(t)).toBe(1);
    });

    it("finishLoad records the whole file's hash, so the same file is found again as a duplicate", async () => {
      const t = { schema: 'data', name: `contract_hash_${suffix}` };
      const cols = [{ name: 'code', type: { kind: 'text' as const } }];
      for (const mode of ['fullload', 'append'] as const) {
        const load = await db.beginLoad({ loadId: `lh${mode}${suffix}`, target: t, mode, columns: cols, filePath: '/fh', fileHash: null });
        await db.writeBatch(load.loadId, ['code'], [['x']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 2 });
        await db.finishLoad(load.loadId, `hash_${mode}_${suffix}`);
        expect((await db.getLoad(load.loadId))?.fileHash).toBe(`hash_${mode}_${suffix}`);
        expect((await db.findLoadedByHash(t, `hash_${mode}_${suffix}`))?.loadId).toBe(load.loadId);
      }
    });

    it('two identical appends finishing at the same moment: one is made visible, the other answers duplicate and shows nothing', async () => {
      const t = { schema: 'data', name: `contract_race_${suffix}` };
      const cols = [{ name: 'code', type: { kind: 'text' as const } }];
      const base = await db.beginLoad({ loadId: `lr0${suffix}`, target: t, mode: 'append', columns: cols, filePath: '/r0', fileHash: null });
      await db.writeBatch(base.loadId, ['code'], [['base']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 5 });
      await db.finishLoad(base.loadId, `race_base_${suffix}`);
      const ids = [`lr1${suffix}`, `lr2${suffix}`];
      for (const [i, loadId] of ids.entries()) {
        await db.beginLoad({ loadId, target: t, mode: 'append', columns: cols, filePath: `/r${i + 1}`, fileHash: null });
        await db.writeBatch(loadId, ['code'], [['x'], ['y']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 2, byteOffset: 4 });
      }
      const hash = `race_same_${suffix}`;
      const results = await Promise.all(ids.map((id) => db.finishLoad(id, hash)));
      const winners = results.filter((r) => !r.duplicateOf);
      const losers = results.filter((r) => r.duplicateOf);
      expect(winners).toHaveLength(1);
      expect(winners[0].status).toBe('loaded');
      expect(losers).toHaveLength(1);
      expect(losers[0].duplicateOf).toBe(winners[0].loadId);
      // Nothing of the duplicate is visible, and it can still be undone.
      expect(await db.countRows(t)).toBe(3);
      expect((await db.getLoad(losers[0].loadId))?.status).toBe('loading');
      await db.abortLoad(losers[0].loadId);
      expect(await db.countRows(t)).toBe(3);
      const statuses = Object.fromEntries((await db.listLoads({ table: t.name })).map((l) => [l.loadId, l.status]));
      expect(statuses).toEqual({ [base.loadId]: 'loaded', [winners[0].loadId]: 'loaded', [losers[0].loadId]: 'aborted' });
      // A different content still finishes.
      const other = await db.beginLoad({ loadId: `lr3${suffix}`, target: t, mode: 'append', columns: cols, filePath: '/r3', fileHash: null });
      await db.writeBatch(other.loadId, ['code'], [['z']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 2 });
      expect((await db.finishLoad(other.loadId, `race_other_${suffix}`)).duplicateOf).toBeUndefined();
      expect(await db.countRows(t)).toBe(4);
    });

    it('reference config rows are inserted once per table and refreshed', async () => {
      await db.upsertReferenceConfig({ table: { schema: 'ref', name: `cfg_${suffix}` }, sourceFile: '/a.csv', loadType: 'fullload' });
      await db.upsertReferenceConfig({ table: { schema: 'ref', name: `cfg_${suffix}` }, sourceFile: '/b.csv', loadType: 'append' });
    });
  });
}
