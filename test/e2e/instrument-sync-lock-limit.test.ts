// The one-sync lock's time limit on a real Temporal server, worker and PostgreSQL: a sync stuck on a broker that
// stops sending is ended at its limit, recorded and reported, its staging cleaned, and the next sync runs.
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { PgExecutor } from '../../src/db/postgres/executor';
import type { Database } from '../../src/db/types';
import { instrumentSyncWorkflowId, taskQueues } from '../../src/ids';
import { silentLogger } from '../../src/log/logger';
import { createLedgerWatch } from '../../src/notify/ledger-watch';
import { createNotifier } from '../../src/notify/notifier';
import { connectTemporal } from '../../src/temporal/client';
import { startInstrumentSync } from '../../src/temporal/instrument-sync';
import { startWorker, type RunningWorker } from '../../workers/worker';
import { instrumentSync, scheduledInstrumentSync } from '../../workflows/instrument-sync';
import { gzip, masterRecords, nextDay, startBroker, toJsonArray, type BrokerServer } from '../support/instrument-files';
import { testInstrumentsConfig } from '../support/instrument-sync-steps';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { makeTempDir, type TempDir } from '../support/temp';
import { namespaceFor, waitFor } from './harness';

let pg: TestDatabase;
let exec: PgExecutor;
let db: Database;
let temp: TempDir;
let broker: BrokerServer;
let stalling: http.Server;
let connection: Connection;
let client: Client;
let worker: RunningWorker;
const day1 = masterRecords({ equities: 20, indices: 3, futures: 3, options: 40, mcx: 4 });
const day2 = nextDay(day1, { remove: 4, modify: 3, add: 5 });

/** A broker that sends the headers and the first part of the file, then nothing more (the connection stays open). */
async function startStallingBroker(body: Buffer): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    res.write(body.subarray(0, Math.floor(body.length / 2)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stuck.json` };
}

async function instruments(): Promise<Map<string, string>> {
  const rows = await exec.query<{ instrument_key: string; lot_size: string; is_active: boolean }>('SELECT instrument_key, lot_size, is_active FROM ref.instruments');
  return new Map(rows.map((r) => [r.instrument_key, `${Number(r.lot_size)}:${r.is_active}`]));
}

beforeAll(async () => {
  pg = await createTestDatabase(inject('pgUrl'));
  exec = createNodePgExecutor(pg.url);
  db = createPostgresDatabase(createNodePgExecutor(pg.url), 'postgres');
  await db.migrate();
  temp = await makeTempDir('refdata-e2e-sync-limit-');
  await fs.mkdir(path.join(temp.path, 'instruments'));
  broker = await startBroker();
  const address = inject('temporalAddress');
  ({ connection, client } = await connectTemporal(address, namespaceFor(__filename)));
  worker = await startWorker({
    address, namespace: namespaceFor(__filename), client, db, log: silentLogger(),
    config: { dropoffDir: temp.path, batchRows: 1000, stateDir: temp.path, instruments: testInstrumentsConfig({ url: broker.url('/master.json.gz'), fileDir: path.join(temp.path, 'instruments') }) },
    workflowBundlePath: inject('workflowBundlePath') || undefined,
  });
});

afterAll(async () => {
  await worker?.shutdown();
  await connection?.close();
  stalling?.closeAllConnections();
  await new Promise((resolve) => (stalling ? stalling.close(resolve) : resolve(undefined)));
  await broker?.close();
  await exec?.close();
  await db?.close();
  await pg?.drop();
  await temp?.cleanup();
});

describe('the one-sync lock has a time limit', () => {
  it('a sync stuck past its limit is ended, recorded timed_out and reported; the next sync runs and its values are the ones kept', async () => {
    // Day 1 completes: the values a stuck run must not disturb.
    broker.set('/master.json.gz', { body: gzip(toJsonArray(day1)) });
    await client.workflow.execute(instrumentSync, { taskQueue: taskQueues.sync, workflowId: instrumentSyncWorkflowId, args: [{}] });
    const afterDay1 = await instruments();
    expect(afterDay1.size).toBe(day1.length);

    // A sync of day 2 from a broker that stops half way holds the lock until its 3 s limit.
    const stuck = await startStallingBroker(toJsonArray(day2));
    stalling = stuck.server;
    const notifier = createNotifier();
    const watch = createLedgerWatch({ db, notifier, log: silentLogger() });
    const started = await startInstrumentSync(client, { source: { url: stuck.url }, trigger: 'manual', lockLimitMs: 3000 });
    expect(started.started).toBe(true);
    // While it runs, the lock refuses a second sync.
    expect((await startInstrumentSync(client, { trigger: 'manual' })).started).toBe(false);

    const failure = await client.workflow.getHandle(instrumentSyncWorkflowId, started.runId).result().then(() => null, (err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('TimeLimitExceeded');
    expect((cause as ApplicationFailure).message).toMatch(/past its limit of 3000 ms/);

    const [run] = await exec.query<{ status: string; error_message: string; finished_at: Date | null }>('SELECT status, error_message, finished_at FROM ref.instrument_sync_runs WHERE run_id = $1', [started.runId]);
    expect(run).toMatchObject({ status: 'timed_out' });
    expect(run!.finished_at).not.toBeNull();
    // Staging table and the partial download are gone; ref.instruments is day 1's, value for value.
    const staging = await exec.query<{ n: string }>(`SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'ref' AND tablename LIKE '%stag%'`);
    expect(Number(staging[0]!.n)).toBe(0);
    expect((await fs.readdir(temp.path)).filter((f) => f.startsWith(`instruments-${started.runId}`))).toEqual([]);
    expect(await instruments()).toEqual(afterDay1);

    // Operators hear of it.
    expect(await watch.poll()).toBeGreaterThanOrEqual(1);
    const note = notifier.recent().find((n) => n.refs.syncRunId === started.runId);
    expect(note).toMatchObject({ kind: 'sync.failed', severity: 'critical', title: 'Instrument sync ended at its time limit' });

    // The daily run is not skipped: the scheduled sync takes the free lock and applies day 2.
    broker.set('/master.json.gz', { body: gzip(toJsonArray(day2)) });
    const scheduled = await client.workflow.execute(scheduledInstrumentSync, {
      taskQueue: taskQueues.sync, workflowId: `scheduled-after-limit-${Date.now()}`, args: [{ lockLimitMs: 120_000 }],
    });
    expect(scheduled.status).toBe('synced');
    const afterDay2 = await instruments();
    const expected = new Map(day1.map((r) => [r.instrument_key, `${r.lot_size}:false`]));
    for (const r of day2) expected.set(r.instrument_key, `${r.lot_size}:true`);
    expect(afterDay2).toEqual(expected);
    const runs = await exec.query<{ status: string }>('SELECT status FROM ref.instrument_sync_runs ORDER BY started_at');
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'timed_out', 'succeeded']);
    await waitFor('no leftover staging', async () => {
      const left = await exec.query<{ n: string }>(`SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'ref' AND tablename LIKE '%stag%'`);
      return Number(left[0]!.n) === 0;
    });
  });
});
