// The instrument store on SQL Server: staging by the TDS bulk API, one transaction to guard and apply.
import sql from 'mssql';
import type { InstrumentStore, StagingCheckpoint } from '../instruments';
import { INVALID_RECORD_SOURCE, stagingTableOf } from '../instruments';
import { groupFromRow, instrumentFromRow, reportFromRow, statsOf } from '../instrument-rows';
import { breakdownsOf, totalsOf, type GroupCounts } from '../../instruments/report';
import type { InvalidInstrument, StagedRow } from '../../instruments/types';
import { rowsOf, run, withTransaction, type Row, type Runner } from './client';
import { exactDecimal } from './exact-decimal';
import * as q from './instrument-sql';
import { serverTimeSql } from './sql';

const checkpointOf = (r: Row): StagingCheckpoint => ({
  recordsRead: Number(r.records_read),
  stagedRows: Number(r.staged_rows),
  invalid: Number(r.invalid_records),
  batches: Number(r.batches),
});

async function lockedRun(tx: Runner, runId: string): Promise<Row> {
  const [row] = await rowsOf(tx, q.selectRunSql(runId, true));
  if (!row) throw new Error(`instrument sync run ${runId} does not exist; it must be begun first`);
  return row;
}

const decimal = (n: number | null) => (n === null ? null : String(n));
const date = (iso: string | null) => (iso === null ? null : new Date(`${iso}T00:00:00Z`));

/** A bulk Table for one batch of staged rows, typed like the staging table (decimals exact from their text). */
export function stagingBulkTable(runId: string, rows: StagedRow[]): sql.Table {
  const t = stagingTableOf(runId);
  const table = new sql.Table(`[${t.schema}].[${t.name}]`);
  table.create = false;
  const dec = () => exactDecimal(20, 6);
  const cols: [string, sql.ISqlType][] = [
    ['row_number', sql.BigInt()], ['instrument_key', sql.NVarChar(255)], ['is_valid', sql.Bit()], ['has_data', sql.Bit()], ['category', sql.NVarChar(10)],
    ['row_hash', sql.Char(64)], ['segment', sql.NVarChar(50)], ['exchange', sql.NVarChar(50)], ['instrument_type', sql.NVarChar(50)],
    ['name', sql.NVarChar(500)], ['trading_symbol', sql.NVarChar(255)], ['isin', sql.NVarChar(50)], ['expiry', sql.Date()],
    ['strike_price', dec()], ['lot_size', dec()], ['tick_size', dec()], ['freeze_quantity', dec()], ['underlying_key', sql.NVarChar(255)],
    ['option_type', sql.NVarChar(10)], ['weekly', sql.Bit()], ['source_record', sql.NVarChar(sql.MAX)],
  ];
  const required = new Set(['row_number', 'instrument_key', 'is_valid', 'has_data']);
  for (const [name, type] of cols) table.columns.add(name, type, { nullable: !required.has(name) });
  const noData = new Array<null>(cols.length - 6).fill(null);
  for (const r of rows) {
    if (r.kind === 'invalid') table.rows.add(String(r.rowNumber), r.instrumentKey, false, false, null, null, ...noData);
    else if (r.kind === 'unchanged') table.rows.add(String(r.rowNumber), r.instrumentKey, true, false, r.category, r.rowHash, ...noData);
    else {
      const i = r.instrument;
      table.rows.add(
        String(r.rowNumber), i.instrumentKey, true, true, i.category, i.rowHash, i.segment, i.exchange, i.instrumentType, i.name, i.tradingSymbol, i.isin,
        date(i.expiry), decimal(i.strikePrice), decimal(i.lotSize), decimal(i.tickSize), decimal(i.freezeQuantity), i.underlyingKey, i.optionType,
        i.weekly, i.sourceRecord,
      );
    }
  }
  return table;
}

export function invalidBulkTable(runId: string, invalid: InvalidInstrument[]): sql.Table {
  const table = new sql.Table('[ref].[invalid_records]');
  table.create = false;
  table.columns.add('source', sql.NVarChar(50), { nullable: false });
  table.columns.add('source_ref', sql.NVarChar(1000), { nullable: true });
  table.columns.add('record_id', sql.NVarChar(255), { nullable: true });
  table.columns.add('row_number', sql.BigInt(), { nullable: true });
  table.columns.add('raw_text', sql.NVarChar(sql.MAX), { nullable: true });
  table.columns.add('errors', sql.NVarChar(sql.MAX), { nullable: false });
  for (const r of invalid) table.rows.add(INVALID_RECORD_SOURCE, runId, r.instrumentKey, String(r.rowNumber), r.rawText, JSON.stringify(r.errors));
  return table;
}

export async function writeStagingBatch(tx: sql.Transaction, runId: string, rows: StagedRow[], invalid: InvalidInstrument[], expected: StagingCheckpoint, next: StagingCheckpoint): Promise<void> {
  const row = await lockedRun(tx, runId);
  if (row.status !== 'running') throw new Error(`instrument sync run ${runId} is ${String(row.status)}; staging is closed`);
  const stored = checkpointOf(row);
  const same = stored.recordsRead === expected.recordsRead && stored.stagedRows === expected.stagedRows && stored.invalid === expected.invalid && stored.batches === expected.batches;
  if (!same) {
    throw new Error(`run ${runId} staging checkpoint moved: expected record ${expected.recordsRead}, found ${stored.recordsRead}; resume from the stored checkpoint`);
  }
  if (rows.length > 0) await tx.request().bulk(stagingBulkTable(runId, rows), { keepNulls: true });
  if (invalid.length > 0) await tx.request().bulk(invalidBulkTable(runId, invalid), { keepNulls: true });
  await run(tx, q.advanceStagingSql(runId, next));
}

export async function applySync(tx: sql.Transaction, runId: string, decide: Parameters<InstrumentStore['applySync']>[1]) {
  const stage = stagingTableOf(runId);
  const current = await lockedRun(tx, runId);
  if (current.status === 'succeeded' || current.status === 'guard_tripped') return reportFromRow(current);
  if (current.status !== 'staged') throw new Error(`instrument sync run ${runId} is ${String(current.status)}, not staged; nothing was applied`);
  const [lock] = await rowsOf(tx, q.applyLockSql);
  if (typeof lock?.result !== 'number' || lock.result < 0) throw new Error('could not take the instrument apply lock; another apply may be running, retry');
  const planned: GroupCounts[] = (await rowsOf(tx, q.plannedGroupsSql(stage))).map(groupFromRow);
  const totals = totalsOf(planned);
  const [c] = await rowsOf(tx, q.stagedCategoriesSql(stage));
  const guard = decide({ activeBefore: totals.activeBefore, wouldDeactivate: totals.deactivated, fno: Number(c?.fno ?? 0), equities: Number(c?.equities ?? 0) });
  const counts = { activeBefore: totals.activeBefore, added: totals.added, updated: totals.updated, unchanged: totals.unchanged, deactivated: totals.deactivated, reactivated: totals.reactivated };
  if (guard.tripped) {
    const { bySegment, byType } = breakdownsOf(planned);
    await run(tx, q.finishRunSql(runId, { status: 'guard_tripped', counts, activeAfter: null, bySegment: JSON.stringify(bySegment), byType: JSON.stringify(byType), guard: JSON.stringify(guard), appliedAt: null }));
  } else {
    const [t] = await rowsOf(tx, serverTimeSql);
    const now = t?.now as Date;
    // The counts above are exact inside this transaction, so statements with nothing to do are skipped.
    const writes = totals.added + totals.updated + totals.reactivated;
    if (writes > 0) await run(tx, q.upsertInstrumentsSql(stage, runId, now));
    if (totals.deactivated > 0) {
      const [prev] = await rowsOf(tx, q.lastSucceededRunSql);
      await run(tx, q.deactivateMissingSql(stage, runId, now, (prev?.applied_at as Date | undefined) ?? null));
    }
    const after: GroupCounts[] = writes + totals.deactivated > 0
      ? (await rowsOf(tx, q.activeGroupsSql)).map(groupFromRow)
      : planned.map((g) => ({ segment: g.segment, instrumentType: g.instrumentType, activeAfter: g.activeBefore ?? 0 }));
    const { bySegment, byType } = breakdownsOf([...planned, ...after]);
    await run(tx, q.finishRunSql(runId, {
      status: 'succeeded', counts, activeAfter: totalsOf(after).activeAfter, bySegment: JSON.stringify(bySegment), byType: JSON.stringify(byType), guard: JSON.stringify(guard), appliedAt: now,
    }));
  }
  return reportFromRow(await lockedRun(tx, runId));
}

export function createMssqlInstrumentStore(pool: sql.ConnectionPool): InstrumentStore {
  return {
    async beginSyncRun(start) {
      await run(pool, q.beginRunSql(start));
      const [row] = await rowsOf(pool, q.selectRunSql(start.runId));
      return reportFromRow(row);
    },
    async storedVersions(keys) {
      if (keys.length === 0) return new Map();
      const rows = await rowsOf(pool, q.storedVersionsSql(keys));
      return new Map(rows.map((r) => [String(r.instrument_key), { rowHash: String(r.row_hash), isActive: Boolean(r.is_active) }]));
    },
    async recordSource(runId, info) {
      await run(pool, q.recordSourceSql(runId, info.format, info.fileBytes, info.fileSha256));
    },
    openStaging: (runId) =>
      withTransaction(pool, async (tx) => {
        const stage = stagingTableOf(runId);
        const row = await lockedRun(tx, runId);
        await run(tx, q.createStagingSql(stage));
        const checkpoint = checkpointOf(row);
        if (row.status !== 'running') return checkpoint;
        const [n] = await rowsOf(tx, q.countStagingSql(stage));
        if (Number(n?.n) === checkpoint.stagedRows) return checkpoint;
        await run(tx, q.truncateStagingSql(stage));
        await run(tx, q.resetStagingRunSql(runId, INVALID_RECORD_SOURCE));
        return { recordsRead: 0, stagedRows: 0, invalid: 0, batches: 0 };
      }),
    writeStagingBatch: (runId, rows, invalid, expected, next) => withTransaction(pool, (tx) => writeStagingBatch(tx, runId, rows, invalid, expected, next)),
    finishStaging: (runId) =>
      withTransaction(pool, async (tx) => {
        const row = await lockedRun(tx, runId);
        if (row.status !== 'running') return { duplicates: Number(row.duplicates), invalid: Number(row.invalid_records) };
        const [d] = await rowsOf(tx, q.moveDuplicatesSql(stagingTableOf(runId), runId, INVALID_RECORD_SOURCE));
        const duplicates = Number(d?.duplicates ?? 0);
        const [after] = await rowsOf(tx, q.markStagedSql(runId, duplicates, Number(d?.newly_invalid ?? 0)));
        return { duplicates, invalid: Number(after?.invalid_records ?? 0) };
      }),
    // Not on SQL Server (yet): every run stages its file.
    stageAsIdentical: async () => null,
    applySync: (runId, decide) => withTransaction(pool, (tx) => applySync(tx, runId, decide)),
    async failSyncRun(runId, status, message) {
      await run(pool, q.failRunSql(runId, status, message));
    },
    async dropStaging(runId) {
      await run(pool, q.dropStagingSql(stagingTableOf(runId)));
    },
    async getSyncRun(runId) {
      const [row] = await rowsOf(pool, q.selectRunSql(runId));
      return row ? reportFromRow(row) : null;
    },
    async listSyncRuns(limit) {
      return (await rowsOf(pool, q.listRunsSql(limit))).map(reportFromRow);
    },
    async getInstrument(key) {
      const [row] = await rowsOf(pool, q.selectInstrumentSql(key));
      return row ? instrumentFromRow(row) : null;
    },
    async listInstruments(filter) {
      const { count, page } = q.listInstrumentsSql(filter);
      const [n] = await rowsOf(pool, count);
      return { items: (await rowsOf(pool, page)).map(instrumentFromRow), total: Number(n?.n ?? 0) };
    },
    async stats() {
      const rows = await rowsOf(pool, q.statsSql);
      const [last] = await rowsOf(pool, q.lastSucceededRunSql);
      return statsOf(rows.map((r) => ({ segment: (r.segment as string | null) ?? null, instrumentType: (r.instrument_type as string | null) ?? null, active: Boolean(r.is_active), n: Number(r.n) })), last ? reportFromRow(last) : null);
    },
  };
}
