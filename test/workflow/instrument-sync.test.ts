// instrumentSync and scheduledInstrumentSync on a real dev server with in-memory activities: steps, failures, the lock.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { startInstrumentSync } from '../../src/temporal/instrument-sync';
import { instrumentSyncWorkflowId, taskQueues } from '../../src/ids';
import type { InstrumentSyncReport } from '../../src/instruments/types';
import { instrumentSync, scheduledInstrumentSync, syncProgressQuery } from '../../workflows/instrument-sync';
import { namespaceFor, waitFor } from '../e2e/harness';

interface World {
  calls: string[];
  fail?: { activity: string; type: string; message: string };
  stageDelayMs?: number;
  /** The report's added count (default 1); 0 = a sync that changed nothing. */
  added?: number;
  requests: Array<{ source: string; ref: string; rows: number }>;
}

const world: World = { calls: [], requests: [] };
const report = (runId: string): InstrumentSyncReport => ({
  runId, workflowId: instrumentSyncWorkflowId, status: 'succeeded', trigger: 'manual', forced: false, source: 'https://broker.example/complete.json.gz',
  format: 'json-array', fileBytes: 10, fileSha256: 'a'.repeat(64), records: 3, invalid: 0, duplicates: 0, activeBefore: 2, activeAfter: 3, added: 1,
  updated: 0, unchanged: 2, deactivated: 0, reactivated: 0, bySegment: {}, byType: {}, guard: null, errorMessage: null,
  startedAt: '2024-02-15T00:30:00.000Z', finishedAt: '2024-02-15T00:30:01.000Z', durationMs: 1000,
});

function fakeActivities() {
  const step = async (name: string) => {
    world.calls.push(name);
    if (world.fail?.activity === name) throw ApplicationFailure.nonRetryable(world.fail.message, world.fail.type);
  };
  return {
    async downloadInstruments() {
      await step('downloadInstruments');
      return { path: '/tmp/x.download', bytes: 10, sha256: 'a'.repeat(64) };
    },
    async stageInstruments() {
      await step('stageInstruments');
      if (world.stageDelayMs) await new Promise((r) => setTimeout(r, world.stageDelayMs));
      return { records: 3, invalid: 0, duplicates: 0 };
    },
    async applyInstrumentSync(input: { runId: string }) {
      await step('applyInstrumentSync');
      return { ...report(input.runId), added: world.added ?? 1 };
    },
    async requestIntradayDelta(input: { source: string; ref: string; rows: number }) {
      await step('requestIntradayDelta');
      world.requests.push(input);
      return { requested: true };
    },
    async failInstrumentSync(input: { status: string }) {
      world.calls.push(`failInstrumentSync:${input.status}`);
    },
    async cleanupInstrumentSync() {
      world.calls.push('cleanupInstrumentSync');
    },
  };
}

let connection: Connection;
let client: Client;
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const namespace = namespaceFor(__filename);

beforeAll(async () => {
  const address = inject('temporalAddress');
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace });
  native = await NativeConnection.connect({ address });
  worker = await Worker.create({
    connection: native, namespace, taskQueue: taskQueues.sync,
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

function reset(over: Partial<World> = {}): void {
  world.calls.length = 0;
  world.fail = over.fail;
  world.stageDelayMs = over.stageDelayMs;
  world.added = over.added;
  world.requests.length = 0;
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as ApplicationFailure;
}

describe('instrumentSync', () => {
  it('downloads, stages, applies, cleans up, and returns the report', async () => {
    reset();
    const handle = await client.workflow.start(instrumentSync, { taskQueue: taskQueues.sync, workflowId: `sync-ok-${Date.now()}`, args: [{}] });
    const r = await handle.result();
    expect(r).toMatchObject({ runId: handle.firstExecutionRunId, status: 'succeeded', added: 1 });
    expect(world.calls).toEqual(['downloadInstruments', 'stageInstruments', 'applyInstrumentSync', 'requestIntradayDelta', 'cleanupInstrumentSync']);
    expect(world.requests).toEqual([{ source: 'instrument-sync', ref: handle.firstExecutionRunId, rows: 1 }]);
    expect(await handle.query(syncProgressQuery)).toMatchObject({ phase: 'done', records: 3 });
  });

  it('a sync that changed no instrument requests no intraday delta', async () => {
    reset({ added: 0 });
    const r = await client.workflow.execute(instrumentSync, { taskQueue: taskQueues.sync, workflowId: `sync-unchanged-${Date.now()}`, args: [{}] });
    expect(r).toMatchObject({ status: 'succeeded', added: 0 });
    expect(world.calls).toEqual(['downloadInstruments', 'stageInstruments', 'applyInstrumentSync', 'cleanupInstrumentSync']);
    expect(world.requests).toEqual([]);
  });

  it('a failed request for an intraday delta leaves the applied sync succeeded', async () => {
    reset({ fail: { activity: 'requestIntradayDelta', type: 'Internal', message: 'Temporal did not answer' } });
    const r = await client.workflow.execute(instrumentSync, { taskQueue: taskQueues.sync, workflowId: `sync-request-failed-${Date.now()}`, args: [{}] });
    expect(r).toMatchObject({ status: 'succeeded', added: 1 });
    expect(world.calls).toEqual(['downloadInstruments', 'stageInstruments', 'applyInstrumentSync', 'requestIntradayDelta', 'cleanupInstrumentSync']);
  });

  it('a tripped guard fails the run as GuardTripped, records it, and still cleans up', async () => {
    reset({ fail: { activity: 'applyInstrumentSync', type: 'GuardTripped', message: 'instrument sync stopped by the guard: …' } });
    const f = await failureOf(client.workflow.execute(instrumentSync, { taskQueue: taskQueues.sync, workflowId: `sync-guard-${Date.now()}`, args: [{}] }));
    expect(f.type).toBe('GuardTripped');
    expect(world.calls.slice(-2)).toEqual(['failInstrumentSync:guard_tripped', 'cleanupInstrumentSync']);
  });

  it('a refusing source fails at once (non-retryable): one download attempt, nothing staged', async () => {
    reset({ fail: { activity: 'downloadInstruments', type: 'SourceForbidden', message: 'GET https://x answered 403' } });
    const f = await failureOf(client.workflow.execute(instrumentSync, { taskQueue: taskQueues.sync, workflowId: `sync-403-${Date.now()}`, args: [{}] }));
    expect(f).toMatchObject({ type: 'SourceForbidden', message: 'GET https://x answered 403' });
    expect(world.calls).toEqual(['downloadInstruments', 'failInstrumentSync:failed', 'cleanupInstrumentSync']);
  });

  it('cancellation while staging records the run as cancelled and cleans up', async () => {
    reset({ stageDelayMs: 3000 });
    const handle = await client.workflow.start(instrumentSync, { taskQueue: taskQueues.sync, workflowId: `sync-cancel-${Date.now()}`, args: [{}] });
    await waitFor('staging', async () => (await handle.query(syncProgressQuery)).phase === 'staging');
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect(world.calls.slice(-2)).toEqual(['failInstrumentSync:cancelled', 'cleanupInstrumentSync']);
  });
});

describe('one sync at a time', () => {
  it('a second start gets the running run\'s id; the scheduled workflow skips instead of starting another', async () => {
    reset({ stageDelayMs: 2000 });
    const first = await startInstrumentSync(client, { trigger: 'cli' });
    expect(first.started).toBe(true);
    const second = await startInstrumentSync(client, { trigger: 'api' });
    expect(second).toEqual({ started: false, workflowId: instrumentSyncWorkflowId, runId: first.runId });
    const scheduled = await client.workflow.execute(scheduledInstrumentSync, { taskQueue: taskQueues.sync, workflowId: `scheduled-skip-${Date.now()}`, args: [{}] });
    expect(scheduled).toMatchObject({ status: 'skipped' });
    await client.workflow.getHandle(instrumentSyncWorkflowId, first.runId).result();
    expect(world.calls.filter((c) => c === 'downloadInstruments')).toHaveLength(1);
  });

  it('the scheduled workflow starts the fixed-id sync and reports its outcome', async () => {
    reset();
    const scheduled = await client.workflow.execute(scheduledInstrumentSync, { taskQueue: taskQueues.sync, workflowId: `scheduled-run-${Date.now()}`, args: [{}] });
    expect(scheduled).toMatchObject({ status: 'synced', summary: expect.stringContaining('1 added') });
    const desc = await client.workflow.getHandle(instrumentSyncWorkflowId).describe();
    expect(desc.status.name).toBe('COMPLETED');
  });
});

describe.skipIf(process.env.RECORD_HISTORIES !== '1')('histories for the replay test (RECORD_HISTORIES=1)', () => {
  const save = (workflowId: string, file: string) => {
    // The CLI writes the canonical JSON form that Worker.runReplayHistory reads.
    const json = execFileSync(resolveTemporalCli(), ['workflow', 'show', '--workflow-id', workflowId, '--namespace', namespace, '--address', inject('temporalAddress'), '--output', 'json']);
    fs.writeFileSync(path.join(__dirname, 'histories', file), json);
  };

  // The histories without a suffix were recorded before the lock's time limit (LOCK_LIMIT_PATCH) and stay as they are:
  // they prove that older runs replay. These carry the patch marker.
  it('records a successful sync and a scheduled run', async () => {
    reset();
    await client.workflow.execute(instrumentSync, { taskQueue: taskQueues.sync, workflowId: 'replay-instrument-sync-succeeded', args: [{ trigger: 'manual' }] });
    save('replay-instrument-sync-succeeded', 'instrument-sync-lock-limit-succeeded.json');
    reset({ fail: { activity: 'applyInstrumentSync', type: 'GuardTripped', message: 'stopped by the guard' } });
    await client.workflow.execute(instrumentSync, { taskQueue: taskQueues.sync, workflowId: 'replay-instrument-sync-guard', args: [{}] }).catch(() => undefined);
    save('replay-instrument-sync-guard', 'instrument-sync-lock-limit-guard-tripped.json');
    reset();
    await client.workflow.execute(scheduledInstrumentSync, { taskQueue: taskQueues.sync, workflowId: 'replay-instrument-sync-scheduled', args: [{}] });
    save('replay-instrument-sync-scheduled', 'instrument-sync-scheduled-lock-limit.json');
  });

  it('records a sync that requested an intraday delta', async () => {
    reset();
    await client.workflow.execute(instrumentSync, { taskQueue: taskQueues.sync, workflowId: 'replay-instrument-sync-intraday', args: [{ trigger: 'manual' }] });
    save('replay-instrument-sync-intraday', 'instrument-sync-requested-intraday-delta.json');
  });
});
