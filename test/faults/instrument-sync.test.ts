// The instrument sync under the faults the fault matrix adds: the Temporal server killed (SIGKILL) and restarted on
// its database while the apply commits, and the same sync asked for twice at the same moment. Afterwards the master
// must be exactly the day's file, and Temporal's report and the recorded sync run must say the same.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { PgExecutor } from '../../src/db/postgres/executor';
import type { Database } from '../../src/db/types';
import { instrumentSyncWorkflowId } from '../../src/ids';
import type { InstrumentSyncReport } from '../../src/instruments/types';
import { silentLogger } from '../../src/log/logger';
import { connectTemporal } from '../../src/temporal/client';
import { startInstrumentSync } from '../../src/temporal/instrument-sync';
import { startWorker, type RunningWorker } from '../../workers/worker';
import { gzip, masterRecords, nextDay, startBroker, toJsonArray, type BrokerServer, type UpstoxRecord } from '../support/instrument-files';
import { testInstrumentsConfig } from '../support/instrument-sync-steps';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { makeTempDir, type TempDir } from '../support/temp';
import { pauseWhileHeld } from './support/holds';
import { startKillableTemporal, type KillableTemporal } from './support/temporal-server';

const day1 = masterRecords({ equities: 1000, indices: 20, futures: 80, options: 8_800, mcx: 100 });
const day2 = nextDay(day1, { remove: 500, modify: 300, add: 700 });
const day3 = nextDay(day2, { remove: 400, modify: 200, add: 600 });

let temp: TempDir;
let temporal: KillableTemporal;
let pg: TestDatabase;
let exec: PgExecutor;
let db: Database;
let broker: BrokerServer;
let connection: Connection;
let client: Client;
let worker: RunningWorker;
let applyHold: string;

/** The worker's database, holding applySync after it committed while the test asks (see holds.ts). */
function holdingApply(real: Database): Database {
  const instruments = new Proxy(real.instruments, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (prop !== 'applySync' || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return async (...args: unknown[]) => {
        const out: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        await pauseWhileHeld(applyHold);
        return out;
      };
    },
  });
  return new Proxy(real, { get: (target, prop, receiver) => (prop === 'instruments' ? instruments : Reflect.get(target, prop, receiver)) });
}

beforeAll(async () => {
  temp = await makeTempDir('refdata-faults-sync-');
  applyHold = path.join(temp.path, 'apply.hold');
  temporal = await startKillableTemporal(temp.path);
  pg = await createTestDatabase(inject('pgUrl'));
  exec = createNodePgExecutor(pg.url);
  db = createPostgresDatabase(exec, 'postgres');
  await db.migrate();
  broker = await startBroker();
  ({ connection, client } = await connectTemporal(temporal.address, 'default'));
  worker = await startWorker({
    address: temporal.address, namespace: 'default', client, db: holdingApply(db), log: silentLogger(), queues: ['sync'],
    config: { dropoffDir: temp.path, batchRows: 1000, stateDir: temp.path, instruments: testInstrumentsConfig({ url: broker.url('/complete.json.gz'), batchSize: 500 }) },
    workflowBundlePath: inject('workflowBundlePath') || undefined,
  });
}, 180_000);

afterAll(async () => {
  await worker?.shutdown();
  await connection?.close();
  await temporal?.stop();
  await db?.close();
  await pg?.drop();
  await broker?.close();
  await temp?.cleanup();
});

/** The master as stored is exactly the file: its keys active with its lot sizes, every other key seen inactive. */
async function expectMasterIs(records: UpstoxRecord[], everSeen: Set<string>): Promise<void> {
  const rows = await exec.query<{ instrument_key: string; is_active: boolean; lot_size: string | null }>('SELECT instrument_key, is_active, lot_size FROM ref.instruments');
  const want = new Map(records.map((r) => [r.instrument_key, r.lot_size]));
  const active = rows.filter((r) => r.is_active);
  expect(active.length).toBe(want.size);
  expect(active.filter((r) => !want.has(r.instrument_key) || Number(r.lot_size) !== want.get(r.instrument_key))).toEqual([]);
  expect(rows.length).toBe(everSeen.size);
}

/** Temporal's report and the recorded run tell the same counts. */
async function expectRecordedAs(report: InstrumentSyncReport): Promise<void> {
  const recorded = await db.instruments.getSyncRun(report.runId);
  expect(recorded).toMatchObject({
    status: report.status, records: report.records, added: report.added, updated: report.updated,
    deactivated: report.deactivated, invalid: report.invalid, activeAfter: report.activeAfter,
  });
}

describe('instrument sync under the matrix faults', () => {
  const seen = new Set<string>();

  it('day 1 syncs normally (the baseline)', async () => {
    broker.set('/complete.json.gz', { body: gzip(toJsonArray(day1)) });
    const started = await startInstrumentSync(client, { trigger: 'manual', heartbeatTimeoutMs: 5_000 });
    const report = await client.workflow.getHandle(instrumentSyncWorkflowId, started.runId).result();
    day1.forEach((r) => seen.add(r.instrument_key));
    expect(report).toMatchObject({ status: 'succeeded', records: day1.length, added: day1.length });
    await expectMasterIs(day1, seen);
    await expectRecordedAs(report);
  });

  it('Temporal killed after the apply committed and restarted on its database: the report still says what the apply did', async () => {
    broker.set('/complete.json.gz', { body: gzip(toJsonArray(day2)) });
    await fs.writeFile(applyHold, '');
    const started = await startInstrumentSync(client, { trigger: 'manual', heartbeatTimeoutMs: 5_000 });
    const deadline = Date.now() + 120_000;
    while (!existsSync(`${applyHold}.reached`)) {
      if (Date.now() > deadline) throw new Error('the sync never reached its apply');
      await new Promise((r) => setTimeout(r, 25));
    }
    await temporal.kill();
    await fs.rm(applyHold); // the activity ends while the server is away; its completion may be lost and the apply retried
    await new Promise((r) => setTimeout(r, 3_000));
    await temporal.start();
    let report: InstrumentSyncReport | null = null;
    while (!report) {
      report = await client.workflow.getHandle(instrumentSyncWorkflowId, started.runId).result().catch((err: Error) => {
        if (Date.now() > deadline) throw err;
        return null;
      });
    }
    day2.forEach((r) => seen.add(r.instrument_key));
    expect(report).toMatchObject({ status: 'succeeded', records: day2.length, invalid: 0, added: 700, updated: 300, deactivated: 500, activeAfter: day2.length });
    await expectMasterIs(day2, seen);
    await expectRecordedAs(report);
  });

  it('the same sync asked for twice at once runs once: one run, one report, the master exact', async () => {
    broker.set('/complete.json.gz', { body: gzip(toJsonArray(day3)) });
    const runsBefore = (await db.instruments.listSyncRuns(100)).length;
    const [a, b] = await Promise.all([
      startInstrumentSync(client, { trigger: 'manual', heartbeatTimeoutMs: 5_000 }),
      startInstrumentSync(client, { trigger: 'manual', heartbeatTimeoutMs: 5_000 }),
    ]);
    expect([a.started, b.started].sort()).toEqual([false, true]);
    expect(a.runId).toBe(b.runId);
    const report = await client.workflow.getHandle(instrumentSyncWorkflowId, a.runId).result();
    day3.forEach((r) => seen.add(r.instrument_key));
    expect(report).toMatchObject({ status: 'succeeded', records: day3.length, added: 600, updated: 200, deactivated: 400, activeAfter: day3.length });
    expect((await db.instruments.listSyncRuns(100)).length).toBe(runsBefore + 1);
    await expectMasterIs(day3, seen);
    await expectRecordedAs(report);
  });
});
