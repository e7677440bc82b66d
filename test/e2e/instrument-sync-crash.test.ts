// kill -9 of the worker in the middle of staging, then a new worker: the sync resumes and ends exactly right.
// Only the broker is stood in for (a loopback HTTP server serving a generated file): it is outside our reach.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { INVALID_RECORD_SOURCE } from '../../src/db/instruments';
import { instrumentSyncWorkflowId } from '../../src/ids';
import { connectTemporal } from '../../src/temporal/client';
import { startInstrumentSync } from '../../src/temporal/instrument-sync';
import { gzip, masterRecords, startBroker, toJsonArray, type BrokerServer } from '../support/instrument-files';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { makeTempDir, type TempDir } from '../support/temp';
import { namespaceFor, waitFor } from './harness';

const RECORDS = 40_000;
let pg: TestDatabase;
let db: Database;
let temp: TempDir;
let broker: BrokerServer;
let connection: Connection;
let client: Client;
const children: ChildProcess[] = [];

/** A worker process (test/support/worker-process.ts) configured like `refdata worker`, from the environment. */
async function spawnWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(__dirname, '../support/worker-process.ts')], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env,
      DATABASE_URL: pg.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: namespaceFor(__filename),
      REFDATA_STATE_DIR: temp.path,
      REFDATA_WORKFLOW_BUNDLE: inject('workflowBundlePath') || '',
      INSTRUMENTS_URL: broker.url('/complete.json.gz'),
      // The broker stand-in listens on loopback, which the destination policy refuses by default.
      REFDATA_ALLOW_PRIVATE_DESTINATIONS: 'true',
      // Small batches make staging take seconds, so the kill lands in the middle of it.
      INSTRUMENTS_BATCH_SIZE: '250',
      INSTRUMENTS_MIN_EQUITIES: '1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('worker ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready: ${stderr}`)));
  });
  return child;
}

beforeAll(async () => {
  pg = await createTestDatabase(inject('pgUrl'));
  db = createPostgresDatabase(createNodePgExecutor(pg.url), 'postgres');
  await db.migrate();
  temp = await makeTempDir('refdata-e2e-crash-');
  broker = await startBroker();
  const records = masterRecords({ equities: 2000, indices: 20, futures: 80, options: RECORDS - 2200, mcx: 100 });
  // One bad record, to check that a resumed staging does not record it twice.
  records[7] = { ...records[7]!, lot_size: 0 };
  broker.set('/complete.json.gz', { body: gzip(toJsonArray(records)) });
  ({ connection, client } = await connectTemporal(inject('temporalAddress'), namespaceFor(__filename)));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await connection?.close();
  await db?.close();
  await pg?.drop();
  await broker?.close();
  await temp?.cleanup();
});

describe('a worker killed mid-sync', () => {
  it('SIGKILL while staging; a new worker resumes from the committed checkpoint and the final state is exact', async () => {
    const first = await spawnWorker();
    // A short heartbeat timeout notices the dead worker in seconds instead of a minute.
    const started = await startInstrumentSync(client, { trigger: 'manual', heartbeatTimeoutMs: 3000 });
    expect(started.started).toBe(true);
    const atKill = await waitFor('staging under way', async () => {
      const run = await db.instruments.getSyncRun(started.runId);
      return run && run.records >= 5000 && run.status === 'running' ? run.records : null;
    }, 60_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(atKill).toBeLessThan(RECORDS);

    await spawnWorker();
    const report = await client.workflow.getHandle(instrumentSyncWorkflowId, started.runId).result();
    expect(report).toMatchObject({ status: 'succeeded', records: RECORDS, invalid: 1, duplicates: 0, added: RECORDS - 1, activeAfter: RECORDS - 1, deactivated: 0 });
    const exec = createNodePgExecutor(pg.url);
    const [{ n }] = await exec.query<{ n: string }>('SELECT count(*) AS n FROM ref.instruments WHERE is_active');
    expect(Number(n)).toBe(RECORDS - 1);
    const rows = await exec.query('SELECT 1 FROM ref.invalid_records WHERE source = $1 AND source_ref = $2', [INVALID_RECORD_SOURCE, started.runId]);
    expect(rows).toHaveLength(1);
    await exec.close();

    // The staging activity ran twice: the second attempt on the new worker, resuming.
    const history = await client.workflow.getHandle(instrumentSyncWorkflowId, started.runId).fetchHistory();
    const stagingAttempts = (history.events ?? [])
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    expect(Math.max(...stagingAttempts)).toBeGreaterThanOrEqual(2);
  });
});
