// The instrument store on PostgreSQL: staging by COPY, one transaction to guard and apply.
import type { InstrumentStore, StagingCheckpoint, SyncRunStart } from '../instruments';
import { INVALID_RECORD_SOURCE, stagingTableOf } from '../instruments';
import { groupFromRow, instrumentFromRow, reportFromRow, statsOf } from '../instrument-rows';
import { breakdownsOf, totalsOf, type GroupCounts } from '../../instruments/report';
import type { PgExecutor, PgSession, Row } from './executor';
import { qualified } from './sql';
import {
  INSTRUMENT_SELECT, activeGroupsSql, copyInvalidSql, copyStagedKeysSql, copyStagingSql, createStagingSql, deactivateMissingSql,
  instrumentWhere, invalidCopyText, moveDuplicatesSql, plannedGroupsSql, stagedCategoriesSql, stagedKeysCopyText, stagedRowsCopyText,
  recordGuardTrippedSql, recordSucceededSql, storedVersionsSql, upsertInstrumentsSql,
} from './instrument-sql';
import { applyIfIdentical, tryStageAsIdentical } from './identical-file';
import type { StagedRow } from '../../instruments/types';

/** Serialises applies even if two runs ever reached this point (the workflow id already makes that unlikely). */
const APPLY_LOCK = 7233002;
/** For the transactions that join or group the whole master (150,000 instruments need ~20 MB to hash). */
const APPLY_WORK_MEM = '64MB';

async function runRow(s: PgSession, runId: string, lock = false): Promise<Row | null> {
  const rows = await s.query(`SELECT * FROM ref.instrument_sync_runs WHERE run_id = $1${lock ? ' FOR UPDATE' : ''}`, [runId]);
  return rows[0] ?? null;
}

async function lockedRun(s: PgSession, runId: string): Promise<Row> {
  const row = await runRow(s, runId, true);
  if (!row) throw new Error(`instrument sync run ${runId} does not exist; it must be begun first`);
  return row;
}

const checkpointOf = (r: Row): StagingCheckpoint => ({
  recordsRead: Number(r.records_read),
  stagedRows: Number(r.staged_rows),
  invalid: Number(r.invalid_records),
  batches: Number(r.batches),
});

export function createPostgresInstrumentStore(exec: PgExecutor): InstrumentStore {
  return {
    async beginSyncRun(start: SyncRunStart) {
      await exec.query(
        `INSERT INTO ref.instrument_sync_runs (run_id, workflow_id, trigger, source, status, forced) VALUES ($1, $2, $3, $4, 'running', $5)
         ON CONFLICT (run_id) DO NOTHING`,
        [start.runId, start.workflowId, start.trigger, start.source.slice(0, 2000), start.forced],
      );
      return reportFromRow(await runRow(exec, start.runId));
    },

    async storedVersions(keys) {
      if (keys.length === 0) return new Map();
      const rows = await exec.query<{ instrument_key: string; row_hash: string; is_active: boolean }>(storedVersionsSql, [JSON.stringify(keys)]);
      return new Map(rows.map((r) => [r.instrument_key, { rowHash: r.row_hash, isActive: r.is_active }]));
    },

    async recordSource(runId, info) {
      await exec.query('UPDATE ref.instrument_sync_runs SET file_format = $2, file_bytes = $3, file_sha256 = $4 WHERE run_id = $1', [
        runId, info.format, info.fileBytes, info.fileSha256,
      ]);
    },

    async openStaging(runId) {
      const stage = stagingTableOf(runId);
      return exec.transaction(async (tx) => {
        const run = await lockedRun(tx, runId);
        await tx.exec(createStagingSql(stage));
        const checkpoint = checkpointOf(run);
        if (run.status !== 'running') return checkpoint;
        const [{ n }] = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(stage)}`);
        if (Number(n) === checkpoint.stagedRows) return checkpoint;
        // The unlogged staging table lost rows (a database crash): stage again from the first record.
        await tx.exec(`TRUNCATE ${qualified(stage)}`);
        await tx.query('DELETE FROM ref.invalid_records WHERE source = $1 AND source_ref = $2', [INVALID_RECORD_SOURCE, runId]);
        await tx.query('UPDATE ref.instrument_sync_runs SET records_read = 0, staged_rows = 0, invalid_records = 0, batches = 0 WHERE run_id = $1', [runId]);
        return { recordsRead: 0, stagedRows: 0, invalid: 0, batches: 0 };
      });
    },

    async writeStagingBatch(runId, rows, invalid, expected, next) {
      const stage = stagingTableOf(runId);
      const full: Extract<StagedRow, { kind: 'full' }>[] = [];
      const keys: Exclude<StagedRow, { kind: 'full' }>[] = [];
      for (const r of rows) {
        if (r.kind === 'full') full.push(r);
        else keys.push(r);
      }
      await exec.transaction(async (tx) => {
        // No wait for the WAL flush: a database crash empties the unlogged staging table anyway (openStaging then
        // starts over), and the checkpoint and invalid records of this batch are lost or kept together.
        await tx.exec('SET LOCAL synchronous_commit = off');
        // Moving the checkpoint first locks the run row, so a stale attempt waits, then finds it moved.
        const moved = await tx.query(
          `UPDATE ref.instrument_sync_runs SET records_read = $6, staged_rows = $7, invalid_records = $8, batches = $9
           WHERE run_id = $1 AND status = 'running' AND records_read = $2 AND staged_rows = $3 AND invalid_records = $4 AND batches = $5 RETURNING 1`,
          [runId, expected.recordsRead, expected.stagedRows, expected.invalid, expected.batches, next.recordsRead, next.stagedRows, next.invalid, next.batches],
        );
        if (moved.length === 0) {
          const run = await lockedRun(tx, runId);
          if (run.status !== 'running') throw new Error(`instrument sync run ${runId} is ${String(run.status)}; staging is closed`);
          throw new Error(`run ${runId} staging checkpoint moved: expected record ${expected.recordsRead}, found ${checkpointOf(run).recordsRead}; resume from the stored checkpoint`);
        }
        if (full.length > 0) await tx.copyFromCsv(copyStagingSql(stage), stagedRowsCopyText(full));
        if (keys.length > 0) await tx.copyFromCsv(copyStagedKeysSql(stage), stagedKeysCopyText(keys));
        if (invalid.length > 0) await tx.copyFromCsv(copyInvalidSql, invalidCopyText(INVALID_RECORD_SOURCE, runId, invalid));
      });
    },

    stageAsIdentical: (runId, fileSha256) => tryStageAsIdentical((fn) => exec.transaction(fn), runId, fileSha256),

    async finishStaging(runId) {
      const stage = stagingTableOf(runId);
      return exec.transaction(async (tx) => {
        const run = await lockedRun(tx, runId);
        if (run.status !== 'running') return { duplicates: Number(run.duplicates), invalid: Number(run.invalid_records) };
        await tx.exec(`SET LOCAL work_mem = '${APPLY_WORK_MEM}'`);
        const [d] = await tx.query<{ duplicates: string; newly_invalid: string }>(moveDuplicatesSql(stage), [runId, INVALID_RECORD_SOURCE]);
        // Statistics for the apply's joins (a fresh table has none: the planner would guess 100s of rows).
        await tx.exec(`ANALYZE ${qualified(stage)}`);
        const rows = await tx.query(
          `UPDATE ref.instrument_sync_runs SET status = 'staged', duplicates = $2, invalid_records = invalid_records + $3,
             staged_rows = staged_rows - $2 WHERE run_id = $1 RETURNING invalid_records`,
          [runId, Number(d.duplicates), Number(d.newly_invalid)],
        );
        return { duplicates: Number(d.duplicates), invalid: Number(rows[0].invalid_records) };
      });
    },

    async applySync(runId, decide) {
      const stage = stagingTableOf(runId);
      return exec.transaction(async (tx) => {
        const run = await lockedRun(tx, runId);
        if (run.status === 'succeeded' || run.status === 'guard_tripped') return reportFromRow(run);
        if (run.status !== 'staged') throw new Error(`instrument sync run ${runId} is ${String(run.status)}, not staged; nothing was applied`);
        await tx.query('SELECT pg_advisory_xact_lock($1)', [APPLY_LOCK]);
        const identical = await applyIfIdentical(tx, run, stage, decide);
        if (identical) return identical;
        // The counting joins and aggregates over the whole master fit in memory instead of spilling to disk.
        await tx.exec(`SET LOCAL work_mem = '${APPLY_WORK_MEM}'`);
        const planned: GroupCounts[] = (await tx.query(plannedGroupsSql(stage))).map(groupFromRow);
        const totals = totalsOf(planned);
        const [c] = await tx.query(stagedCategoriesSql(stage));
        const guard = decide({ activeBefore: totals.activeBefore, wouldDeactivate: totals.deactivated, fno: Number(c.fno), equities: Number(c.equities) });
        const counts = [totals.activeBefore, totals.added, totals.updated, totals.unchanged, totals.deactivated, totals.reactivated];
        if (guard.tripped) {
          const { bySegment, byType } = breakdownsOf(planned);
          const rows = await tx.query(recordGuardTrippedSql, [runId, ...counts, JSON.stringify(bySegment), JSON.stringify(byType), JSON.stringify(guard)]);
          return reportFromRow(rows[0]);
        }
        // The counts above are exact inside this transaction, so statements with nothing to do are skipped.
        const writes = totals.added + totals.updated + totals.reactivated;
        if (writes > 0) await tx.query(upsertInstrumentsSql(stage), [runId]);
        if (totals.deactivated > 0) {
          const [prev] = await tx.query<{ at: Date | null }>(`SELECT max(applied_at) AS at FROM ref.instrument_sync_runs WHERE status = 'succeeded'`);
          await tx.query(deactivateMissingSql(stage), [runId, prev?.at ?? null]);
        }
        const after: GroupCounts[] = writes + totals.deactivated > 0
          ? (await tx.query(activeGroupsSql)).map(groupFromRow)
          : planned.map((g) => ({ segment: g.segment, instrumentType: g.instrumentType, activeAfter: g.activeBefore ?? 0 }));
        const { bySegment, byType } = breakdownsOf([...planned, ...after]);
        const rows = await tx.query(recordSucceededSql, [
          runId, ...counts, JSON.stringify(bySegment), JSON.stringify(byType), JSON.stringify(guard), totalsOf(after).activeAfter,
        ]);
        return reportFromRow(rows[0]);
      });
    },

    async failSyncRun(runId, status, message) {
      await exec.query(
        `UPDATE ref.instrument_sync_runs SET status = $2, error_message = $3, finished_at = COALESCE(finished_at, clock_timestamp()),
           duration_ms = COALESCE(duration_ms, floor(extract(epoch FROM clock_timestamp() - started_at) * 1000))
         WHERE run_id = $1 AND status <> 'succeeded'`,
        [runId, status, message.slice(0, 4000)],
      );
    },

    async dropStaging(runId) {
      await exec.exec(`DROP TABLE IF EXISTS ${qualified(stagingTableOf(runId))}`);
    },

    async getSyncRun(runId) {
      const row = await runRow(exec, runId);
      return row ? reportFromRow(row) : null;
    },

    async listSyncRuns(limit) {
      const rows = await exec.query('SELECT * FROM ref.instrument_sync_runs ORDER BY started_at DESC, run_id LIMIT $1', [Math.min(Math.max(limit, 1), 500)]);
      return rows.map(reportFromRow);
    },

    async getInstrument(key) {
      const rows = await exec.query(`${INSTRUMENT_SELECT} WHERE instrument_key = $1`, [key]);
      return rows[0] ? instrumentFromRow(rows[0]) : null;
    },

    async listInstruments(filter) {
      const { where, params } = instrumentWhere(filter);
      const [{ n }] = await exec.query<{ n: string }>(`SELECT count(*) AS n FROM ref.instruments${where}`, params);
      const rows = await exec.query(
        `${INSTRUMENT_SELECT}${where} ORDER BY instrument_key LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, filter.limit, filter.offset],
      );
      return { items: rows.map(instrumentFromRow), total: Number(n) };
    },

    async stats() {
      const rows = await exec.query<{ segment: string | null; instrument_type: string | null; is_active: boolean; n: string }>(
        'SELECT segment, instrument_type, is_active, count(*) AS n FROM ref.instruments GROUP BY 1, 2, 3',
      );
      const [last] = await exec.query(`SELECT * FROM ref.instrument_sync_runs WHERE status = 'succeeded' ORDER BY applied_at DESC LIMIT 1`);
      return statsOf(rows.map((r) => ({ segment: r.segment, instrumentType: r.instrument_type, active: Boolean(r.is_active), n: Number(r.n) })), last ? reportFromRow(last) : null);
    },
  };
}
