// The PostgreSQL server restarts in the middle of an instrument sync (a clean restart, then a crash): the staging
// activity fails as transient, Temporal retries it, and the master ends exactly as the day's file says.
// The cluster is a private one (test/support/private-pg.ts): the shared test server is never restarted.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { PgExecutor } from '../../src/db/postgres/executor';
import type { Database } from '../../src/db/types';
import { instrumentSyncWorkflowId } from '../../src/ids';
import { silentLogger } from '../../src/log/logger';
import { connectTemporal } from '../../src/temporal/client';
import { startInstrumentSync } from '../../src/temporal/instrument-sync';
import type { InstrumentSyncReport } from '../../src/instruments/types';
import { startWorker, type RunningWorker } from '../../workers/worker';
import { gzip, masterRecords, nextDay, startBroker, toJsonArray, type BrokerServer, type UpstoxRecord } from '../support/instrument-files';
import { testInstrumentsConfig } from '../support/instrument-sync-steps';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../support/private-pg';
import { makeTempDir, type TempDir } from '../support/temp';
import { namespaceFor, waitFor } from './harness';

const unavailable = privatePostgresUnavailable();
const day1 = masterRecords({ equities: 2000, indices: 20, futures: 80, options: 37_800, mcx: 100 });
const day2 = nextDay(day1, { remove: 500, modify: 300, add: 700 });
const day3 = nextDay(day2, { remove: 400, modify: 200, add: 600 });

let server: PrivatePostgres;
let exec: PgExecutor;
let db: Database;
let temp: TempDir;
let broker: BrokerServer;
let connection: Connection;
let client: Client;
let worker: RunningWorker;

beforeAll(async () => {
  if (unavailable) return;
  server = await startPrivatePostgres();
  exec = createNodePgExecutor(server.url, { applicationName: 'refdata-restart-test' });
  db = createPostgresDatabase(exec, 'postgres');
  await db.migrate();
  temp = await makeTempDir('refdata-e2e-restart-');
  broker = await startBroker();
  const address = inject('temporalAddress');
  ({ connection, client } = await connectTemporal(address, namespaceFor(__filename)));
  worker = await startWorker({
    address, namespace: namespaceFor(__filename), client, db, log: silentLogger(),
    // Small batches make staging take seconds, so the restart lands in the middle of it.
    config: { dropoffDir: temp.path, batchRows: 1000, stateDir: temp.path, instruments: testInstrumentsConfig({ url: broker.url('/complete.json.gz'), batchSize: 250 }) },
    workflowBundlePath: inject('workflowBundlePath') || undefined,
  });
});

afterAll(async () => {
  await worker?.shutdown();
  await connection?.close();
  await db?.close();
  await broker?.close();
  await temp?.cleanup();
  await server?.stop();
});

async function sync(records: UpstoxRecord[], restart?: 'fast' | 'immediate'): Promise<{ report: InstrumentSyncReport; attempts: number }> {
  broker.set('/complete.json.gz', { body: gzip(toJsonArray(records)) });
  const started = await startInstrumentSync(client, { trigger: 'manual', heartbeatTimeoutMs: 10_000 });
  const handle = client.workflow.getHandle(instrumentSyncWorkflowId, started.runId);
  if (restart) {
    await waitFor('staging under way', async () => {
      const run = await db.instruments.getSyncRun(started.runId);
      return run && run.status === 'running' && run.records >= 5000 && run.records < records.length - 5000;
    }, 120_000);
    await server.restart(restart);
  }
  const report = await handle.result();
  const history = await handle.fetchHistory();
  const attempts = Math.max(...(history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1));
  return { report, attempts };
}

/** The master as stored must be exactly the file: its keys active with its lot sizes, every other key inactive. */
async function expectMasterIs(records: UpstoxRecord[], everSeen: Set<string>): Promise<void> {
  const rows = await exec.query<{ instrument_key: string; is_active: boolean; lot_size: string | null }>('SELECT instrument_key, is_active, lot_size FROM ref.instruments');
  const want = new Map(records.map((r) => [r.instrument_key, r.lot_size]));
  const active = rows.filter((r) => r.is_active);
  expect(active.length).toBe(want.size);
  expect(active.every((r) => want.has(r.instrument_key) && Number(r.lot_size) === want.get(r.instrument_key))).toBe(true);
  expect(rows.length).toBe(everSeen.size);
}

describe.skipIf(unavailable)('PostgreSQL restarted mid-sync', () => {
  const seen = new Set<string>();

  it('day 1 syncs normally (the baseline)', async () => {
    const { report } = await sync(day1);
    day1.forEach((r) => seen.add(r.instrument_key));
    expect(report).toMatchObject({ status: 'succeeded', records: day1.length, added: day1.length, invalid: 0 });
    await expectMasterIs(day1, seen);
  });

  it('a clean restart (pg_ctl restart -m fast) mid-staging: the sync is retried and ends exactly right', async () => {
    const { report, attempts } = await sync(day2, 'fast');
    day2.forEach((r) => seen.add(r.instrument_key));
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(report).toMatchObject({ status: 'succeeded', records: day2.length, invalid: 0, duplicates: 0, added: 700, updated: 300, deactivated: 500, activeAfter: day2.length });
    await expectMasterIs(day2, seen);
  });

  it('a crash (pg_ctl restart -m immediate) mid-staging empties the unlogged staging; staging restarts and ends exactly right', async () => {
    const { report, attempts } = await sync(day3, 'immediate');
    day3.forEach((r) => seen.add(r.instrument_key));
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(report).toMatchObject({ status: 'succeeded', records: day3.length, invalid: 0, duplicates: 0, added: 600, updated: 200, deactivated: 400, activeAfter: day3.length });
    await expectMasterIs(day3, seen);
  });
});

if (unavailable) describe('PostgreSQL restarted mid-sync', () => it.skip(`skipped: ${unavailable}`, () => undefined));
