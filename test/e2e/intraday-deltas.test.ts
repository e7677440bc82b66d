// Intraday deltas as records change, against the real dev server, PostgreSQL and a worker process configured from the
// environment (REFDATA_INTRADAY_DELTAS=true): syncs that change rows within the debounce window make one delta whose
// files hold exactly those changes; a sync that changes nothing makes none; a worker killed while the debouncer waits
// does not lose or double the delta. Only the broker is stood in for (a loopback HTTP server).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { DistributionRun } from '../../src/db/distribution-runs';
import type { Database } from '../../src/db/types';
import { instrumentSyncWorkflowId, intradayDeltasWorkflowId } from '../../src/ids';
import { connectTemporal, signalFileWorkflow } from '../../src/temporal/client';
import { ensureDropFolders } from '../../src/watcher';
import { startInstrumentSync } from '../../src/temporal/instrument-sync';
import { intradayDeltasQuery } from '../../workflows/intraday-deltas';
import { changesBetween, readCsv, readJson } from '../support/distribution-files';
import { gzip, masterRecords, nextDay, startBroker, toJsonArray, type BrokerServer, type UpstoxRecord } from '../support/instrument-files';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { makeTempDir, type TempDir } from '../support/temp';
import { instrumentCsv, namespaceFor, waitFor } from './harness';

/** Long enough for two syncs to finish inside it on a loaded machine. */
const DEBOUNCE_SECONDS = 20;
const namespace = namespaceFor(__filename);
let pg: TestDatabase;
let db: Database;
let temp: TempDir;
let broker: BrokerServer;
let connection: Connection;
let client: Client;
let worker: ChildProcess;
const children: ChildProcess[] = [];

const day1 = masterRecords({ equities: 30, indices: 4, futures: 6, options: 60, mcx: 4 });
const day2 = nextDay(day1, { remove: 3, modify: 4, add: 5 });
const day3 = nextDay(day2, { remove: 2, modify: 4, add: 3 });
const day4 = nextDay(day3, { remove: 1, modify: 2, add: 2 });

async function spawnWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(__dirname, '../support/worker-process.ts')], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env,
      DATABASE_URL: pg.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: namespace,
      REFDATA_STATE_DIR: temp.path,
      REFDATA_DROPOFF_DIR: path.join(temp.path, 'drop'),
      REFDATA_WORKFLOW_BUNDLE: inject('workflowBundlePath') || '',
      INSTRUMENTS_URL: broker.url('/complete.json.gz'),
      REFDATA_ALLOW_PRIVATE_DESTINATIONS: 'true',
      INSTRUMENTS_MIN_EQUITIES: '1',
      REFDATA_DISTRIBUTION_TIMEZONE: 'UTC',
      REFDATA_INTRADAY_DELTAS: 'true',
      REFDATA_INTRADAY_DEBOUNCE_SECONDS: String(DEBOUNCE_SECONDS),
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
  temp = await makeTempDir('refdata-e2e-intraday-');
  await ensureDropFolders(path.join(temp.path, 'drop'));
  broker = await startBroker();
  ({ connection, client } = await connectTemporal(inject('temporalAddress'), namespace));
  worker = await spawnWorker();
});

afterAll(async () => {
  await client?.workflow.getHandle(intradayDeltasWorkflowId).terminate('test over').catch(() => undefined);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await connection?.close();
  await db?.close();
  await pg?.drop();
  await broker?.close();
  await temp?.cleanup();
});

/** Runs one sync of `records` to its end; returns its Temporal run id. */
async function sync(records: UpstoxRecord[]): Promise<string> {
  broker.set('/complete.json.gz', { body: gzip(toJsonArray(records)) });
  const started = await startInstrumentSync(client, { trigger: 'manual' });
  expect(started.started).toBe(true);
  await client.workflow.getHandle(instrumentSyncWorkflowId, started.runId).result();
  return started.runId;
}

/** The intraday deltas the debouncer ran (trigger `change`), oldest first. */
async function changeRuns(): Promise<DistributionRun[]> {
  const runs = await db.distributionRuns.listRuns({ limit: 100 });
  return runs.filter((r) => r.trigger === 'change').sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

async function nthDelta(n: number): Promise<DistributionRun> {
  return waitFor(`intraday delta #${n} succeeded`, async () => {
    const runs = await changeRuns();
    return runs.length >= n && runs[n - 1]!.status === 'succeeded' ? runs[n - 1]! : null;
  }, 180_000);
}

/** The delta and cancellation files of a run, by key. */
function filesOf(run: DistributionRun): { delta: Map<string, string>; cancelled: string[] } {
  const dir = path.join(temp.path, 'distribution', run.runId.slice(0, 8));
  const delta = readCsv(dir, `${run.runId}_delta.csv`).rows;
  const cancellation = readCsv(dir, `${run.runId}_cancellation.csv`).rows;
  for (const r of cancellation) expect(r.tag).toBe('Cancelled');
  return {
    delta: new Map(delta.map((r) => [r.instrument_key!, r.change!])),
    cancelled: cancellation.map((r) => r.instrument_key!).sort(),
  };
}

function expectChanges(run: DistributionRun, before: UpstoxRecord[], after: UpstoxRecord[]): void {
  const want = changesBetween(before, after);
  const got = filesOf(run);
  expect([...got.delta.keys()].sort()).toEqual([...want.added, ...want.changed].sort());
  for (const k of want.added) expect(got.delta.get(k)).toBe('ADDED');
  for (const k of want.changed) expect(got.delta.get(k)).toBe('CHANGED');
  expect(got.cancelled).toEqual(want.removed);
}

describe('intraday deltas as records change', () => {
  it('the first sync (everything added) makes one delta of all of it', async () => {
    await sync(day1);
    const first = await nthDelta(1);
    expect(first).toMatchObject({ kind: 'delta', trigger: 'change', watermarkCommitted: true });
    expect(first.watermark.from).toBeNull();
    const got = filesOf(first);
    expect([...got.delta.keys()].sort()).toEqual(day1.map((r) => r.instrument_key).sort());
    expect(got.cancelled).toEqual([]);
  });

  it('two syncs that change rows within the window make one delta holding exactly the changes of both', async () => {
    const [first] = await changeRuns();
    await sync(day2);
    await sync(day3);
    const second = await nthDelta(2);
    // Both syncs ended before the window closed: one run answered both requests, and it took its range on from the first.
    expect(await changeRuns()).toHaveLength(2);
    expect(second.watermark.from).toBe(first!.watermark.to);
    expectChanges(second, day1, day3);
    // The run records its success just before its workflow ends; then the debouncer goes idle.
    const debouncer = client.workflow.getHandle(intradayDeltasWorkflowId);
    const state = await waitFor('the debouncer idle', async () => {
      const s = await debouncer.query(intradayDeltasQuery);
      return s.phase === 'idle' ? s : null;
    }, 30_000);
    expect(state).toMatchObject({ pending: null, lastRunId: second.runId, runs: 2 });
  });

  it('a sync that changes nothing requests nothing and makes no delta', async () => {
    const runId = await sync(day3);
    const history = await client.workflow.getHandle(instrumentSyncWorkflowId, runId).fetchHistory();
    const scheduled = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(scheduled).toContain('applyInstrumentSync');
    expect(scheduled).not.toContain('requestIntradayDelta');
    // And nothing runs later either: a whole window on, still two deltas and nothing pending.
    await new Promise((r) => setTimeout(r, (DEBOUNCE_SECONDS + 5) * 1000));
    expect(await changeRuns()).toHaveLength(2);
    expect(await client.workflow.getHandle(intradayDeltasWorkflowId).query(intradayDeltasQuery)).toMatchObject({ phase: 'idle', pending: null });
  });

  it('a worker killed while the debouncer waits: a new worker runs the delta, once, with exactly the changes', async () => {
    await sync(day4);
    const debouncer = client.workflow.getHandle(intradayDeltasWorkflowId);
    await waitFor('the debouncer waiting', async () => (await debouncer.query(intradayDeltasQuery)).phase === 'waiting', 30_000);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    expect(await changeRuns()).toHaveLength(2);

    worker = await spawnWorker();
    const third = await nthDelta(3);
    expectChanges(third, day3, day4);
    await waitFor('the debouncer idle again', async () => (await debouncer.query(intradayDeltasQuery)).phase === 'idle', 30_000);
    expect(await changeRuns()).toHaveLength(3);
    const runs = await changeRuns();
    expect(runs[2]!.watermark.from).toBe(runs[1]!.watermark.to);
  });

  it('a reference load that sets invalid rows aside makes a delta whose invalid file lists exactly them', async () => {
    // Enough rows that two bad dates leave the column typed as a date (their rows set aside, not the type widened).
    const lines = instrumentCsv(30_000).split('\n');
    for (const r of [25_000, 28_000]) lines[r] = lines[r]!.replace(/,(\d{4}-\d\d-\d\d),/, ',not-a-date,');
    const drop = path.join(temp.path, 'drop');
    const file = path.join(drop, 'reference_data_table/append', 'listed_symbols_20240304.csv');
    fs.writeFileSync(file, lines.join('\n'));
    const load = await signalFileWorkflow(client, { dropRoot: drop, filePath: file, stability: { checks: 1, intervalMs: 0, maxWaitMs: 60_000 }, skipStability: true });
    if (!('workflowId' in load)) throw new Error(load.ignored);
    expect(await client.workflow.getHandle(load.workflowId).result()).toMatchObject({ status: 'loaded', rows: 29_998, quarantined: 2 });
    const fourth = await nthDelta(4);
    const dir = path.join(temp.path, 'distribution', fourth.runId.slice(0, 8));
    const invalid = readJson<Array<{ source: string; rowNumber: number }>>(dir, `${fourth.runId}_invalid.json`);
    expect(invalid.map((i) => [i.source, i.rowNumber])).toEqual([['file', 25_000], ['file', 28_000]]);
    const got = filesOf(fourth);
    expect(got.delta.size).toBe(0);
    expect(got.cancelled).toEqual([]);
  });
});
