// Reverting a finished load, lookups of finished loads and backup retention, against a scripted transaction.
import { describe, expect, it } from 'vitest';
import { dropBackupsOlderThan, findLoadedByHash, listLoads, revertLoad } from '../../../src/db/mssql/loads';
import { ScriptedTransaction, type Reply, type Row } from './scripted-transaction';

const now = new Date('2024-06-07T08:09:10Z');
const backup = { schema: 'bkp', name: 'prices__20240506070809_l1' };
const loadRow = (over: Row = {}): Row => ({
  load_id: 'L1', target_schema: 'data', target_table: 'prices', staging_schema: 'data', staging_table: 'prices__shadow_l1',
  mode: 'fullload', file_path: '/f.csv', file_hash: 'h', status: 'loaded', rows_committed: '3', byte_offset: '30', batches: 1,
  backup_schema: backup.schema, backup_table: backup.name, started_at: now, finished_at: now, ...over,
});
const isSelectLoad = (t: string) => t.startsWith('SELECT load_id');

interface Script {
  load?: Row;
  /** Loaded fullloads after this load. */
  later?: Row[];
  /** Loaded appends after this load. */
  onTop?: Row[];
  /** Tables OBJECT_ID finds, by their quoted path. */
  existing?: string[];
}

/** A load whose row turns `reverted` once the record update has run, as the server would report it. */
function scripted({ load = loadRow(), later = [], onTop = [], existing = ['[data].[prices]', `[bkp].[${backup.name}]`] }: Script) {
  let reverted = false;
  return new ScriptedTransaction((t, params): Reply => {
    if (isSelectLoad(t)) return { recordset: [reverted ? { ...load, status: 'reverted' } : load] };
    if (t.startsWith('SELECT l.load_id')) return { recordset: params.mode === 'fullload' ? later : onTop };
    if (t.startsWith('SELECT SYSUTCDATETIME()')) return { recordset: [{ now }] };
    if (t.includes('OBJECT_ID(@table_path')) return { recordset: [{ object_id: existing.includes(String(params.table_path)) ? 1 : null }] };
    if (t.startsWith("UPDATE ref.loads SET status = N'reverted'")) reverted = true;
    return {};
  });
}

describe('revertLoad: fullload', () => {
  it('locks the load, parks the live table as bkp.<table>__<stamp>_rv…, restores the backup, and records the revert', async () => {
    const tx = scripted({});
    const done = await revertLoad(tx.tx, 'L1');
    expect(done.status).toBe('reverted');
    expect(tx.texts()[0]).toContain('WITH (UPDLOCK, HOLDLOCK)');
    const swap = tx.statements.find((s) => s.text.includes('sp_rename'))!;
    expect(swap.params).toEqual({
      target_path: '[data].[prices]',
      parked_name: 'prices__20240607080910_rvl1',
      restored_path: `[data].[${backup.name}]`,
      target_name: 'prices',
    });
    expect(swap.text).toContain('ALTER SCHEMA [bkp] TRANSFER [data].[prices__20240607080910_rvl1];');
    expect(swap.text).toContain(`ALTER SCHEMA [data] TRANSFER [bkp].[${backup.name}];`);
    const order = tx.texts().map((t) => (t.includes('sp_rename') ? 'swap' : t.startsWith("UPDATE ref.loads SET status = N'reverted'") ? 'record' : null));
    expect(order.filter(Boolean)).toEqual(['swap', 'record']);
  });

  it('refuses when a later fullload of the same table is loaded, before touching any table', async () => {
    const tx = scripted({ later: [{ load_id: 'L2' }] });
    await expect(revertLoad(tx.tx, 'L1')).rejects.toThrow(/load L1 was replaced by a later fullload \(L2\) of data\.prices; revert that one first/);
    expect(tx.texts().some((t) => t.includes('sp_rename') || t.startsWith('UPDATE'))).toBe(false);
  });

  it('refuses when appends were loaded on top of it, naming them newest first, before touching any table', async () => {
    const tx = scripted({ onTop: [{ load_id: 'A2' }, { load_id: 'A1' }] });
    await expect(revertLoad(tx.tx, 'L1')).rejects.toThrow(/load L1 cannot be reverted: 2 appends A2, A1 loaded into data\.prices after it; revert them, in that order \(newest first\), first/);
    expect(tx.texts().some((t) => t.includes('sp_rename') || t.startsWith('UPDATE'))).toBe(false);
  });

  it('refuses when retention already dropped the backup', async () => {
    const tx = scripted({ existing: ['[data].[prices]'] });
    await expect(revertLoad(tx.tx, 'L1')).rejects.toThrow(/the backup bkp\.prices__20240506070809_l1 of load L1 no longer exists/);
    expect(tx.texts().some((t) => t.includes('sp_rename') || t.startsWith('UPDATE'))).toBe(false);
  });

  it('a load that created its table parks it and restores nothing', async () => {
    const tx = scripted({ load: loadRow({ backup_schema: null, backup_table: null }) });
    await revertLoad(tx.tx, 'L1');
    const swap = tx.statements.find((s) => s.text.includes('sp_rename'))!;
    expect(Object.keys(swap.params).sort()).toEqual(['parked_name', 'target_path']);
  });

  it('is idempotent for a reverted load and refuses one that is not loaded', async () => {
    const again = scripted({ load: loadRow({ status: 'reverted' }) });
    expect((await revertLoad(again.tx, 'L1')).status).toBe('reverted');
    expect(again.texts()).toHaveLength(1);
    for (const status of ['loading', 'aborted']) {
      await expect(revertLoad(scripted({ load: loadRow({ status }) }).tx, 'L1')).rejects.toThrow(`load L1 is ${status}; only a loaded load can be reverted`);
    }
    await expect(revertLoad(new ScriptedTransaction().tx, 'L9')).rejects.toThrow(/L9 does not exist/);
  });
});

describe('revertLoad: append', () => {
  const append = loadRow({ mode: 'append', staging_table: 'prices', backup_schema: null, backup_table: null });

  it("deletes exactly the load's rows from the target (staging is the target) and records the revert", async () => {
    const tx = scripted({ load: append });
    expect((await revertLoad(tx.tx, 'L1')).status).toBe('reverted');
    const del = tx.statements.find((s) => s.text.startsWith('DELETE'))!;
    expect(del).toEqual({ text: 'DELETE FROM [data].[prices] WHERE [refdata_load_id] = @load_id', params: { load_id: 'L1' } });
    expect(tx.texts().some((t) => t.includes('sp_rename'))).toBe(false);
    expect(tx.statements.filter((st) => st.text.startsWith('SELECT l.load_id')).map((st) => st.params.mode)).toEqual(['fullload']);
    expect(tx.statements.at(-2)!.text).toMatch(/^UPDATE ref\.loads SET status = N'reverted'/);
  });

  it('refuses when a later fullload replaced the table its rows went into, and deletes nothing', async () => {
    const tx = scripted({ load: append, later: [{ load_id: 'F2' }] });
    await expect(revertLoad(tx.tx, 'L1')).rejects.toThrow(/load L1 cannot be reverted: the later fullload F2 replaced data\.prices, so its rows are not in the live table; revert F2 first/);
    expect(tx.texts().some((t) => t.startsWith('DELETE') || t.startsWith('UPDATE'))).toBe(false);
  });

  it('a target that is gone has no rows left to delete', async () => {
    const tx = scripted({ load: append, existing: [] });
    await revertLoad(tx.tx, 'L1');
    expect(tx.texts().some((t) => t.startsWith('DELETE'))).toBe(false);
  });
});

describe('finished-load lookups', () => {
  it('findLoadedByHash returns the record or null', async () => {
    const hit = new ScriptedTransaction(() => ({ recordset: [loadRow()] }));
    expect((await findLoadedByHash(hit.pool, { schema: 'data', name: 'prices' }, 'h'))?.loadId).toBe('L1');
    expect(hit.statements[0]!.params).toEqual({ target_schema: 'data', target_table: 'prices', file_hash: 'h' });
    expect(await findLoadedByHash(new ScriptedTransaction().pool, { schema: 'data', name: 'prices' }, 'h')).toBeNull();
  });

  it('listLoads maps every row', async () => {
    const tx = new ScriptedTransaction(() => ({ recordset: [loadRow(), loadRow({ load_id: 'L2', status: 'reverted' })] }));
    const loads = await listLoads(tx.pool, { status: 'loaded', limit: 2 });
    expect(loads.map((l) => [l.loadId, l.status])).toEqual([['L1', 'loaded'], ['L2', 'reverted']]);
    expect(tx.statements[0]!.params).toEqual({ limit: 2, status: 'loaded' });
  });
});

describe('dropBackupsOlderThan', () => {
  it('drops only bkp tables stamped before the cutoff and returns their names', async () => {
    const tables = ['prices__20240101000000_l1', 'prices__20240607080910_rvl1', 'fx__20231231235959_abc123', 'hand_made'];
    const tx = new ScriptedTransaction((t) => (t.includes('sys.tables') ? { recordset: tables.map((table_name) => ({ table_name })) } : {}));
    const dropped = await dropBackupsOlderThan(tx.pool, new Date('2024-06-01T00:00:00Z'));
    expect(dropped).toEqual(['fx__20231231235959_abc123', 'prices__20240101000000_l1']);
    expect(tx.texts().slice(1)).toEqual(['DROP TABLE IF EXISTS [bkp].[fx__20231231235959_abc123]', 'DROP TABLE IF EXISTS [bkp].[prices__20240101000000_l1]']);
  });

  it('drops nothing when nothing is old enough', async () => {
    const tx = new ScriptedTransaction((t) => (t.includes('sys.tables') ? { recordset: [{ table_name: 'prices__20240607080910_l1' }] } : {}));
    expect(await dropBackupsOlderThan(tx.pool, new Date('2024-06-01T00:00:00Z'))).toEqual([]);
    expect(tx.texts()).toHaveLength(1);
  });
});
