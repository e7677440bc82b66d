// SQL Server specifics of loads and claims, read back with our own connection: quarantined rows of a batch, a staged
// append's values, and the distribution claim's application lock. Runs when MSSQL_URL is set (Babelfish in the test run).
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/types';
import { parseMssqlUrl } from '../../src/db/mssql/url';
import { claimRunIn } from '../../src/db/mssql/distribution-runs';
import { withTransaction } from '../../src/db/mssql/client';

const url = process.env.MSSQL_URL;
const prefix = `mssqlloads_${Math.random().toString(36).slice(2, 8)}`;

describe.skipIf(!url)('SQL Server loads and claims, read back', () => {
  let db: Database;
  let cleanup: () => Promise<void>;
  let pool: sql.ConnectionPool;

  beforeAll(async () => {
    const { mssqlContractTarget } = await import('../../src/db/mssql');
    ({ db, cleanup } = await mssqlContractTarget().open(prefix));
    pool = await new sql.ConnectionPool(parseMssqlUrl(url!)).connect();
  });
  afterAll(async () => {
    await pool?.close();
    await cleanup?.();
  });

  const invalidOf = async (loadId: string) =>
    (
      await pool.request().input('ref', sql.NVarChar(200), loadId)
        .query('SELECT [row_number], raw_text, errors FROM ref.invalid_records WHERE source = N\'file\' AND source_ref = @ref ORDER BY [row_number]')
    ).recordset.map((r: Record<string, unknown>) => ({ row: Number(r.row_number), raw: r.raw_text, errors: JSON.parse(String(r.errors)) as unknown }));

  it("writeBatch stores the batch's quarantined rows with it; abort removes them with the load", async () => {
    const target = { schema: 'data', name: `${prefix}_q` };
    const cols = [{ name: 'code', type: { kind: 'text' as const } }, { name: 'qty', type: { kind: 'integer' as const } }];
    const load = await db.beginLoad({ loadId: `${prefix}q1`, target, mode: 'fullload', columns: cols, filePath: '/q.csv', fileHash: null });
    const bad = (rowNumber: number, rawText: string) => ({ source: 'file', sourceRef: load.loadId, recordId: '/q.csv', rowNumber, rawText, errors: [`row ${rowNumber}: qty is not an integer`] });
    await db.writeBatch(load.loadId, ['code', 'qty'], [['a', '1']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 2, byteOffset: 10 }, [bad(3, 'b,x')]);
    await db.writeBatch(load.loadId, ['code', 'qty'], [], { rowsCommitted: 2, byteOffset: 10 }, { rowsCommitted: 3, byteOffset: 14 }, [bad(4, 'c,ü')]);
    expect(await invalidOf(load.loadId)).toEqual([
      { row: 3, raw: 'b,x', errors: ['row 3: qty is not an integer'] },
      { row: 4, raw: 'c,ü', errors: ['row 4: qty is not an integer'] },
    ]);
    // A stale retry of the first batch writes neither its rows nor its quarantined rows again.
    await expect(
      db.writeBatch(load.loadId, ['code', 'qty'], [['a', '1']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 2, byteOffset: 10 }, [bad(3, 'b,x')]),
    ).rejects.toThrow(/checkpoint moved/);
    expect(await invalidOf(load.loadId)).toHaveLength(2);
    await db.abortLoad(load.loadId);
    expect(await invalidOf(load.loadId)).toEqual([]);
  });

  it("an append's values reach the target only at finish, exactly as written, and the stage is gone", async () => {
    const target = { schema: 'data', name: `${prefix}_app` };
    // An integer, not a decimal: Babelfish 4.3 stores decimals sent by bulk load wrongly (docs/deployment.md).
    const cols = [{ name: 'code', type: { kind: 'text' as const } }, { name: 'qty', type: { kind: 'integer' as const } }];
    const load = await db.beginLoad({ loadId: `${prefix}a1`, target, mode: 'append', columns: cols, filePath: '/a.csv', fileHash: null });
    expect(load.staging).not.toEqual(target);
    await db.writeBatch(load.loadId, ['code', 'qty'], [['Zürich', '12'], ['b', null]], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 2, byteOffset: 9 });
    const read = async () =>
      (await pool.request().query(`SELECT code, qty, refdata_load_id FROM [data].[${target.name}] ORDER BY code`)).recordset;
    expect(await read()).toEqual([]);
    await db.finishLoad(load.loadId);
    expect(await read()).toEqual([
      { code: 'b', qty: null, refdata_load_id: load.loadId },
      { code: 'Zürich', qty: 12, refdata_load_id: load.loadId },
    ]);
    expect(await db.describeTable(load.staging)).toBeNull();
  });

  it('a claim whose sp_getapplock times out claims nothing', async () => {
    const holder = new sql.Transaction(pool);
    await holder.begin();
    try {
      const held = await holder.request().query(
        "DECLARE @r int; EXEC @r = sp_getapplock @Resource = N'refdata.distribution.claim', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 0; SELECT @r AS result",
      );
      expect(held.recordset[0].result).toBe(0);
      const runId = `${prefix}r`;
      const input = {
        runId, businessDate: '2025-06-21', kind: 'full' as const, suffix: null, trigger: 'schedule' as const, workflowId: `w-${runId}`, workflowRunId: 'r1',
        submissionId: `s-${runId}`, directory: '/srv',
      };
      const other = await new sql.ConnectionPool(parseMssqlUrl(url!)).connect();
      try {
        await expect(withTransaction(other, (tx) => claimRunIn(tx, input, 200))).rejects.toThrow(/could not take the distribution claim lock \(sp_getapplock returned -1\)/);
      } finally {
        await other.close();
      }
      const rows = await holder.request().input('id', sql.NVarChar(100), runId).query('SELECT run_id FROM dist.distribution_runs WHERE run_id = @id');
      expect(rows.recordset).toEqual([]);
    } finally {
      await holder.rollback();
    }
  });
});
