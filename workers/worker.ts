// The worker: connects to Temporal, wires dependencies into activity factories, runs the task queues, drains on stop.
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { Config } from '../src/config';
import type { Database } from '../src/db/types';
import type { Logger } from '../src/log/logger';
import { taskQueues } from '../src/ids';
import { createFileActivities } from '../activities/files';
import { createPlanActivities } from '../activities/plan';
import { createIngestActivities } from '../activities/ingest';
import { ingestProgressSignal } from '../workflows/file-lifecycle';

export interface WorkerDeps {
  address: string;
  namespace: string;
  client: Client;
  db: Database;
  log: Logger;
  config: Pick<Config, 'dropoffDir' | 'batchRows'>;
  /** A prebuilt workflow bundle (tests share one); bundled from source otherwise. */
  workflowBundlePath?: string;
}

export interface RunningWorker {
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export function buildActivities(deps: Pick<WorkerDeps, 'db' | 'log' | 'config' | 'client'>) {
  return {
    ...createFileActivities({ db: deps.db, log: deps.log, dropRoot: deps.config.dropoffDir }),
    ...createPlanActivities({ db: deps.db, log: deps.log }),
    ...createIngestActivities({
      db: deps.db,
      log: deps.log,
      batchRows: deps.config.batchRows,
      notifyProgress: async (workflowId, progress) => {
        await deps.client.workflow.getHandle(workflowId).signal(ingestProgressSignal, progress);
      },
    }),
  };
}

let runtimeInstalled = false;

/** The SDK logs bundling and state changes at INFO to the console; keep its console output to warnings. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed (tests create several workers in one process).
  }
}

export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  installRuntime();
  const connection = await NativeConnection.connect({ address: deps.address });
  // Bundle once, then one Worker per task queue: each queue is polled on its own, so bulk work on one
  // (a big file) never starves another (a delivery).
  const workflowBundle = deps.workflowBundlePath
    ? { codePath: deps.workflowBundlePath }
    : await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
  const activities = buildActivities(deps);
  const queues = Object.values(taskQueues);
  const workers = await Promise.all(
    queues.map((taskQueue) => Worker.create({ connection, namespace: deps.namespace, taskQueue, workflowBundle, activities })),
  );
  const done = Promise.all(workers.map((w) => w.run())).then(
    () => undefined,
  ).finally(() => connection.close());
  deps.log.info({ taskQueues: queues }, 'worker running');
  return {
    done,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}
