// The load lifecycle on SQL Server: staging tables, bulk batches with their checkpoint, the swap, the undo, the revert.
import sql from 'mssql';
import type { BeginLoadInput, Checkpoint, FinishedLoad, InvalidRecordInput, LoadRecord, TableColumn, TableRef } from '../types';
import { backupTableOf, shadowTableOf } from '../load-names';
import { buildBulkTable, bulkColumnOf } from './bulk';
import { catalogColumnsFrom, tableColumnOf } from './catalog';
import { rowsOf, run, type Runner } from './client';
import { insertInvalidRecordsSql } from './ledger-sql';
import {
  BACKUP_SCHEMA, backupTablesSql, expiredBackups, findLoadedByHashSql, finishLockSql, laterFullloadSql, listLoadsSql, loadsAfterSql, revertLoadRecordSql, revertSwapSql,
} from './load-history-sql';
import { revertRefusedByAppends, revertRefusedByFullload } from '../revert-refusals';
import { loadFromRow } from './rows';
import {
  LOAD_ID_COLUMN, abortLoadRecordSql, addColumnSql, addLoadIdColumnSql, advanceCheckpointSql, createAppendStageSql, createTableSql,
  deleteLoadInvalidRecordsSql, deleteLoadRowsSql, describeTableSql, dropTableIfExistsSql, ensureSchemaSql, finishLoadRecordSql, insertLoadSql,
  moveAppendStageSql, selectLoadSql, serverTimeSql, swapSql, tableExistsSql,
} from './sql';

const nameOf = (t: TableRef) => `${t.schema}.${t.name}`;
/** The default collation compares names case-insensitively, so we do too. */
const key = (name: string) => name.toLowerCase();

/** An append's stage beside its target, named as on PostgreSQL (short enough for Babelfish's 63-byte names too). */
export function appendStageOf(target: TableRef, loadId: string): TableRef {
  const short = loadId.replace(/[^a-z0-9]/gi, '').slice(-8).toLowerCase();
  return { schema: target.schema, name: `${target.name.slice(0, 40)}__stage_${short}` };
}

/** Loads begun before appends were staged wrote straight into their target; they finish and abort the old way. */
const stagedAppend = (load: LoadRecord) => load.mode === 'append' && key(nameOf(load.staging)) !== key(nameOf(load.target));

export async function tableExists(on: Runner, table: TableRef): Promise<boolean> {
  const [row] = await rowsOf(on, tableExistsSql(table));
  return row?.object_id !== null && row?.object_id !== undefined;
}

async function catalogOf(on: Runner, table: TableRef) {
  return catalogColumnsFrom(await rowsOf(on, describeTableSql(table)));
}

export async function describeTable(on: Runner, table: TableRef): Promise<TableColumn[] | null> {
  const columns = await catalogOf(on, table);
  if (columns.length === 0) return (await tableExists(on, table)) ? [] : null;
  return columns.map(tableColumnOf);
}

export async function getLoad(on: Runner, loadId: string, forUpdate = false): Promise<LoadRecord | null> {
  const [row] = await rowsOf(on, selectLoadSql(loadId, forUpdate));
  return row ? loadFromRow(row) : null;
}

async function lockedLoad(tx: sql.Transaction, loadId: string): Promise<LoadRecord> {
  const load = await getLoad(tx, loadId, true);
  if (!load) throw new Error(`load ${loadId} does not exist; begin it first`);
  return load;
}

/** Idempotent: an existing load id returns its record and creates nothing. */
export async function beginLoad(tx: sql.Transaction, input: BeginLoadInput): Promise<LoadRecord> {
  const existing = await getLoad(tx, input.loadId, true);
  if (existing) return existing;
  const staging = input.mode === 'fullload' ? shadowTableOf(input.target, input.loadId) : appendStageOf(input.target, input.loadId);
  await run(tx, ensureSchemaSql(input.target.schema));
  if (input.mode === 'fullload') {
    // A shadow left by a crashed attempt of this very load is stale: start it empty.
    await run(tx, dropTableIfExistsSql(staging));
    await run(tx, createTableSql(staging, input.columns));
  } else {
    const current = await describeTable(tx, input.target);
    if (current === null) {
      await run(tx, createTableSql(input.target, input.columns));
    } else {
      const have = new Set(current.map((c) => key(c.name)));
      if (!have.has(LOAD_ID_COLUMN)) await run(tx, addLoadIdColumnSql(input.target));
      for (const c of input.columns) if (!have.has(key(c.name))) await run(tx, addColumnSql(input.target, c));
    }
    // A stage left by a crashed attempt of this very load is stale: start it empty.
    await run(tx, dropTableIfExistsSql(staging));
    await run(tx, createAppendStageSql(staging, input.target, input.columns.map((c) => c.name)));
  }
  const [row] = await rowsOf(tx, insertLoadSql({ ...input, staging }));
  return loadFromRow(row);
}

/**
 * One batch, its quarantined rows and its checkpoint in one transaction. The load row is locked first, so a stale
 * retry racing a live attempt waits, then finds the checkpoint moved and writes nothing.
 */
export async function writeBatch(
  tx: sql.Transaction,
  loadId: string,
  columns: string[],
  rows: (string | null)[][],
  expected: Checkpoint,
  next: Checkpoint,
  invalid: InvalidRecordInput[] = [],
): Promise<void> {
  const load = await lockedLoad(tx, loadId);
  if (load.status !== 'loading') throw new Error(`load ${loadId} is ${load.status}, not loading; no batch was written`);
  if (load.rowsCommitted !== expected.rowsCommitted || load.rowsQuarantined !== (expected.rowsQuarantined ?? 0) || load.byteOffset !== expected.byteOffset) {
    throw new Error(
      `load ${loadId} checkpoint moved: expected ${expected.rowsCommitted} rows (${expected.rowsQuarantined ?? 0} quarantined) / byte ${expected.byteOffset}, ` +
        `found ${load.rowsCommitted} (${load.rowsQuarantined} quarantined) / ${load.byteOffset}; resume from the stored checkpoint`,
    );
  }
  for (const stmt of insertInvalidRecordsSql(invalid)) await run(tx, stmt);
  if (rows.length > 0) {
    const catalog = new Map((await catalogOf(tx, load.staging)).map((c) => [key(c.column_name), c]));
    const bulkColumns = columns.map((name) => {
      const c = catalog.get(key(name));
      if (!c || key(name) === LOAD_ID_COLUMN) throw new Error(`column ${name} is not a loadable column of ${nameOf(load.staging)}`);
      return bulkColumnOf(c);
    });
    const table = buildBulkTable(load.staging, bulkColumns, rows, loadId);
    // keepNulls: an empty cell is NULL even where a column has a default, as with COPY on PostgreSQL.
    await tx.request().bulk(table, { keepNulls: true, checkConstraints: true });
  }
  const updated = await run(tx, advanceCheckpointSql(loadId, expected, next));
  if (updated.rowsAffected[0] !== 1) throw new Error(`load ${loadId} checkpoint moved while the batch was written`);
}

/**
 * fullload: swaps the shadow in and keeps the previous table in bkp; append: moves the staged rows into the target.
 * Either way readers see the whole load at commit or none of it. `fileHash` is recorded for duplicate detection.
 */
export async function finishLoad(tx: sql.Transaction, loadId: string, fileHash?: string): Promise<FinishedLoad> {
  const load = await lockedLoad(tx, loadId);
  if (load.status === 'loaded') return load;
  if (load.status !== 'loading') throw new Error(`load ${loadId} is ${load.status} and cannot be finished`);
  // Two finishes into one table wait for each other here, so the duplicate check below sees the other's commit:
  // otherwise two identical files finishing together could both be made visible.
  const [lock] = await rowsOf(tx, finishLockSql(load.target));
  if (typeof lock?.result !== 'number' || lock.result < 0) {
    throw new Error(`could not take the finish lock of ${nameOf(load.target)} (sp_getapplock returned ${String(lock?.result)}); another load into it is finishing, retry`);
  }
  if (fileHash) {
    const [earlier] = await rowsOf(tx, findLoadedByHashSql(load.target, fileHash, load.mode));
    if (earlier && String(earlier.load_id) !== loadId) return { ...load, duplicateOf: String(earlier.load_id) };
  }
  let backup: TableRef | null = null;
  if (load.mode === 'fullload') {
    const [row] = await rowsOf(tx, serverTimeSql);
    if (await tableExists(tx, load.target)) backup = backupTableOf(load.target, loadId, row?.now as Date);
    await run(tx, swapSql(load.target, load.staging, backup));
  } else if (stagedAppend(load)) {
    const columns = (await catalogOf(tx, load.staging)).map((c) => c.column_name);
    await run(tx, moveAppendStageSql(load.staging, load.target, columns));
  }
  await run(tx, finishLoadRecordSql(loadId, backup, fileHash ?? null));
  return lockedLoad(tx, loadId);
}

/** Undoes an unfinished load; a missing, finished or already aborted load is left as it is. */
export async function abortLoad(tx: sql.Transaction, loadId: string): Promise<void> {
  const load = await getLoad(tx, loadId, true);
  if (!load || load.status !== 'loading') return;
  if (load.mode === 'fullload' || stagedAppend(load)) {
    await run(tx, dropTableIfExistsSql(load.staging));
  } else if (await tableExists(tx, load.staging)) {
    await run(tx, deleteLoadRowsSql(load.staging, loadId));
  }
  await run(tx, deleteLoadInvalidRecordsSql(loadId));
  await run(tx, abortLoadRecordSql(loadId));
}

/**
 * Undoes a finished load. fullload: the live table is parked in bkp and the backup becomes the live table again;
 * refused when a later fullload was swapped in after it, when appends were loaded on top of it (naming them), or
 * when retention dropped the backup. append: its rows, moved into the target at finish, are deleted by their load
 * id; refused when a later fullload replaced the table. A reverted load is returned as it is.
 */
export async function revertLoad(tx: sql.Transaction, loadId: string): Promise<LoadRecord> {
  const load = await lockedLoad(tx, loadId);
  if (load.status === 'reverted') return load;
  if (load.status !== 'loaded') throw new Error(`load ${loadId} is ${load.status}; only a loaded load can be reverted`);
  const [later] = await rowsOf(tx, laterFullloadSql(loadId));
  if (later) throw new Error(revertRefusedByFullload(load, String(later.load_id)));
  if (load.mode === 'fullload') {
    const onTop = await rowsOf(tx, loadsAfterSql(loadId, 'append'));
    if (onTop.length > 0) throw new Error(revertRefusedByAppends(load, onTop.map((r) => String(r.load_id))));
    await revertSwap(tx, load);
  } else if (await tableExists(tx, load.target)) {
    await run(tx, deleteLoadRowsSql(load.target, loadId));
  }
  await run(tx, revertLoadRecordSql(loadId));
  return lockedLoad(tx, loadId);
}

async function revertSwap(tx: sql.Transaction, load: LoadRecord): Promise<void> {
  if (load.backup && !(await tableExists(tx, load.backup))) {
    throw new Error(
      `the backup ${nameOf(load.backup)} of load ${load.loadId} no longer exists (retention dropped it); the load cannot be reverted`,
    );
  }
  const [row] = await rowsOf(tx, serverTimeSql);
  // The reverted contents stay in bkp under their own stamp; `rv` keeps the name apart from the load's own backup.
  const parked = (await tableExists(tx, load.target)) ? backupTableOf(load.target, `rv${load.loadId}`, row?.now as Date) : null;
  if (parked || load.backup) await run(tx, revertSwapSql(load.target, parked, load.backup));
}

export async function findLoadedByHash(on: Runner, target: TableRef, fileHash: string, mode?: LoadRecord['mode']): Promise<LoadRecord | null> {
  const [row] = await rowsOf(on, findLoadedByHashSql(target, fileHash, mode));
  return row ? loadFromRow(row) : null;
}

export async function listLoads(on: Runner, filter: Parameters<typeof listLoadsSql>[0]): Promise<LoadRecord[]> {
  return (await rowsOf(on, listLoadsSql(filter))).map(loadFromRow);
}

/** Drops the bkp tables stamped before `cutoff`, one by one (each drop stands alone); returns their names. */
export async function dropBackupsOlderThan(on: Runner, cutoff: Date): Promise<string[]> {
  const names = (await rowsOf(on, backupTablesSql())).map((r) => String(r.table_name));
  const expired = expiredBackups(names, cutoff);
  for (const name of expired) await run(on, dropTableIfExistsSql({ schema: BACKUP_SCHEMA, name }));
  return expired;
}
