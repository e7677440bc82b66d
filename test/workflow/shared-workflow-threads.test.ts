// The Workers of one process share one workflow thread pool (workers/shared-workflow-threads.ts), on a real dev
// server: one pool for three queues, workflows run on each, the pool outlives a Worker that stops and goes with the last.
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { ThreadedVMWorkflowCreator } from '@temporalio/worker/lib/workflow/threaded-vm';
import type { InstrumentSyncReport } from '../../src/instruments/types';
import { instrumentSync } from '../../workflows/instrument-sync';
import { workerSharingWorkflowThreads } from '../../workers/shared-workflow-threads';
import { namespaceFor } from '../e2e/harness';

const namespace = namespaceFor(__filename);
const queues = ['shared-a', 'shared-b', 'shared-c'];

/** Just enough of the sync's activities for its workflow to run to the end. */
const activities = {
  downloadInstruments: async () => ({ path: '/tmp/x.download', bytes: 1, sha256: 'a'.repeat(64) }),
  stageInstruments: async () => ({ records: 1, invalid: 0, duplicates: 0 }),
  applyInstrumentSync: async (input: { runId: string }) => ({ runId: input.runId, added: 1 }) as unknown as InstrumentSyncReport,
  failInstrumentSync: async () => undefined,
  cleanupInstrumentSync: async () => undefined,
};

let connection: Connection;
let client: Client;
let native: NativeConnection;

beforeAll(async () => {
  const address = inject('temporalAddress');
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace });
  native = await NativeConnection.connect({ address });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await native?.close();
  await connection?.close();
});

const runOn = async (taskQueue: string) =>
  client.workflow.execute(instrumentSync, { taskQueue, workflowId: `shared-${taskQueue}-${Date.now()}`, args: [{}], workflowExecutionTimeout: '30 seconds' });

describe('Workers sharing workflow threads', () => {
  it('one thread pool serves every queue, survives a Worker that stops, and is destroyed with the last', async () => {
    const pools = vi.spyOn(ThreadedVMWorkflowCreator, 'create');
    const destroyed = vi.spyOn(ThreadedVMWorkflowCreator.prototype, 'destroy');
    const SharedThreadsWorker = workerSharingWorkflowThreads();
    const workers: Worker[] = await Promise.all(
      queues.map((taskQueue) =>
        SharedThreadsWorker.create({
          connection: native, namespace, taskQueue, activities,
          ...(inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') }),
        }),
      ),
    );
    const running = workers.map((w) => w.run());
    try {
      expect(pools).toHaveBeenCalledTimes(1);
      for (const q of queues) expect(await runOn(q)).toMatchObject({ added: 1 });

      workers[0]!.shutdown();
      await running[0];
      expect(destroyed).not.toHaveBeenCalled();
      expect(await runOn(queues[1]!)).toMatchObject({ added: 1 });
    } finally {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.all(running);
    }
    expect(destroyed).toHaveBeenCalledTimes(1);

    // A Worker created afterwards gets a fresh pool rather than the destroyed one, of the size it asks for.
    const late = await SharedThreadsWorker.create({
      connection: native, namespace, taskQueue: queues[2]!, activities, workflowThreadPoolSize: 2,
      ...(inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') }),
    });
    const lateRun = late.run();
    try {
      expect(pools).toHaveBeenCalledTimes(2);
      expect(pools.mock.calls.map(([o]) => o.threadPoolSize)).toEqual([1, 2]);
      expect(await runOn(queues[2]!)).toMatchObject({ added: 1 });
    } finally {
      late.shutdown();
      await lateRun;
    }
    expect(destroyed).toHaveBeenCalledTimes(2);
  });
});
