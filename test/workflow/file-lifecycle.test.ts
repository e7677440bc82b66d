// fileLifecycle on a real dev server with in-memory activities: the steps, their order, and compensation.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { fileChangedSignal, fileLifecycle, loadNowSignal, progressQuery, type FileLifecycleInput } from '../../workflows/file-lifecycle';
import { fakeActivities, type FakeWorld } from './fake-activities';
import { namespaceFor, waitFor } from '../e2e/harness';

const taskQueue = 'ingest';
let connection: Connection;
let client: Client;
let nativeConnection: NativeConnection;
let world: FakeWorld;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  const address = inject('temporalAddress');
  const namespace = namespaceFor(__filename);
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace });
  nativeConnection = await NativeConnection.connect({ address });
  world = { files: new Map(), calls: [], rows: 3 };
  worker = await Worker.create({
    connection: nativeConnection,
    namespace,
    taskQueue,
    ...(inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') }),
    activities: fakeActivities(world),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await nativeConnection?.close();
  await connection?.close();
});

function input(filePath: string, checks = 3, intervalMs = 50): FileLifecycleInput {
  return { filePath, relativePath: `reference_data_table/fullload/${path.basename(filePath)}`, referenceData: true, loadType: 'fullload', stability: { checks, intervalMs, maxWaitMs: 60_000 } };
}

function reset(): void {
  world.calls.length = 0;
  world.files.clear();
  world.planError = undefined;
  world.ingestDelayMs = undefined;
  world.finishDelayMs = undefined;
  world.archiveDelayMs = undefined;
  world.duplicateAtFinish = undefined;
  world.finishFailsAfterCommit = undefined;
  world.bookkeepingFailures = undefined;
  world.quarantined = undefined;
}

describe('fileLifecycle', () => {
  it('waits for N unchanged checks, then plans, ingests, swaps in, archives to processed/ and records', async () => {
    reset();
    world.files.set('/drop/a.csv', { size: 10, mtimeMs: 1 });
    const result = await client.workflow.execute(fileLifecycle, { taskQueue, workflowId: `wf-a-${Date.now()}`, args: [input('/drop/a.csv')] });
    expect(result).toMatchObject({ status: 'loaded', table: 'airports', rows: 3, archivedTo: '/archive/processed/x.csv' });
    expect(world.calls).toEqual([
      'registerFile', 'statFile', 'statFile', 'statFile', 'statFile', 'planLoad', 'ingestFile', 'finishLoad', 'recordFinished', 'archiveFile:processed', 'recordOutcome:loaded',
    ]);
  });

  it('a reference load that set invalid rows aside requests an intraday delta (they are in its invalid file); other loads do not', async () => {
    reset();
    world.quarantined = 2;
    world.files.set('/drop/q.csv', { size: 10, mtimeMs: 1 });
    const result = await client.workflow.execute(fileLifecycle, { taskQueue, workflowId: `wf-q-${Date.now()}`, args: [input('/drop/q.csv', 1)] });
    expect(result).toMatchObject({ status: 'loaded', quarantined: 2 });
    expect(world.calls.slice(-3)).toEqual(['archiveFile:processed', 'recordOutcome:loaded', 'requestIntradayDelta:file-load:2']);

    reset();
    world.quarantined = 2;
    world.files.set('/drop/n.csv', { size: 10, mtimeMs: 1 });
    await client.workflow.execute(fileLifecycle, { taskQueue, workflowId: `wf-n-${Date.now()}`, args: [{ ...input('/drop/n.csv', 1), referenceData: false }] });
    expect(world.calls.filter((c) => c.startsWith('requestIntradayDelta'))).toEqual([]);
  });

  it('a change (size, mtime or signal) resets the count of stable checks', async () => {
    reset();
    world.files.set('/drop/b.csv', { size: 10, mtimeMs: 1 });
    const handle = await client.workflow.start(fileLifecycle, { taskQueue, workflowId: `wf-b-${Date.now()}`, args: [input('/drop/b.csv', 6, 100)] });
    await waitFor('two stable checks', async () => (await handle.query(progressQuery)).stableChecks >= 2);
    world.files.set('/drop/b.csv', { size: 20, mtimeMs: 2 });
    await waitFor('reset', async () => (await handle.query(progressQuery)).stableChecks === 0);
    await waitFor('two stable checks again', async () => (await handle.query(progressQuery)).stableChecks >= 2);
    await handle.signal(fileChangedSignal);
    await waitFor('reset by signal', async () => (await handle.query(progressQuery)).stableChecks === 0);
    expect((await handle.result()).status).toBe('loaded');
    expect(world.calls.filter((c) => c === 'statFile').length).toBeGreaterThan(10);
  });

  it('a run started by signal-with-start (the watcher) needs exactly N stable checks: the start signal is no change', async () => {
    reset();
    world.files.set('/drop/s.csv', { size: 10, mtimeMs: 1 });
    const handle = await client.workflow.signalWithStart(fileLifecycle, {
      taskQueue, workflowId: `wf-s-${Date.now()}`, args: [input('/drop/s.csv', 6, 10)], signal: fileChangedSignal, signalArgs: [],
    });
    expect((await handle.result()).status).toBe('loaded');
    // One stat to start from, then one per check: 6 checks, not 7.
    expect(world.calls.filter((c) => c === 'statFile')).toHaveLength(7);
  });

  it('a loadNow signal ends a long stability wait at once: the run plans without the remaining checks', async () => {
    reset();
    world.files.set('/drop/n.csv', { size: 10, mtimeMs: 1 });
    // 100 checks a minute apart: only the signal can bring this run to planning within the test.
    const handle = await client.workflow.start(fileLifecycle, { taskQueue, workflowId: `wf-n-${Date.now()}`, args: [input('/drop/n.csv', 100, 60_000)] });
    await waitFor('the first stat', async () => world.calls.includes('statFile'));
    await handle.signal(loadNowSignal);
    expect((await handle.result()).status).toBe('loaded');
    expect(world.calls.slice(0, 3)).toEqual(['registerFile', 'statFile', 'planLoad']);
  });

  it('bad input fails the run, compensates, and archives to error/ with a report', async () => {
    reset();
    world.files.set('/drop/c.csv', { size: 10, mtimeMs: 1 });
    world.planError = { message: 'the file is empty', type: 'InvalidFile' };
    const err = await client.workflow
      .execute(fileLifecycle, { taskQueue, workflowId: `wf-c-${Date.now()}`, args: [input('/drop/c.csv', 1)] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(((err as WorkflowFailedError).cause as { type?: string }).type).toBe('InvalidFile');
    expect(world.calls.slice(-4)).toEqual(['abortLoad', 'archiveFile:error', 'writeErrorReport', 'recordOutcome:error']);
  });

  it('cancellation during ingest runs the same compensation and ends the run cancelled', async () => {
    reset();
    world.files.set('/drop/d.csv', { size: 10, mtimeMs: 1 });
    world.ingestDelayMs = 5_000;
    const handle = await client.workflow.start(fileLifecycle, { taskQueue, workflowId: `wf-d-${Date.now()}`, args: [input('/drop/d.csv', 1)] });
    await waitFor('loading', async () => (await handle.query(progressQuery)).phase === 'loading');
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect(world.calls).toContain('abortLoad');
    expect(world.calls.slice(-3)).toEqual(['archiveFile:error', 'writeErrorReport', 'recordOutcome:cancelled']);
  });

  for (const phase of ['finishing', 'archiving'] as const) {
    it(`a cancel during ${phase} lets finishing complete: the run completes loaded and nothing is undone`, async () => {
      reset();
      world.files.set('/drop/f.csv', { size: 10, mtimeMs: 1 });
      if (phase === 'finishing') world.finishDelayMs = 3_000;
      else world.archiveDelayMs = 3_000;
      const handle = await client.workflow.start(fileLifecycle, { taskQueue, workflowId: `wf-f-${phase}-${Date.now()}`, args: [input('/drop/f.csv', 1)] });
      await waitFor(phase, async () => (await handle.query(progressQuery)).phase === phase);
      await handle.cancel();
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'loaded', rows: 3, quarantined: 0, archivedTo: '/archive/processed/x.csv' });
      expect((await handle.describe()).status.name).toBe('COMPLETED');
      expect(world.calls).not.toContain('abortLoad');
      expect(world.calls.slice(-4)).toEqual(['finishLoad', 'recordFinished', 'archiveFile:processed', 'recordOutcome:loaded']);
    });
  }

  it('a finish that committed but failed through every retry ends loaded with the committed rows, the file in processed/', async () => {
    reset();
    world.files.set('/drop/m.csv', { size: 10, mtimeMs: 1 });
    world.finishFailsAfterCommit = true;
    const result = await client.workflow.execute(fileLifecycle, { taskQueue, workflowId: `wf-m-${Date.now()}`, args: [input('/drop/m.csv', 1)] });
    expect(result).toMatchObject({ status: 'loaded', rows: world.rows, error: null, archivedTo: '/archive/processed/x.csv' });
    expect(world.calls.slice(-4)).toEqual(['finishLoad', 'abortLoad', 'archiveFile:processed', 'recordOutcome:loaded']);
    expect(world.calls).not.toContain('writeErrorReport');
  });

  it('content found already loaded when finishing is undone and archived as a duplicate', async () => {
    reset();
    world.files.set('/drop/g.csv', { size: 10, mtimeMs: 1 });
    world.duplicateAtFinish = 'load_earlier';
    const result = await client.workflow.execute(fileLifecycle, { taskQueue, workflowId: `wf-g-${Date.now()}`, args: [input('/drop/g.csv', 1)] });
    expect(result).toMatchObject({ status: 'duplicate', rows: 0, loadId: 'load_earlier', archivedTo: '/archive/processed/x.csv' });
    expect(world.calls.slice(-4)).toEqual(['finishLoad', 'abortLoad', 'archiveFile:processed', 'recordOutcome:duplicate']);
  });

  it('bookkeeping that fails after a committed finish is retried apart from finishLoad: the run ends loaded, never error', async () => {
    reset();
    world.files.set('/drop/k.csv', { size: 10, mtimeMs: 1 });
    // Its retry policy has no attempt limit; a few failures (1 s, 2 s, 4 s of backoff) show it is retried alone.
    world.bookkeepingFailures = 3;
    const result = await client.workflow.execute(fileLifecycle, { taskQueue, workflowId: `wf-k-${Date.now()}`, args: [input('/drop/k.csv', 1)] });
    expect(result).toMatchObject({ status: 'loaded', rows: 3, error: null, archivedTo: '/archive/processed/x.csv' });
    expect(world.calls.filter((c) => c === 'recordFinished')).toHaveLength(4);
    expect(world.calls.filter((c) => c === 'finishLoad')).toHaveLength(1);
    expect(world.calls).not.toContain('abortLoad');
    expect(world.calls.slice(-2)).toEqual(['archiveFile:processed', 'recordOutcome:loaded']);
  }, 180_000);

  // file-lifecycle-loaded.json was recorded before the patches in workflows/file-lifecycle.ts and stays as it is: it
  // proves that runs started on older code replay. These record today's paths, each with its patch markers.
  it.skipIf(process.env.RECORD_HISTORIES !== '1')('records histories for the replay test (RECORD_HISTORIES=1)', async () => {
    const save = async (workflowId: string, file: string) => {
      // The CLI writes the canonical JSON form that Worker.runReplayHistory reads.
      const json = execFileSync(resolveTemporalCli(), [
        'workflow', 'show', '--workflow-id', workflowId, '--namespace', namespaceFor(__filename), '--address', inject('temporalAddress'), '--output', 'json',
      ]);
      fs.writeFileSync(path.join(__dirname, 'histories', file), json);
    };
    const stamp = Date.now();
    reset();
    world.files.set('/drop/h.csv', { size: 10, mtimeMs: 1 });
    await client.workflow.execute(fileLifecycle, { taskQueue, workflowId: `replay-fl-loaded-${stamp}`, args: [input('/drop/h.csv', 2, 10)] });
    await save(`replay-fl-loaded-${stamp}`, 'file-lifecycle-patched-loaded.json');

    reset();
    world.files.set('/drop/h.csv', { size: 10, mtimeMs: 1 });
    const waiting = await client.workflow.start(fileLifecycle, { taskQueue, workflowId: `replay-fl-load-now-${stamp}`, args: [input('/drop/h.csv', 100, 60_000)] });
    await waitFor('the first stat', async () => world.calls.includes('statFile'));
    await waiting.signal(loadNowSignal);
    await waiting.result();
    await save(waiting.workflowId, 'file-lifecycle-patched-load-now.json');

    reset();
    world.files.set('/drop/h.csv', { size: 10, mtimeMs: 1 });
    world.ingestDelayMs = 5_000;
    const loading = await client.workflow.start(fileLifecycle, { taskQueue, workflowId: `replay-fl-cancelled-${stamp}`, args: [input('/drop/h.csv', 1)] });
    await waitFor('loading', async () => (await loading.query(progressQuery)).phase === 'loading');
    await loading.cancel();
    await loading.result().catch(() => undefined);
    await save(loading.workflowId, 'file-lifecycle-patched-cancelled-loading.json');

    reset();
    world.files.set('/drop/h.csv', { size: 10, mtimeMs: 1 });
    world.finishDelayMs = 3_000;
    const finishing = await client.workflow.start(fileLifecycle, { taskQueue, workflowId: `replay-fl-cancel-finishing-${stamp}`, args: [input('/drop/h.csv', 1)] });
    await waitFor('finishing', async () => (await finishing.query(progressQuery)).phase === 'finishing');
    await finishing.cancel();
    await finishing.result();
    await save(finishing.workflowId, 'file-lifecycle-patched-cancel-while-finishing.json');

    reset();
    world.files.set('/drop/h.csv', { size: 10, mtimeMs: 1 });
    world.finishFailsAfterCommit = true;
    await client.workflow.execute(fileLifecycle, { taskQueue, workflowId: `replay-fl-committed-failed-${stamp}`, args: [input('/drop/h.csv', 1)] });
    await save(`replay-fl-committed-failed-${stamp}`, 'file-lifecycle-patched-committed-then-failed.json');

    // A load that set rows aside asks for an intraday delta.
    reset();
    world.quarantined = 2;
    world.files.set('/drop/i.csv', { size: 10, mtimeMs: 1 });
    await client.workflow.execute(fileLifecycle, { taskQueue, workflowId: `replay-fl-intraday-${stamp}`, args: [input('/drop/i.csv', 2, 10)] });
    await save(`replay-fl-intraday-${stamp}`, 'file-lifecycle-requested-intraday-delta.json');
  }, 300_000);
});
