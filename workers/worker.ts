// The worker: connects to Temporal, wires dependencies into activity factories, runs the task queues, drains on stop.
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { Config } from '../src/config';
import type { Database } from '../src/db/types';
import type { Logger } from '../src/log/logger';
import { taskQueues } from '../src/ids';
import { invalidRowPolicyFor } from '../src/invalid-row-policy';
import { createFileActivities } from '../activities/files';
import { createPlanActivities } from '../activities/plan';
import { createIngestActivities } from '../activities/ingest';
import { createCleanupActivities } from '../activities/cleanup';
import { ingestProgressSignal } from '../workflows/file-lifecycle';
import { createInstrumentActivities } from '../activities/instruments';
import { syncProgressSignal } from '../workflows/instrument-sync';
import { loadConfig } from '../src/config';
import os from 'node:os';
import path from 'node:path';

export interface WorkerDeps {
  address: string;
  namespace: string;
  client: Client;
  db: Database;
  log: Logger;
  config: Pick<Config, 'dropoffDir' | 'batchRows'> & Partial<Pick<Config, 'invalidRows' | 'instruments' | 'stateDir' | 'retention'>>;
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
    ...createCleanupActivities({ db: deps.db, log: deps.log, dropRoot: deps.config.dropoffDir, retention: deps.config.retention ?? { archiveDays: 30, bkpDays: 30 } }),
    ...createIngestActivities({
      db: deps.db,
      log: deps.log,
      batchRows: deps.config.batchRows,
      policyFor: (plan) => (deps.config.invalidRows ? invalidRowPolicyFor(deps.config.invalidRows, plan.table.name, plan.loadType) : { mode: 'reject-file' }),
      notifyProgress: async (workflowId, progress) => {
        await deps.client.workflow.getHandle(workflowId).signal(ingestProgressSignal, progress);
      },
    }),
    ...createInstrumentActivities({
      db: deps.db,
      log: deps.log,
      // Callers that pass no instrument settings (tests of other flows) get the documented defaults.
      config: deps.config.instruments ?? loadConfig({}).instruments,
      tempDir: path.join(deps.config.stateDir ?? os.tmpdir(), 'tmp', 'instrument-sync'),
      notifyProgress: async (workflowId, progress) => {
        await deps.client.workflow.getHandle(workflowId).signal(syncProgressSignal, progress);
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
