// A sync of the very file the last successful sync applied, with nothing changed since: the outcome is known
// (every instrument unchanged), so neither staging nor the comparing joins run. See InstrumentStore.stageAsIdentical.
import type { GuardInput, GuardResult, InstrumentSyncReport, BreakdownCounts } from '../../instruments/types';
import { breakdownsOf, emptyCounts } from '../../instruments/report';
import { INVALID_RECORD_SOURCE } from '../instruments';
import { groupFromRow, reportFromRow } from '../instrument-rows';
import type { TableRef } from '../types';
import type { PgSession, Row, SqlValue } from './executor';
import { qualified } from './sql';
import { activeGroupsSql, copyInvalidRecordsSql, identicalLastRunSql, recordGuardTrippedSql, recordSucceededSql } from './instrument-sql';

/** The earlier run whose outcome this run repeats, or null. A run forced past the guard is never repeated unforced. */
async function identicalEarlierRun(tx: PgSession, fileSha256: string | null): Promise<InstrumentSyncReport | null> {
  if (!fileSha256) return null;
  const [row] = await tx.query(identicalLastRunSql, [fileSha256]);
  if (!row) return null;
  const earlier = reportFromRow(row);
  return earlier.guard && !earlier.guard.bypassed ? earlier : null;
}

class NotIdentical extends Error {}

/** Marks the run staged with the earlier run's checkpoint and invalid records, when the file is that run's. */
async function stageAsIdentical(tx: PgSession, runId: string, fileSha256: string) {
  const [run] = await tx.query(`SELECT * FROM ref.instrument_sync_runs WHERE run_id = $1 FOR UPDATE`, [runId]);
  if (!run || run.status !== 'running' || Number(run.records_read) > 0) return null;
  const earlier = await identicalEarlierRun(tx, fileSha256);
  if (!earlier) return null;
  const copied = await tx.query(`${copyInvalidRecordsSql} RETURNING 1`, [runId, earlier.runId, INVALID_RECORD_SOURCE]);
  // The earlier run's invalid records were pruned (retention): stage the file instead, which writes them again.
  if (copied.length !== earlier.invalid) throw new NotIdentical();
  await tx.query(
    `UPDATE ref.instrument_sync_runs SET status = 'staged', records_read = $2, staged_rows = 0, invalid_records = $3, duplicates = $4, batches = 0
     WHERE run_id = $1`,
    [runId, earlier.records, earlier.invalid, earlier.duplicates],
  );
  return { records: earlier.records, invalid: earlier.invalid, duplicates: earlier.duplicates, sameAsRunId: earlier.runId };
}

/** Runs stageAsIdentical, undoing its copies when the earlier run's records turn out incomplete. */
export async function tryStageAsIdentical(transaction: <T>(fn: (tx: PgSession) => Promise<T>) => Promise<T>, runId: string, fileSha256: string) {
  try {
    return await transaction((tx) => stageAsIdentical(tx, runId, fileSha256));
  } catch (err) {
    if (err instanceof NotIdentical) return null;
    throw err;
  }
}

const staysUnchanged = (c: BreakdownCounts) => c.added + c.updated + c.unchanged + c.reactivated;

/**
 * Inside the apply transaction: if nothing was staged and the file is still the last successful run's, records
 * the known outcome (every instrument the earlier run kept is unchanged, none deactivated) after the guard.
 */
export async function applyIfIdentical(tx: PgSession, run: Row, stage: TableRef, decide: (input: GuardInput) => GuardResult): Promise<InstrumentSyncReport | null> {
  if (Number(run.staged_rows) !== 0 || Number(run.records_read) === 0) return null;
  const [staged] = await tx.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${qualified(stage)}) AS any`);
  if (staged?.any) return null;
  const earlier = await identicalEarlierRun(tx, run.file_sha256 as string | null);
  if (!earlier?.guard) return null;
  const active = (await tx.query(activeGroupsSql)).map(groupFromRow);
  const { bySegment, byType } = breakdownsOf(active.map((g) => ({ ...g, activeBefore: g.activeAfter })));
  const withUnchanged = (now: Record<string, BreakdownCounts>, then: Record<string, BreakdownCounts>) => {
    for (const [label, counts] of Object.entries(then)) (now[label] ??= emptyCounts()).unchanged = staysUnchanged(counts);
    return Object.fromEntries(Object.entries(now).sort(([a], [b]) => a.localeCompare(b)));
  };
  const activeNow = active.reduce((n, g) => n + (g.activeAfter ?? 0), 0);
  const unchanged = staysUnchanged({ ...emptyCounts(), added: earlier.added ?? 0, updated: earlier.updated ?? 0, unchanged: earlier.unchanged ?? 0, reactivated: earlier.reactivated ?? 0 });
  const guard = decide({ activeBefore: activeNow, wouldDeactivate: 0, fno: earlier.guard.fno, equities: earlier.guard.equities });
  const counts = [activeNow, 0, 0, unchanged, 0, 0];
  const params: SqlValue[] = [String(run.run_id), ...counts, JSON.stringify(withUnchanged(bySegment, earlier.bySegment)), JSON.stringify(withUnchanged(byType, earlier.byType)), JSON.stringify(guard)];
  const rows = guard.tripped ? await tx.query(recordGuardTrippedSql, params) : await tx.query(recordSucceededSql, [...params, activeNow]);
  return reportFromRow(rows[0]);
}
