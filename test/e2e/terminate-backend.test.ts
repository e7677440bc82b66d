// pg_terminate_backend on the loader's COPY connection, twice, mid-file: the ingest activity fails as transient,
// Temporal retries it, it resumes from the last committed batch, and the table ends with every row exactly once.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as PgClient } from 'pg';
import { signalFileWorkflow } from '../../src/temporal/client';
import { generateCsv } from '../../bench/ingest/generate';
import type { FileLifecycleResult } from '../../workflows/file-lifecycle';
import { startSystem, waitFor, type System } from './harness';

const ROWS = 300_000;
const BATCH_ROWS = 10_000;
let sys: System;
let admin: PgClient;

beforeAll(async () => {
  sys = await startSystem({ testFile: __filename, database: 'postgres', batchRows: BATCH_ROWS });
  admin = new PgClient({ connectionString: sys.dbUrl! });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await sys?.stop();
});

/** Terminates the backend running (or in the transaction of) a COPY into `table`'s staging; its pid, or null. */
async function terminateCopy(table: string): Promise<number | null> {
  const r = await admin.query<{ pid: number; ok: boolean }>(
    `SELECT pid, pg_terminate_backend(pid) AS ok FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
        AND query ILIKE 'COPY %' AND query LIKE $1`,
    [`%${table}%`],
  );
  return r.rows.find((row) => row.ok)?.pid ?? null;
}

describe('a database connection lost mid-load', () => {
  it('the COPY backend is terminated twice mid-file; the file still ends loaded with exactly the right rows', async () => {
    const table = 'terminated_load';
    const file = path.join(sys.dropRoot, 'none_reference_data_table/fullload', `${table}.csv`);
    await generateCsv(file, ROWS);
    const started = await signalFileWorkflow(sys.client, {
      dropRoot: sys.dropRoot, filePath: file, stability: sys.stability, skipStability: true, ingestHeartbeatTimeoutMs: 10_000,
    });
    if (!('workflowId' in started)) throw new Error(started.ignored);

    const kills: { pid: number; rowsCommitted: number }[] = [];
    while (kills.length < 2) {
      // Mid-file: at least one batch committed (after the previous kill, a later one), not all of them.
      const atLeast = (kills.at(-1)?.rowsCommitted ?? 0) + BATCH_ROWS;
      const pid = await waitFor(`a COPY after ${atLeast} committed rows`, async () => {
        const [load] = await sys.db.listLoads({ table, status: 'loading' });
        if (!load || load.rowsCommitted < atLeast || load.rowsCommitted >= ROWS - 2 * BATCH_ROWS) return null;
        return terminateCopy(table);
      }, 120_000);
      const [load] = await sys.db.listLoads({ table, status: 'loading' });
      kills.push({ pid, rowsCommitted: load?.rowsCommitted ?? atLeast });
    }
    expect(new Set(kills.map((k) => k.pid)).size).toBe(2);

    const result = (await sys.client.workflow.getHandle(started.workflowId).result()) as FileLifecycleResult;
    expect(result).toMatchObject({ status: 'loaded', rows: ROWS });
    const [counts] = (
      await admin.query<{ n: string; keys: string; loads: string }>(
        `SELECT count(*) AS n, count(DISTINCT instrument_key) AS keys, count(DISTINCT refdata_load_id) AS loads FROM data.${table}`,
      )
    ).rows;
    expect({ n: Number(counts!.n), keys: Number(counts!.keys), loads: Number(counts!.loads) }).toEqual({ n: ROWS, keys: ROWS, loads: 1 });
    const load = (await sys.db.getLoad(result.loadId!))!;
    expect(load).toMatchObject({ status: 'loaded', rowsCommitted: ROWS });

    // The activity was retried after each lost connection, rather than the file failing.
    const history = await sys.client.workflow.getHandle(started.workflowId).fetchHistory();
    const attempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
    expect((await sys.db.getTrackingByPath(file))?.status).toBe('loaded');
  });
});
