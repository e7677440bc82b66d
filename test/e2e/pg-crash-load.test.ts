// PostgreSQL crashes (pg_ctl restart -m immediate) while a dropped file is appended through the whole workflow: the
// unlogged stage is emptied by crash recovery, the ingest activity fails as transient, Temporal retries it, and the
// file ends `loaded` with exactly its rows (values read back), or fails loudly; never `loaded` with rows missing.
// The cluster is a private one (test/support/private-pg.ts): the shared test server is never restarted.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { PgExecutor } from '../../src/db/postgres/executor';
import type { Database } from '../../src/db/types';
import { silentLogger } from '../../src/log/logger';
import { connectTemporal, signalFileWorkflow } from '../../src/temporal/client';
import { ensureDropFolders } from '../../src/watcher';
import { startWorker, type RunningWorker } from '../../workers/worker';
import type { FileLifecycleResult } from '../../workflows/file-lifecycle';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../support/private-pg';
import { makeTempDir, type TempDir } from '../support/temp';
import { namespaceFor, waitFor } from './harness';

const unavailable = privatePostgresUnavailable();
const ROWS = 150_000;

let server: PrivatePostgres;
let exec: PgExecutor;
let db: Database;
let temp: TempDir;
let connection: Connection;
let client: Client;
let worker: RunningWorker;

beforeAll(async () => {
  if (unavailable) return;
  server = await startPrivatePostgres();
  exec = createNodePgExecutor(server.url, { applicationName: 'refdata-crash-e2e' });
  db = createPostgresDatabase(exec, 'postgres');
  await db.migrate();
  temp = await makeTempDir('refdata-e2e-crash-load-');
  await ensureDropFolders(temp.path);
  const address = inject('temporalAddress');
  ({ connection, client } = await connectTemporal(address, namespaceFor(__filename)));
  worker = await startWorker({
    address, namespace: namespaceFor(__filename), client, db, log: silentLogger(),
    // Small batches: the crash lands after some committed batches and well before the last.
    config: { dropoffDir: temp.path, batchRows: 2000, stateDir: temp.path, progressIntervalMs: 50 },
    workflowBundlePath: inject('workflowBundlePath') || undefined,
  });
});

afterAll(async () => {
  await worker?.shutdown();
  await connection?.close();
  await db?.close();
  await temp?.cleanup();
  await server?.stop();
});

async function writeCsv(file: string, from: number, rows: number): Promise<void> {
  const lines = ['id,code,price'];
  for (let i = from; i < from + rows; i++) lines.push(`${i},C${i},${(i % 997) / 4}`);
  await fs.writeFile(file, `${lines.join('\n')}\n`);
}

async function run(file: string): Promise<{ workflowId: string; result: Promise<FileLifecycleResult> }> {
  const started = await signalFileWorkflow(client, {
    dropRoot: temp.path, filePath: file, stability: { checks: 1, intervalMs: 0, maxWaitMs: 60_000 }, skipStability: true, ingestHeartbeatTimeoutMs: 5_000,
  });
  if (!('workflowId' in started)) throw new Error(started.ignored);
  return { workflowId: started.workflowId, result: client.workflow.getHandle(started.workflowId).result() as Promise<FileLifecycleResult> };
}

describe.skipIf(unavailable)('PostgreSQL crash during an append, through the workflow', () => {
  it('the retried ingest loads the file again and the table holds exactly its rows', async () => {
    const folder = path.join(temp.path, 'none_reference_data_table/append');
    const seed = path.join(folder, 'crash_e2e_20240101.csv');
    await writeCsv(seed, 1, 10);
    expect((await (await run(seed)).result).status).toBe('loaded');

    const file = path.join(folder, 'crash_e2e_20240102.csv');
    await writeCsv(file, 1000, ROWS);
    const { workflowId, result } = await run(file);
    await waitFor('a committed batch', async () => {
      const [load] = await db.listLoads({ table: 'crash_e2e', status: 'loading' });
      return load && load.rowsCommitted > 0 && load.rowsCommitted < ROWS / 2 ? load : null;
    }, 120_000);
    await server.restart('immediate');
    const outcome = await result;

    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const attempts = Math.max(...(history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1));
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(outcome).toMatchObject({ status: 'loaded', rows: ROWS });
    const [stats] = await exec.query<{ n: string; ids: string; lo: number; hi: number; wrong: string }>(
      `SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS lo, max(id) AS hi,
              count(*) FILTER (WHERE code <> 'C' || id OR price <> (id % 997) / 4.0) AS wrong
         FROM data.crash_e2e WHERE refdata_load_id = $1`,
      [outcome.loadId],
    );
    expect({ n: Number(stats.n), ids: Number(stats.ids), lo: Number(stats.lo), hi: Number(stats.hi), wrong: Number(stats.wrong) })
      .toEqual({ n: ROWS, ids: ROWS, lo: 1000, hi: 1000 + ROWS - 1, wrong: 0 });
    const [{ total }] = await exec.query<{ total: string }>('SELECT count(*) AS total FROM data.crash_e2e');
    expect(Number(total)).toBe(ROWS + 10);
    expect(await db.getLoad(outcome.loadId!)).toMatchObject({ status: 'loaded', rowsCommitted: ROWS, rowsQuarantined: 0 });
  });
});

if (unavailable) describe('PostgreSQL crash during an append, through the workflow', () => it.skip(`skipped: ${unavailable}`, () => undefined));
