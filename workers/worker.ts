// The worker: connects to Temporal, wires dependencies into activity factories, runs the task queues, drains on stop.
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
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
import { createReferenceConfigActivities } from '../activities/reference-config';
import { ingestProgressSignal } from '../workflows/file-lifecycle';
import { createInstrumentActivities } from '../activities/instruments';
import { syncProgressSignal } from '../workflows/instrument-sync';
import { createDeliveryActivities } from '../activities/delivery';
import { createChannelHealthActivities } from '../activities/channel-health';
import { createSubscriptionReleaseActivities } from '../activities/subscription-release';
import { releaseForEvent, type FireTrigger } from '../src/reporting/trigger-events';
import { probeChannel } from '../src/channels/probe';
import { defaultChannelHealthSettings } from '../src/reporting/channel-health';
import { createDistributionActivities } from '../activities/distribution';
import { createIntradayActivities } from '../activities/intraday';
import { distributionProgressSignal } from '../workflows/distribution';
import { createDeliveryStarter } from '../src/distribution/delivery-starter';
import { deliveredTopic } from '../src/reporting/event';
import { deliveryActivityDeps, type DeliveryWiring } from '../src/reporting/delivery-wiring';
import type { EventPublisher } from '../src/events/types';
import { loadConfig } from '../src/config';
import { workerSharingWorkflowThreads } from './shared-workflow-threads';
// Plain JavaScript, loaded before anything else by bin/refdata (see its header).
const { collectGarbageNow } = require('./heap-preload.cjs') as { collectGarbageNow(): void };
import { coreTelemetryOptions, serveMetrics, useCoreMetrics } from '../src/metrics/exposition';
import { processNotifier, type Notifier } from '../src/notify/notifier';
import { keepNotifications } from '../src/notify/keeper';
import os from 'node:os';
import path from 'node:path';

export interface WorkerDeps {
  address: string;
  namespace: string;
  client: Client;
  db: Database;
  log: Logger;
  config: Pick<Config, 'dropoffDir' | 'batchRows'> & Partial<Pick<Config, 'workflowThreads' | 'progressIntervalMs' | 'loadStreams' | 'invalidRows' | 'instruments' | 'stateDir' | 'retention' | 'metrics' | 'reporting' | 'events' | 'distribution' | 'alerts'>>;
  /** Where activities raise operator notifications; the process's own by default (the API streams it in `refdata dev`). */
  notifier?: Notifier;
  /** Task queues to poll (default: all); scale a busy queue with more processes running just that one. */
  queues?: string[];
  /** A prebuilt workflow bundle (tests share one); bundled from source otherwise. */
  workflowBundlePath?: string;
  /** Report deliveries: event publisher, in-process status feed, secrets key (src/reporting/delivery-wiring.ts). */
  delivery?: DeliveryWiring;
}

/** Delivered events go nowhere unless a publisher is passed in `delivery.events`; the events module passes its outbox publisher. */
const discardEvents: EventPublisher = { publish: async () => undefined };

export interface RunningWorker {
  /**
   * The worker's own connection. A Client built on it (`new Client({ connection })`) can start delivery runs with eager
   * workflow start: the server hands the first workflow task back in the start response, to a Worker of this process.
   */
  connection: NativeConnection;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export function buildActivities(deps: Pick<WorkerDeps, 'db' | 'log' | 'config' | 'client' | 'notifier' | 'delivery'>) {
  const distribution = deps.config.distribution ?? loadConfig({ REFDATA_STATE_DIR: deps.config.stateDir ?? path.join(os.tmpdir(), 'refdata') }).distribution;
  const retry = (deps.config.reporting ?? loadConfig({}).reporting).retry;
  // TRIGGERED subscriptions hear the events of the activities below in whichever worker runs them. A release that fails
  // must not fail (and so repeat) the sync or load that fired it: it is logged, and what was held waits for the next
  // such event or a deliver-now.
  const subsLog = deps.log.child({ component: 'subscriptions' });
  const fireTrigger: FireTrigger = async (event) => {
    await releaseForEvent({ db: deps.db, client: deps.client, retry, log: subsLog }, event)
      .catch((err: unknown) => subsLog.warn({ err, trigger: event }, `${event}: TRIGGERED subscriptions were not released; their deliveries stay held until the next ${event} or a deliver-now`));
  };
  return {
    ...createFileActivities({ db: deps.db, log: deps.log, dropRoot: deps.config.dropoffDir, notifier: deps.notifier ?? processNotifier(), fireTrigger }),
    ...createPlanActivities({ db: deps.db, log: deps.log }),
    ...createReferenceConfigActivities({ db: deps.db, log: deps.log, notifier: deps.notifier ?? processNotifier() }),
    ...createCleanupActivities({
      db: deps.db, log: deps.log, dropRoot: deps.config.dropoffDir, retention: deps.config.retention ?? { archiveDays: 30, bkpDays: 30 },
      distribution: deps.config.distribution ?? loadConfig({ REFDATA_STATE_DIR: deps.config.stateDir ?? path.join(os.tmpdir(), 'refdata') }).distribution,
    }),
    ...createIngestActivities({
      db: deps.db,
      log: deps.log,
      batchRows: deps.config.batchRows,
      progressIntervalMs: deps.config.progressIntervalMs,
      loadStreams: deps.config.loadStreams,
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
      fireTrigger,
      notifyProgress: async (workflowId, progress) => {
        await deps.client.workflow.getHandle(workflowId).signal(syncProgressSignal, progress);
      },
    }),
    ...createDeliveryActivities(deliveryActivityDeps({ ...deps, notifier: deps.notifier ?? processNotifier() }, deps.delivery ?? {}, discardEvents)),
    ...channelHealthActivities(deps),
    ...createSubscriptionReleaseActivities({ db: deps.db, log: deps.log.child({ component: 'subscriptions' }), client: deps.client, retry }),
    ...createDistributionActivities({
      db: deps.db,
      log: deps.log.child({ component: 'distribution' }),
      // Without settings (tests of other flows) the documented defaults, under the state dir or the system's temp dir.
      config: distribution,
      fireTrigger,
      deliveries: createDeliveryStarter({
        db: deps.db, client: deps.client, retry: (deps.config.reporting ?? loadConfig({}).reporting).retry, retentionDays: deps.config.distribution?.backupRetentionDays,
        events: deps.delivery?.events, topicFor: (reportType) => deliveredTopic(reportType, deps.config.events?.topics.deliveredTemplate),
      }),
      notifyProgress: async (workflowId, progress) => {
        await deps.client.workflow.getHandle(workflowId).signal(distributionProgressSignal, progress);
      },
      notifier: deps.notifier ?? processNotifier(),
    }),
    ...createIntradayActivities({ client: deps.client, log: deps.log.child({ component: 'intraday' }), config: distribution.intraday, timeZone: distribution.schedule.timeZone }),
  };
}

/** Probes of paused channels, with the delivery activities' keys and destination policy. */
function channelHealthActivities(deps: Pick<WorkerDeps, 'db' | 'log' | 'config' | 'client' | 'notifier' | 'delivery'>) {
  const wired = deliveryActivityDeps(deps, deps.delivery ?? {}, discardEvents);
  return createChannelHealthActivities({
    db: deps.db,
    log: deps.log.child({ component: 'channel-health' }),
    client: deps.client,
    probe: probeChannel,
    settings: deps.config.reporting?.channelHealth ?? defaultChannelHealthSettings,
    secretsKey: wired.secretsKey,
    allowPrivateNetworks: wired.allowPrivateNetworks,
    trustedCa: wired.trustedCa,
    notifier: deps.notifier ?? processNotifier(),
  });
}

/**
 * A delivery's first attempt runs as a local activity inside its first workflow task, so the task holds its slot for
 * the whole send (tens of ms, more on a busy machine). With the SDK's 40 slots, less pollers' reservations, a burst
 * of ~50/s filled them; eager workflow start then found no free slot and every start fell back to a poll (slower, and
 * a server call more). Slots cost little memory: the workflows are small and finish in that one task.
 */
const DELIVERY_WORKFLOW_TASK_SLOTS = 200;

function queueTuning(taskQueue: string): { maxConcurrentWorkflowTaskExecutions?: number } {
  const delivery: string[] = [taskQueues.delivery, taskQueues.deliveryPriority];
  return delivery.includes(taskQueue) ? { maxConcurrentWorkflowTaskExecutions: DELIVERY_WORKFLOW_TASK_SLOTS } : {};
}

let runtimeInstalled: Promise<void> | null = null;

/**
 * The SDK logs bundling and state changes at INFO to the console; keep its console output to warnings. Its
 * metrics go to a private Prometheus endpoint that /metrics merges (src/metrics/exposition.ts).
 */
function installRuntime(): Promise<void> {
  runtimeInstalled ??= coreTelemetryOptions().then(({ telemetryOptions, url }) => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions });
      useCoreMetrics(url);
    } catch {
      // Already installed (tests create several workers in one process).
    }
  });
  return runtimeInstalled;
}

export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  await installRuntime();
  const connection = await NativeConnection.connect({ address: deps.address });
  const metrics = deps.config.metrics?.workerPort ? await serveMetrics({ host: deps.config.metrics.workerHost, port: deps.config.metrics.workerPort }) : null;
  // Bundle once, then one Worker per task queue: each queue is polled on its own, so bulk work on one
  // (a big file) never starves another (a delivery).
  const workflowBundle = deps.workflowBundlePath
    ? { codePath: deps.workflowBundlePath }
    : await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
  const activities = buildActivities(deps);
  const all: string[] = Object.values(taskQueues);
  const unknown = (deps.queues ?? []).filter((q) => !all.includes(q));
  if (unknown.length) throw new Error(`unknown task queue(s) ${unknown.join(', ')}; known: ${all.join(', ')}`);
  // A process can serve a subset of the queues; those it serves share one workflow thread (shared-workflow-threads.ts).
  const queues = deps.queues?.length ? deps.queues : all;
  const SharedThreadsWorker = workerSharingWorkflowThreads();
  const workers = await Promise.all(
    queues.map((taskQueue) =>
      SharedThreadsWorker.create({
        connection, namespace: deps.namespace, taskQueue, workflowBundle, activities, workflowThreadPoolSize: deps.config.workflowThreads ?? 1, ...queueTuning(taskQueue),
      }),
    ),
  );
  // With the process's alert settings (a `refdata worker`), what its activities raise is kept and sent from here too.
  const keeper = deps.config.alerts ? keepNotifications({ notifier: deps.notifier ?? processNotifier(), store: deps.db.notifications, log: deps.log, outbound: deps.config.alerts.outbound }) : null;
  const done = Promise.all(workers.map((w) => w.run())).then(
    () => undefined,
  ).finally(() => Promise.all([connection.close(), metrics?.close(), keeper?.flush().finally(() => keeper.stop())]));
  // The Workers' start-up garbage, collected before the first task rather than left to inflate the idle RSS.
  collectGarbageNow();
  deps.log.info({ taskQueues: queues, metrics: metrics?.url }, 'worker running');
  return {
    connection,
    done,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}
