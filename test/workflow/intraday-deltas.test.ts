// intradayDeltas on a real dev server with in-memory distribution activities: requests within a window collapse into
// one delta, a request during a run makes one more, a failed run keeps its requests, continue-as-new carries them.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { taskQueues } from '../../src/ids';
import type { IntradayChange } from '../../src/distribution/intraday-requests';
import { intradayChangeSignal, intradayDeltas, intradayDeltasQuery, type IntradayDeltasInput, type IntradayDeltasState } from '../../workflows/intraday-deltas';
import { namespaceFor, waitFor } from '../e2e/harness';

interface World {
  claims: Array<{ runId: string; kind: string; suffix: string | null; trigger: string }>;
  /** generateDistributionFiles fails this many more times. */
  failures: number;
  generateDelayMs: number;
}

const world: World = { claims: [], failures: 0, generateDelayMs: 0 };

function fakeActivities() {
  return {
    async claimDistributionRun(input: { runId: string; kind: string; suffix: string | null; trigger: string; submissionId: string }) {
      world.claims.push({ runId: input.runId, kind: input.kind, suffix: input.suffix, trigger: input.trigger });
      return { runId: input.runId, submissionId: input.submissionId, watermark: { from: null, to: '2024-03-01T18:30:00.000000Z' }, reused: false, attempts: 1, directory: '/srv' };
    },
    async generateDistributionFiles() {
      if (world.generateDelayMs) await new Promise((r) => setTimeout(r, world.generateDelayMs));
      if (world.failures > 0) {
        world.failures -= 1;
        throw ApplicationFailure.nonRetryable('the database refused the export', 'Internal');
      }
      return [];
    },
    async backUpDistributionFiles() {
      return { directory: '/backup', copied: 0, pruned: 0 };
    },
    async handOffDistribution() {
      return [];
    },
    async finishDistributionRun() {
      return null;
    },
  };
}

let connection: Connection;
let client: Client;
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const namespace = namespaceFor(__filename);
const taskQueue = taskQueues.distribution;

beforeAll(async () => {
  const address = inject('temporalAddress');
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace });
  native = await NativeConnection.connect({ address });
  worker = await Worker.create({
    connection: native, namespace, taskQueue,
    ...(inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') }),
    activities: fakeActivities(),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await native?.close();
  await connection?.close();
});

/** Debouncers a test started: ended after it, so one that failed half-way does not claim during the next. */
const started = new Set<string>();
afterEach(async () => {
  for (const id of started) await client.workflow.getHandle(id).terminate().catch(() => undefined);
  started.clear();
});

function reset(over: Partial<World> = {}): void {
  world.claims.length = 0;
  world.failures = over.failures ?? 0;
  world.generateDelayMs = over.generateDelayMs ?? 0;
}

const base: IntradayDeltasInput = { debounceMs: 1500, timeZone: 'UTC', idleMs: 60_000, failedRunBackoffMs: 2000 };

/** What the request activity does: signal-with-start of the debouncer. */
function request(workflowId: string, change: IntradayChange, input: IntradayDeltasInput = base) {
  started.add(workflowId);
  return client.workflow.signalWithStart(intradayDeltas, { workflowId, taskQueue, args: [input], signal: intradayChangeSignal, signalArgs: [change] });
}

async function stateOf(workflowId: string): Promise<IntradayDeltasState> {
  return client.workflow.getHandle(workflowId).query(intradayDeltasQuery);
}

async function idleAfter(workflowId: string, runs: number): Promise<IntradayDeltasState> {
  return waitFor(`${runs} deltas and idle`, async () => {
    const s = await stateOf(workflowId);
    return s.phase === 'idle' && s.runs === runs ? s : null;
  }, 60_000);
}

describe('intradayDeltas', () => {
  it('requests within the window collapse into one delta; a repeated request counts once', async () => {
    reset();
    const id = `intraday-collapse-${Date.now()}`;
    await request(id, { source: 'instrument-sync', ref: 'sync-a', rows: 5 });
    await request(id, { source: 'file-load', ref: 'load-b', rows: 2 });
    await request(id, { source: 'instrument-sync', ref: 'sync-a', rows: 5 });
    expect(await stateOf(id)).toMatchObject({ phase: 'waiting', pending: { requests: 2, rows: 7, refs: ['sync-a', 'load-b'] } });
    const s = await idleAfter(id, 1);
    expect(world.claims).toHaveLength(1);
    expect(world.claims[0]).toMatchObject({ kind: 'delta', trigger: 'change', suffix: expect.stringMatching(/^\d{6}$/) });
    expect(world.claims[0]!.runId).toMatch(/^\d{8}T\d{6}$/);
    expect(s).toMatchObject({ pending: null, lastRunId: world.claims[0]!.runId, lastError: null });
  });

  it('a request during a run makes exactly one more run after it', async () => {
    reset({ generateDelayMs: 2500 });
    const id = `intraday-during-${Date.now()}`;
    await request(id, { source: 'instrument-sync', ref: 'sync-1', rows: 1 });
    await waitFor('running', async () => (await stateOf(id)).phase === 'running');
    await request(id, { source: 'instrument-sync', ref: 'sync-2', rows: 1 });
    await request(id, { source: 'instrument-sync', ref: 'sync-3', rows: 1 });
    await idleAfter(id, 2);
    expect(world.claims).toHaveLength(2);
    expect(world.claims[0]!.runId).not.toBe(world.claims[1]!.runId);
  });

  it('a failed delta keeps its requests and runs again under the same key (its recorded range, sent once)', async () => {
    reset({ failures: 1 });
    const id = `intraday-failed-${Date.now()}`;
    await request(id, { source: 'instrument-sync', ref: 'sync-x', rows: 3 });
    await waitFor('the failure seen', async () => (await stateOf(id)).lastError);
    expect((await stateOf(id)).pending).toMatchObject({ requests: 1, rows: 3 });
    const s = await idleAfter(id, 1);
    expect(world.claims).toHaveLength(2);
    expect(world.claims[1]!.runId).toBe(world.claims[0]!.runId);
    expect(s).toMatchObject({ pending: null, lastError: null, lastRunId: world.claims[0]!.runId });
  });

  it('continues as new past its history limit, carrying its count and the refs it has seen', async () => {
    reset();
    const id = `intraday-can-${Date.now()}`;
    const input = { ...base, historyLimit: 5 };
    const first = await request(id, { source: 'instrument-sync', ref: 'sync-1', rows: 1 }, input);
    await waitFor('a new run of the debouncer', async () => (await client.workflow.getHandle(id).describe()).runId !== first.signaledRunId);
    await idleAfter(id, 1);
    // The same ref again is a retried request of a run already answered: nothing more.
    await request(id, { source: 'instrument-sync', ref: 'sync-1', rows: 1 }, input);
    await request(id, { source: 'instrument-sync', ref: 'sync-2', rows: 1 }, input);
    await idleAfter(id, 2);
    expect(world.claims).toHaveLength(2);
  });

  it('ends after its idle time; the next request starts it again', async () => {
    reset();
    const id = `intraday-idle-${Date.now()}`;
    const first = await request(id, { source: 'instrument-sync', ref: 'sync-1', rows: 1 }, { ...base, idleMs: 1000 });
    expect(await first.result()).toEqual({ runs: 1 });
    const second = await request(id, { source: 'instrument-sync', ref: 'sync-2', rows: 1 }, { ...base, idleMs: 1000 });
    expect(second.signaledRunId).not.toBe(first.signaledRunId);
    expect(await second.result()).toEqual({ runs: 1 });
    expect(world.claims).toHaveLength(2);
  });
});

describe.skipIf(process.env.RECORD_HISTORIES !== '1')('histories for the replay test (RECORD_HISTORIES=1)', () => {
  it('records a debouncer that collapsed two requests into one delta', async () => {
    reset();
    const id = 'replay-intraday-deltas';
    await request(id, { source: 'instrument-sync', ref: 'sync-a', rows: 5 }, { ...base, idleMs: 1000 });
    await request(id, { source: 'file-load', ref: 'load-b', rows: 2 }, { ...base, idleMs: 1000 });
    await client.workflow.getHandle(id).result();
    const json = execFileSync(resolveTemporalCli(), ['workflow', 'show', '--workflow-id', id, '--namespace', namespace, '--address', inject('temporalAddress'), '--output', 'json']);
    fs.writeFileSync(path.join(__dirname, 'histories', 'intraday-deltas-collapsed.json'), json);
  });
});
