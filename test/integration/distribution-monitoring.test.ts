// Distribution monitoring on the real dev server and PostgreSQL: the distribution workflow with its real activities
// records refdata_distribution_runs_total / refdata_distribution_rows_total, and a failed run raises
// `distribution.failed` (docs/operations.md) in the worker's process and, through the ledger, in an API apart.
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowFailedError, type Client, type Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDistributionActivities } from '../../activities/distribution';
import { loadConfig } from '../../src/config';
import type { DeliveryStarter } from '../../src/distribution/types';
import { startDistribution } from '../../src/distribution/start';
import { taskQueues } from '../../src/ids';
import { silentLogger } from '../../src/log/logger';
import { metricsRegistry } from '../../src/metrics/registry';
import { createLedgerWatch } from '../../src/notify/ledger-watch';
import { createNotifier } from '../../src/notify/notifier';
import { connectTemporal } from '../../src/temporal/client';
import { masterRecords, toJsonArray } from '../support/instrument-files';
import { startSyncHarness, type SyncHarness } from '../support/instrument-sync-steps';
import { namespaceForTestFile } from '../support/namespaces';

const namespace = namespaceForTestFile(__filename);
const notifier = createNotifier();
let h: SyncHarness;
let temporal: { connection: Connection; client: Client };
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
/** The hand-off's answer: set to refuse it, as a delivery service that turns the run down. */
let refusal: string | null = null;
const handedOff: string[] = [];

const starter: DeliveryStarter = {
  async startDeliveries(req) {
    if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'InvalidSubscription');
    handedOff.push(req.reportId);
    return [`dlv_${req.reportId}`];
  },
  async replayDeliveries(ids) {
    return ids;
  },
};

const counter = async (name: string, labels: Record<string, string>) =>
  (await metricsRegistry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;

beforeAll(async () => {
  h = await startSyncHarness();
  const master = path.join(h.temp.path, 'master.json');
  fs.writeFileSync(master, toJsonArray(masterRecords({ equities: 12, indices: 2, futures: 3, options: 10, mcx: 2 })));
  await h.sync({ file: master });
  temporal = await connectTemporal(inject('temporalAddress'), namespace);
  native = await NativeConnection.connect({ address: inject('temporalAddress') });
  const bundle = inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') };
  const activities = createDistributionActivities({
    db: h.db, log: silentLogger(), config: loadConfig({ REFDATA_STATE_DIR: path.join(h.temp.path, 'state') }).distribution, deliveries: starter, notifier,
  });
  worker = await Worker.create({ connection: native, namespace, taskQueue: taskQueues.distribution, ...bundle, activities });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await native?.close();
  await temporal?.connection.close();
  await h?.close();
});

async function distribute(businessDate: string) {
  const started = await startDistribution(temporal.client, { kind: 'full', businessDate, suffix: null }, 'api');
  return { ...started, result: temporal.client.workflow.getHandle(started.workflowId).result() };
}

describe('distribution monitoring', () => {
  it('a successful run counts as succeeded and adds the rows of each file it wrote', async () => {
    const [ok, full, delta] = await Promise.all([
      counter('refdata_distribution_runs_total', { status: 'succeeded' }),
      counter('refdata_distribution_rows_total', { file_type: 'full' }),
      counter('refdata_distribution_rows_total', { file_type: 'delta' }),
    ]);
    const run = await distribute('2025-03-03');
    await run.result;
    const [{ n }] = await h.query<{ n: string }>('SELECT count(*) AS n FROM ref.instruments WHERE is_active');
    expect(Number(n)).toBeGreaterThan(0);
    expect(await counter('refdata_distribution_runs_total', { status: 'succeeded' })).toBe(ok + 1);
    expect(await counter('refdata_distribution_rows_total', { file_type: 'full' })).toBe(full + Number(n));
    // The first run of a chain: every instrument is new.
    expect(await counter('refdata_distribution_rows_total', { file_type: 'delta' })).toBe(delta + Number(n));
    expect(handedOff).toEqual(['20250303']);
    expect(notifier.recent().filter((x) => x.kind === 'distribution.failed')).toEqual([]);
  });

  it('a failed run raises distribution.failed once, counts as failed, and an API apart hears of it from the ledger', async () => {
    const apiNotifier = createNotifier();
    const watch = createLedgerWatch({ db: h.db, notifier: apiNotifier, log: silentLogger() });
    const failed = await counter('refdata_distribution_runs_total', { status: 'failed' });
    refusal = 'subscription store refused the hand-off';
    try {
      const run = await distribute('2025-03-04');
      await expect(run.result).rejects.toBeInstanceOf(WorkflowFailedError);

      const [row] = await h.query<{ status: string; error_message: string; finished_at: Date | null }>(
        'SELECT status, error_message, finished_at FROM dist.distribution_runs WHERE run_id = $1', ['20250304'],
      );
      expect(row).toMatchObject({ status: 'failed' });
      expect(row!.error_message).toContain('subscription store refused the hand-off');
      expect(row!.finished_at).not.toBeNull();

      const raised = notifier.recent().filter((x) => x.kind === 'distribution.failed');
      expect(raised).toHaveLength(1);
      expect(raised[0]).toMatchObject({
        id: `distribution.failed:${run.workflowId}:2025-03-04`, severity: 'critical', title: 'Distribution for 2025-03-04 failed',
        workflowId: run.workflowId, refs: { businessDate: '2025-03-04' },
      });
      expect(raised[0]!.message).toContain('subscription store refused the hand-off');
      expect(await counter('refdata_distribution_runs_total', { status: 'failed' })).toBe(failed + 1);

      // A separate API process: the same notification (same id) from the run's ledger row, once.
      expect(await watch.poll()).toBe(1);
      expect(apiNotifier.recent().map((x) => x.id)).toEqual([raised[0]!.id]);
      expect(await watch.poll()).toBe(0);
    } finally {
      refusal = null;
    }
  });
});
