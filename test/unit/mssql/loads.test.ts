// The load lifecycle's decisions, against a scripted transaction: what it runs, in which order, and what it refuses.
import { describe, expect, it } from 'vitest';
import { shadowTableOf } from '../../../src/db/load-names';
import { abortLoad, beginLoad, finishLoad, writeBatch } from '../../../src/db/mssql/loads';
import { ScriptedTransaction, type Reply, type Row } from './scripted-transaction';

const target = { schema: 'data', name: 'prices' };
const now = new Date('2024-05-06T07:08:09Z');
const loadRow = (over: Row = {}): Row => ({
  load_id: 'L1', target_schema: 'data', target_table: 'prices', staging_schema: 'data', staging_table: shadowTableOf(target, 'L1').name,
  mode: 'fullload', file_path: '/f.csv', file_hash: null, status: 'loading', rows_committed: '0', byte_offset: '0', batches: 0,
  backup_schema: null, backup_table: null, started_at: now, finished_at: null, ...over,
});
const catalogRow = (column_name: string, data_type: string, extra: Row = {}): Row => ({
  column_name, data_type, max_length: null, numeric_precision: null, numeric_scale: null, datetime_precision: null, is_nullable: 'YES', ...extra,
});
const isSelectLoad = (t: string) => t.startsWith('SELECT load_id');

describe('beginLoad', () => {
  const input = { loadId: 'L1', target, mode: 'fullload' as const, columns: [{ name: 'code', type: { kind: 'text' as const } }], filePath: '/f.csv', fileHash: null };

  it('returns an existing load and creates nothing (a retried activity)', async () => {
    const tx = new ScriptedTransaction((t) => (isSelectLoad(t) ? { recordset: [loadRow()] } : {}));
    const load = await beginLoad(tx.tx, input);
    expect(load.loadId).toBe('L1');
    expect(tx.texts()).toHaveLength(1);
    expect(tx.texts()[0]).toContain('WITH (UPDLOCK, HOLDLOCK)');
  });

  it('fullload creates a fresh shadow beside the target and records the load', async () => {
    const tx = new ScriptedTransaction((t) => (t.startsWith('INSERT INTO ref.loads') ? { recordset: [loadRow()] } : {}));
    const load = await beginLoad(tx.tx, input);
    const shadow = shadowTableOf(target, 'L1');
    expect(load.staging).toEqual(shadow);
    const texts = tx.texts();
    expect(texts[1]).toContain('IF SCHEMA_ID(@schema_name) IS NULL');
    expect(texts[2]).toBe(`DROP TABLE IF EXISTS [data].[${shadow.name}]`);
    expect(texts[3]).toMatch(new RegExp(`^CREATE TABLE \\[data\\]\\.\\[${shadow.name}\\] \\(\\n  \\[code\\] nvarchar\\(max\\) NULL,\\n  \\[refdata_load_id\\]`));
    expect(tx.statements[4]!.params).toMatchObject({ staging_table: shadow.name, mode: 'fullload' });
  });

  it('append adds the missing columns (names compared case-insensitively) and the load id tag to an existing target', async () => {
    const tx = new ScriptedTransaction((t) => {
      if (t.includes('INFORMATION_SCHEMA.COLUMNS')) return { recordset: [catalogRow('CODE', 'nvarchar', { max_length: 10 })] };
      if (t.startsWith('INSERT INTO ref.loads')) return { recordset: [loadRow({ mode: 'append', staging_table: 'prices' })] };
      return {};
    });
    await beginLoad(tx.tx, { ...input, mode: 'append', columns: [{ name: 'code', type: { kind: 'text' } }, { name: 'qty', type: { kind: 'integer' } }] });
    const ddl = tx.texts().filter((t) => t.startsWith('ALTER') || t.startsWith('CREATE'));
    expect(ddl).toEqual(['ALTER TABLE [data].[prices] ADD [refdata_load_id] nvarchar(64) NULL', 'ALTER TABLE [data].[prices] ADD [qty] int NULL']);
  });

  it('append stages its rows in a fresh copy of the target\'s columns it loads, beside the target', async () => {
    const tx = new ScriptedTransaction((t) => {
      if (t.includes('INFORMATION_SCHEMA.COLUMNS')) return { recordset: [catalogRow('code', 'nvarchar'), catalogRow('refdata_load_id', 'nvarchar')] };
      if (t.startsWith('INSERT INTO ref.loads')) return { recordset: [loadRow({ mode: 'append', staging_table: 'prices__stage_l1' })] };
      return {};
    });
    await beginLoad(tx.tx, { ...input, mode: 'append' });
    const texts = tx.texts();
    const create = texts.findIndex((t) => t.startsWith('SELECT TOP (0)'));
    expect(texts[create - 1]).toBe('DROP TABLE IF EXISTS [data].[prices__stage_l1]');
    expect(texts[create]).toBe('SELECT TOP (0) [code], [refdata_load_id] INTO [data].[prices__stage_l1] FROM [data].[prices]');
    expect(tx.statements.at(-1)!.params).toMatchObject({ staging_table: 'prices__stage_l1', mode: 'append' });
  });

  it('append creates a missing target', async () => {
    const tx = new ScriptedTransaction((t) => (t.startsWith('INSERT INTO ref.loads') ? { recordset: [loadRow({ mode: 'append' })] } : t.includes('OBJECT_ID') ? { recordset: [{ object_id: null }] } : {}));
    await beginLoad(tx.tx, { ...input, mode: 'append' });
    expect(tx.texts().some((t) => t.startsWith('CREATE TABLE [data].[prices]'))).toBe(true);
  });
});

describe('writeBatch', () => {
  const staging = shadowTableOf(target, 'L1');
  const respond = (load: Row) => (t: string): Reply => {
    if (isSelectLoad(t)) return { recordset: [load] };
    if (t.includes('INFORMATION_SCHEMA.COLUMNS')) {
      return { recordset: [catalogRow('code', 'nvarchar', { max_length: 10 }), catalogRow('px', 'decimal', { numeric_precision: 10, numeric_scale: 2 }), catalogRow('refdata_load_id', 'nvarchar', { max_length: 64 })] };
    }
    if (t.startsWith('UPDATE ref.loads SET rows_committed')) return { rowsAffected: [1] };
    return {};
  };

  it('bulk loads the rows tagged with the load id, then advances the checkpoint, in that order', async () => {
    const tx = new ScriptedTransaction(respond(loadRow({ rows_committed: '2', byte_offset: '20' })));
    await writeBatch(tx.tx, 'L1', ['code', 'PX'], [['a', '1.50'], [null, null]], { rowsCommitted: 2, byteOffset: 20 }, { rowsCommitted: 4, byteOffset: 40 });
    expect(tx.bulks).toHaveLength(1);
    expect(tx.bulks[0]!.path).toBe(`[data].[${staging.name}]`);
    expect([...tx.bulks[0]!.rows]).toEqual([['a', '1.50', 'L1'], [null, null, 'L1']]);
    const last = tx.statements.at(-1)!;
    expect(last.text).toMatch(/^UPDATE ref\.loads SET rows_committed = @next_rows/);
    expect(last.params).toMatchObject({ expected_rows: 2, expected_offset: 20, next_rows: 4, next_offset: 40 });
  });

  it('refuses a stale checkpoint before writing anything', async () => {
    const tx = new ScriptedTransaction(respond(loadRow({ rows_committed: '4', byte_offset: '40' })));
    await expect(writeBatch(tx.tx, 'L1', ['code'], [['a']], { rowsCommitted: 2, byteOffset: 20 }, { rowsCommitted: 3, byteOffset: 30 })).rejects.toThrow(
      /load L1 checkpoint moved: expected 2 rows \(0 quarantined\) \/ byte 20, found 4 \(0 quarantined\) \/ 40/,
    );
    expect(tx.bulks).toHaveLength(0);
    expect(tx.texts().some((t) => t.startsWith('UPDATE'))).toBe(false);
  });

  it('refuses a load that is no longer loading, an unknown load, and columns the staging table lacks', async () => {
    await expect(writeBatch(new ScriptedTransaction(respond(loadRow({ status: 'aborted' }))).tx, 'L1', ['code'], [['a']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 1 })).rejects.toThrow(/is aborted/);
    await expect(writeBatch(new ScriptedTransaction().tx, 'L9', ['code'], [['a']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 1 })).rejects.toThrow(/L9 does not exist/);
    for (const column of ['nope', 'refdata_load_id']) {
      await expect(writeBatch(new ScriptedTransaction(respond(loadRow())).tx, 'L1', [column], [['a']], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 1, byteOffset: 1 })).rejects.toThrow(/not a loadable column/);
    }
  });

  it('an empty batch still advances the checkpoint without a bulk call', async () => {
    const tx = new ScriptedTransaction(respond(loadRow()));
    await writeBatch(tx.tx, 'L1', ['code'], [], { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: 0, byteOffset: 3 });
    expect(tx.bulks).toHaveLength(0);
    expect(tx.texts().at(-1)).toMatch(/^UPDATE ref\.loads/);
  });
});

/** The finish lock (sp_getapplock) granted, and no earlier load of the same content; otherwise as `respond` says. */
const lockGranted = (respond: (t: string) => Reply) => (t: string): Reply =>
  t.includes('sp_getapplock') ? { recordset: [{ result: 0 }] } : t.startsWith('WITH loaded') ? { recordset: [] } : respond(t);

describe('finishLoad', () => {
  it('fullload over an existing table swaps with a backup named from the server clock and records it', async () => {
    let finished = false;
    const tx = new ScriptedTransaction(lockGranted((t) => {
      if (isSelectLoad(t)) return { recordset: [finished ? loadRow({ status: 'loaded', backup_schema: 'bkp', backup_table: 'b' }) : loadRow()] };
      if (t.startsWith('SELECT SYSUTCDATETIME()')) return { recordset: [{ now }] };
      if (t.includes('OBJECT_ID(@table_path')) return { recordset: [{ object_id: 123 }] };
      if (t.startsWith("UPDATE ref.loads SET status = N'loaded'")) finished = true;
      return {};
    }));
    const done = await finishLoad(tx.tx, 'L1');
    expect(done.status).toBe('loaded');
    const swap = tx.statements.find((s) => s.text.includes('sp_rename'))!;
    expect(swap.params.backup_name).toMatch(/^prices__20240506070809_l1$/);
    expect(swap.text).toContain('ALTER SCHEMA [bkp] TRANSFER [data].[prices__20240506070809_l1]');
    const record = tx.statements.find((s) => s.text.startsWith("UPDATE ref.loads SET status = N'loaded'"))!;
    expect(record.params).toMatchObject({ backup_schema: 'bkp', backup_table: 'prices__20240506070809_l1' });
  });

  it('fullload onto a new table only renames the shadow and records no backup', async () => {
    const tx = new ScriptedTransaction(lockGranted((t) => (isSelectLoad(t) ? { recordset: [loadRow()] } : t.startsWith('SELECT SYSUTCDATETIME()') ? { recordset: [{ now }] } : t.includes('OBJECT_ID') ? { recordset: [{ object_id: null }] } : {})));
    await finishLoad(tx.tx, 'L1');
    const swap = tx.statements.find((s) => s.text.includes('sp_rename'))!;
    expect(swap.text).not.toContain('ALTER SCHEMA');
    expect(tx.statements.find((s) => s.text.startsWith("UPDATE ref.loads SET status = N'loaded'"))!.params.backup_table).toBeNull();
  });

  it('is idempotent for a finished load and refuses an aborted one', async () => {
    const loaded = new ScriptedTransaction(() => ({ recordset: [loadRow({ status: 'loaded' })] }));
    expect((await finishLoad(loaded.tx, 'L1')).status).toBe('loaded');
    expect(loaded.texts()).toHaveLength(1);
    await expect(finishLoad(new ScriptedTransaction(() => ({ recordset: [loadRow({ status: 'aborted' })] })).tx, 'L1')).rejects.toThrow(/cannot be finished/);
  });

  it('a staged append moves its rows into the target and drops the stage, in the same transaction as the record', async () => {
    const tx = new ScriptedTransaction(lockGranted((t) =>
      t.includes('INFORMATION_SCHEMA.COLUMNS') ? { recordset: [catalogRow('code', 'nvarchar'), catalogRow('refdata_load_id', 'nvarchar')] }
      : { recordset: [loadRow({ mode: 'append', staging_table: 'prices__stage_l1' })] }));
    await finishLoad(tx.tx, 'L1', 'abc123');
    const texts = tx.texts();
    const move = texts.findIndex((t) => t.startsWith('INSERT INTO [data].[prices]'));
    expect(texts[move]).toBe(
      'INSERT INTO [data].[prices] ([code], [refdata_load_id]) SELECT [code], [refdata_load_id] FROM [data].[prices__stage_l1];\nDROP TABLE [data].[prices__stage_l1];',
    );
    const record = tx.statements.findIndex((st) => st.text.startsWith("UPDATE ref.loads SET status = N'loaded'"));
    expect(record).toBeGreaterThan(move);
    expect(tx.statements[record]!.params).toMatchObject({ file_hash: 'abc123' });
  });

  it('an append begun before appends were staged (its stage is its target) is just marked done', async () => {
    const tx = new ScriptedTransaction(lockGranted(() => ({ recordset: [loadRow({ mode: 'append', staging_table: 'prices' })] })));
    await finishLoad(tx.tx, 'L1');
    expect(tx.texts().some((t) => t.includes('sp_rename'))).toBe(false);
  });

  it('a finish lock not granted (sp_getapplock < 0) is an error and nothing is made visible', async () => {
    const tx = new ScriptedTransaction((t) => (t.includes('sp_getapplock') ? { recordset: [{ result: -1 }] } : { recordset: [loadRow()] }));
    await expect(finishLoad(tx.tx, 'L1')).rejects.toThrow(/could not take the finish lock/);
    expect(tx.texts().some((t) => t.includes('sp_rename') || t.startsWith("UPDATE ref.loads SET status = N'loaded'"))).toBe(false);
  });

  it('content already in effect in the table makes nothing visible and names the earlier load', async () => {
    const tx = new ScriptedTransaction((t) =>
      t.includes('sp_getapplock') ? { recordset: [{ result: 0 }] } : t.startsWith('WITH loaded') ? { recordset: [{ load_id: 'L0' }] } : { recordset: [loadRow()] });
    const done = await finishLoad(tx.tx, 'L1', 'samehash');
    expect(done.duplicateOf).toBe('L0');
    expect(tx.texts().some((t) => t.includes('sp_rename') || t.startsWith("UPDATE ref.loads SET status = N'loaded'"))).toBe(false);
  });
});

describe('abortLoad', () => {
  it('fullload drops the shadow and marks the load aborted', async () => {
    const tx = new ScriptedTransaction((t) => (isSelectLoad(t) ? { recordset: [loadRow()] } : {}));
    await abortLoad(tx.tx, 'L1');
    expect(tx.texts().slice(1)).toEqual([
      `DROP TABLE IF EXISTS [data].[${shadowTableOf(target, 'L1').name}]`,
      expect.stringMatching(/^DELETE FROM ref.invalid_records WHERE source = N'file' AND source_ref = @load_id/),
      expect.stringMatching(/status = N'aborted'/),
    ]);
  });

  it("an append begun before appends were staged (its stage is its target) deletes exactly the load's rows", async () => {
    const tx = new ScriptedTransaction((t) => (isSelectLoad(t) ? { recordset: [loadRow({ mode: 'append', staging_table: 'prices' })] } : t.includes('OBJECT_ID') ? { recordset: [{ object_id: 7 }] } : {}));
    await abortLoad(tx.tx, 'L1');
    const del = tx.statements.find((s) => s.text.startsWith('DELETE FROM [data]'))!;
    expect(del).toEqual({ text: 'DELETE FROM [data].[prices] WHERE [refdata_load_id] = @load_id', params: { load_id: 'L1' } });
  });

  it.each(['aborted', 'loaded'])('leaves a %s load alone, and an unknown one too', async (status) => {
    const tx = new ScriptedTransaction(() => ({ recordset: [loadRow({ status })] }));
    await abortLoad(tx.tx, 'L1');
    expect(tx.texts()).toHaveLength(1);
    const none = new ScriptedTransaction();
    await abortLoad(none.tx, 'L404');
    expect(none.texts()).toHaveLength(1);
  });
});
