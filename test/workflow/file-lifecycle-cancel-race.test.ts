// A cancel that reaches fileLifecycle in the same workflow task as the ingest's last result (the fault matrix's
// cancel × loading race, made deterministic): the workflow worker is away while both are recorded, so its next task
// carries both. The run must honour the cancel: nothing finished, the load undone, the file in error/.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection, WorkflowFailedError, CancelledFailure } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { fileLifecycle, progressQuery, type FileLifecycleInput } from '../../workflows/file-lifecycle';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { fakeActivities, type FakeWorld } from './fake-activities';
import { namespaceFor, waitFor } from '../e2e/harness';

const taskQueue = 'ingest-cancel-race';
const namespace = namespaceFor(__filename);
let connection: Connection;
let client: Client;
let nativeConnection: NativeConnection;
let world: FakeWorld;
let activityWorker: Worker;
let activitiesRunning: Promise<void>;

const workflowSource = () => (inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') });

/** A worker that runs only the workflow code (the activities run in their own worker and keep going without it). */
async function runWorkflowWorker(): Promise<{ stop(): Promise<void> }> {
  const worker = await Worker.create({ connection: nativeConnection, namespace, taskQueue, ...workflowSource(), maxCachedWorkflows: 0 });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

beforeAll(async () => {
  const address = inject('temporalAddress');
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace });
  nativeConnection = await NativeConnection.connect({ address });
  world = { files: new Map(), calls: [], rows: 3 };
  activityWorker = await Worker.create({ connection: nativeConnection, namespace, taskQueue, activities: fakeActivities(world) });
  activitiesRunning = activityWorker.run();
});

afterAll(async () => {
  activityWorker?.shutdown();
  await activitiesRunning;
  await nativeConnection?.close();
  await connection?.close();
});

describe('a cancel that arrives with the last batch', () => {
  it('is honoured before finishing: the run ends cancelled, nothing finished, the load undone and the file in error/', async () => {
    world.files.set('/drop/race.csv', { size: 10, mtimeMs: 1 });
    let openGate!: () => void;
    world.ingestGate = new Promise<void>((r) => { openGate = r; });
    const input: FileLifecycleInput = {
      filePath: '/drop/race.csv', relativePath: 'reference_data_table/fullload/race.csv', referenceData: true, loadType: 'fullload',
      stability: { checks: 1, intervalMs: 10, maxWaitMs: 60_000 },
    };
    let workflows = await runWorkflowWorker();
    const handle = await client.workflow.start(fileLifecycle, { taskQueue, workflowId: `race-${Date.now()}`, args: [input] });
    await waitFor('loading', async () => (await handle.query(progressQuery)).phase === 'loading' && world.calls.includes('ingestFile'));
    await workflows.stop();

    // With no workflow worker, the cancel and the ingest's completion are both recorded before any task runs.
    await handle.cancel();
    openGate();
    await waitFor('the ingest completed in history', async () => ((await handle.fetchHistory()).events ?? []).some((e) => e.activityTaskCompletedEventAttributes));
    workflows = await runWorkflowWorker();
    try {
      const err = await handle.result().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      expect(world.calls).not.toContain('finishLoad');
      expect(world.calls.slice(-4)).toEqual(['abortLoad', 'archiveFile:error', 'writeErrorReport', 'recordOutcome:cancelled']);
      if (process.env.RECORD_HISTORIES === '1') {
        // The replay test's history of this path (its patch marker); the CLI writes the form runReplayHistory reads.
        const json = execFileSync(resolveTemporalCli(), ['workflow', 'show', '--workflow-id', handle.workflowId, '--namespace', namespace, '--address', inject('temporalAddress'), '--output', 'json']);
        fs.writeFileSync(path.join(__dirname, 'histories', 'file-lifecycle-patched-cancel-with-last-batch.json'), json);
      }
    } finally {
      await workflows.stop();
    }
  });
});
