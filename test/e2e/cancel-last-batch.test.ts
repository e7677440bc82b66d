// The fault matrix's cancel × loading race on real PostgreSQL and real activities, made deterministic: the cancel and
// the ingest's completion are both recorded while no workflow worker runs, so the next workflow task carries both.
// The cancel came before finishing: the table must keep its earlier rows, and every record must say cancelled.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client as PgClient } from 'pg';
import { CancelledFailure, WorkflowFailedError, type Client, type Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { buildActivities } from '../../workers/worker';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { connectTemporal, signalFileWorkflow } from '../../src/temporal/client';
import { ensureDropFolders } from '../../src/watcher';
import { silentLogger } from '../../src/log/logger';
import { taskQueues } from '../../src/ids';
import { progressQuery, type FileLifecycleResult } from '../../workflows/file-lifecycle';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { instrumentCsv, listDir, namespaceFor, waitFor } from './harness';

const namespace = namespaceFor(__filename);
let tdb: TestDatabase;
let db: Database;
let pg: PgClient;
let dropRoot: string;
let connection: Connection;
let client: Client;
let native: NativeConnection;
let activityWorker: Worker;
let activitiesRunning: Promise<void>;

const workflowSource = () => (inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') });

/** A worker for the workflow code only; the activities keep running in their own worker while it is away. */
async function runWorkflowWorker(): Promise<{ stop(): Promise<void> }> {
  const worker = await Worker.create({ connection: native, namespace, taskQueue: taskQueues.ingest, ...workflowSource(), maxCachedWorkflows: 0 });
  const running = worker.run();
  return { async stop() { worker.shutdown(); await running; } };
}

beforeAll(async () => {
  tdb = await createTestDatabase(inject('pgUrl'));
  db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
  await db.migrate();
  pg = new PgClient({ connectionString: tdb.url });
  await pg.connect();
  dropRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-cancel-race-'));
  await ensureDropFolders(dropRoot);
  ({ connection, client } = await connectTemporal(inject('temporalAddress'), namespace));
  native = await NativeConnection.connect({ address: inject('temporalAddress') });
  const activities = buildActivities({ db, log: silentLogger(), client, config: { dropoffDir: dropRoot, batchRows: 500, progressIntervalMs: 50 } });
  activityWorker = await Worker.create({ connection: native, namespace, taskQueue: taskQueues.ingest, activities });
  activitiesRunning = activityWorker.run();
});

afterAll(async () => {
  activityWorker?.shutdown();
  await activitiesRunning;
  await native?.close();
  await connection?.close();
  await pg?.end();
  await db?.close();
  await tdb?.drop();
  if (dropRoot) await fs.rm(dropRoot, { recursive: true, force: true });
});

async function run(name: string, content: string) {
  const file = path.join(dropRoot, 'reference_data_table/fullload', name);
  await fs.writeFile(file, content);
  const started = await signalFileWorkflow(client, { dropRoot, filePath: file, stability: { checks: 1, intervalMs: 10, maxWaitMs: 60_000 }, skipStability: true });
  if (!('workflowId' in started)) throw new Error(started.ignored);
  return { file, handle: client.workflow.getHandle(started.workflowId, started.runId) };
}

const symbols = async (): Promise<string[]> => (await pg.query<{ symbol: string }>('SELECT symbol FROM ref.marks ORDER BY symbol')).rows.map((r) => r.symbol);

describe('a cancel that reaches the run with the last batch of a load', () => {
  it('is honoured: the earlier rows stay, the load is undone, and table, ledger, ref.loads, folder and result say cancelled', async () => {
    let workflows = await runWorkflowWorker();
    try {
      const seed = await run('marks_20250101.csv', instrumentCsv(3));
      expect(((await seed.handle.result()) as FileLifecycleResult).status).toBe('loaded');
      const before = await symbols();

      // Holding the load's checkpoint row stops the ingest after its first batch, while the workflow worker leaves.
      const blocker = new PgClient({ connectionString: tdb.url });
      await blocker.connect();
      const { file, handle } = await run('marks_20250102.csv', instrumentCsv(40_000).replace(/SYM/g, 'NEW'));
      let loadId: string | null = null;
      try {
        loadId = await waitFor('a committed batch', async () => {
          const p = await handle.query(progressQuery);
          return p.rows >= 500 ? p.loadId : null;
        });
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM ref.loads WHERE load_id = $1 FOR UPDATE', [loadId]);
        await workflows.stop();
        await handle.cancel();
      } finally {
        await blocker.query('COMMIT').catch(() => undefined);
        await blocker.end();
      }
      await waitFor('the ingest completed in history', async () => {
        const events = (await handle.fetchHistory()).events ?? [];
        const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'ingestFile');
        return events.some((e) => scheduled && String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled.eventId));
      });
      workflows = await runWorkflowWorker();

      const err = await handle.result().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect(await symbols()).toEqual(before);
      expect((await pg.query('SELECT status FROM ref.loads WHERE load_id = $1', [loadId])).rows).toEqual([{ status: 'aborted' }]);
      expect(await db.getTrackingByPath(file)).toMatchObject({ status: 'cancelled', rowsLoaded: 0 });
      const errors = await listDir(path.join(dropRoot, 'reference_data_table/fullload/error'));
      expect(errors.filter((f) => f.endsWith('_marks_20250102.csv'))).toHaveLength(1);
      const processed = await listDir(path.join(dropRoot, 'reference_data_table/fullload/processed'));
      expect(processed.filter((f) => f.endsWith('_marks_20250102.csv'))).toEqual([]);
    } finally {
      await workflows.stop();
    }
  });
});
