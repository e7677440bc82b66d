// Host and worker health against the real dev server and real folders: a queue with a running Worker shows a poller,
// one without shows none; /health (with a key), `refdata doctor`, the metrics and the alerts all say so, and a disk
// threshold set above the free space raises its notification.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { connectTemporal } from '../../src/temporal/client';
import { silentLogger } from '../../src/log/logger';
import { taskQueues } from '../../src/ids';
import { readHost, type HostSnapshot } from '../../src/metrics/host-health';
import { createThresholdEvaluator } from '../../src/metrics/thresholds';
import { metricsRegistry } from '../../src/metrics/registry';
import { createNotifier } from '../../src/notify/notifier';
import { buildApi } from '../../src/api/server';
import { operationsOptions } from '../../src/api/dashboard';
import { checkHost } from '../../src/doctor/checks';
import { ensureDropFolders } from '../../src/watcher';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { namespaceForTestFile } from '../support/namespaces';

const namespace = namespaceForTestFile(__filename);
const ADMIN_KEY = `admin_${randomBytes(16).toString('hex')}`;
let tdb: TestDatabase;
let db: Database;
let temporal: { connection: Connection; client: Client };
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let dir: string;
let env: Record<string, string>;

const configWith = (extra: Record<string, string> = {}): Config => loadConfig({ ...env, ...extra });
const probe = (config: Config) => () =>
  readHost({ dropRoot: config.dropoffDir, stateDir: config.stateDir, taskQueues: Object.values(taskQueues), temporal: { workflowService: temporal.client.workflowService, namespace } });
const queue = (s: HostSnapshot, name: string) => s.taskQueues.find((q) => q.taskQueue === name)!;
const gauge = async (name: string, labels: Record<string, string>) =>
  (await metricsRegistry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;

beforeAll(async () => {
  tdb = await createTestDatabase(inject('pgUrl'));
  db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
  await db.migrate();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-host-'));
  await ensureDropFolders(path.join(dir, 'dropoff'));
  await fs.mkdir(path.join(dir, 'state'));
  env = { REFDATA_DROPOFF_DIR: path.join(dir, 'dropoff'), REFDATA_STATE_DIR: path.join(dir, 'state'), TEMPORAL_NAMESPACE: namespace, REFDATA_ALERT_TASK_QUEUES: 'ingest,sync' };
  temporal = await connectTemporal(inject('temporalAddress'), namespace);
  native = await NativeConnection.connect({ address: inject('temporalAddress') });
  const bundle = inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') };
  // A Worker on `ingest` only: `sync` has nobody polling it.
  worker = await Worker.create({ connection: native, namespace, taskQueue: taskQueues.ingest, ...bundle, activities: {} });
  running = worker.run();
  // The Worker polls as soon as it runs; the server lists it from its first poll.
  for (let i = 0; i < 150 && queue(await probe(configWith())(), 'ingest').pollers === 0; i++) await new Promise((r) => setTimeout(r, 200));
});
afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await native?.close();
  await temporal?.connection.close();
  await db?.close();
  await tdb?.drop();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('host and worker health', () => {
  it('a queue with a worker shows its poller, one without shows none; disk and memory are read from the real host', async () => {
    const s = await probe(configWith())();
    expect(queue(s, 'ingest')).toMatchObject({ pollers: 1, workflowPollers: 1, activityPollers: 0 });
    expect(queue(s, 'ingest').error).toBeUndefined();
    expect(queue(s, 'sync')).toMatchObject({ pollers: 0, workflowPollers: 0, activityPollers: 0 });
    const statfs = await fs.statfs(dir);
    for (const folder of ['drop', 'archive', 'state']) {
      const d = s.disk.find((x) => x.folder === folder)!;
      expect(d.error).toBeUndefined();
      expect(d.sizeBytes).toBe(statfs.blocks * statfs.bsize);
      // Other processes write to the same disk meanwhile: within 1 GiB of what this test reads itself.
      expect(Math.abs(d.freeBytes! - statfs.bavail * statfs.bsize)).toBeLessThan(2 ** 30);
    }
    expect(s.disk.find((x) => x.folder === 'archive')!.path).toMatch(/\/(processed|error)$/);
    expect(s.memory.rssBytes).toBeGreaterThan(s.memory.heapUsedBytes);
  });

  it('a disk threshold above the free space and a queue without a worker raise notifications and move the metrics; back under, they clear', async () => {
    const free = (await fs.statfs(dir)).bavail * (await fs.statfs(dir)).bsize;
    const notifier = createNotifier();
    // Only the queue nobody polls is watched here, so what fires cannot depend on when the Worker last polled.
    const above = configWith({ REFDATA_ALERT_DISK_FREE_MB: String(Math.ceil(free / 2 ** 20) + 10_240), REFDATA_ALERT_TASK_QUEUES: 'sync' });
    const evaluator = createThresholdEvaluator({ db, notifier, log: silentLogger(), config: above.alerts, host: probe(above) });
    const statuses = await evaluator.evaluate();
    const firing = statuses.filter((s) => s.firing).map((s) => s.alert).sort();
    expect(firing).toEqual(['disk_free_archive', 'disk_free_drop', 'disk_free_state', 'task_queue_pollers']);
    const raised = notifier.recent().filter((n) => n.kind === 'threshold.crossed');
    expect(raised.map((n) => n.refs.alert).sort()).toEqual(firing);
    const disk = raised.find((n) => n.refs.alert === 'disk_free_drop')!;
    expect(disk).toMatchObject({ severity: 'critical', refs: { folder: 'drop', path: env.REFDATA_DROPOFF_DIR } });
    expect(disk.message).toContain(`threshold ${above.alerts.host!.diskFreeMinMb} MiB`);
    const queues = raised.find((n) => n.refs.alert === 'task_queue_pollers')!;
    expect(queues.title).toBe('No worker polls task queue sync');
    expect(queues.refs.taskQueues).toBe('sync');
    expect(await gauge('refdata_alert_active', { alert: 'disk_free_state' })).toBe(1);
    expect(await gauge('refdata_task_queue_pollers', { task_queue: 'ingest' })).toBe(1);
    expect(await gauge('refdata_task_queue_pollers', { task_queue: 'sync' })).toBe(0);
    expect(await gauge('refdata_disk_free_bytes', { folder: 'drop' })).toBeGreaterThan(0);
    // Raised once while it keeps firing.
    await evaluator.evaluate();
    expect(notifier.recent().filter((n) => n.kind === 'threshold.crossed')).toHaveLength(4);

    // The same evaluator's thresholds cannot change, so a second one shows the other side: nothing fires below.
    const below = configWith({ REFDATA_ALERT_DISK_FREE_MB: '1', REFDATA_ALERT_TASK_QUEUES: 'ingest' });
    const quiet = createNotifier();
    const calm = await createThresholdEvaluator({ db, notifier: quiet, log: silentLogger(), config: below.alerts, host: probe(below) }).evaluate();
    expect(calm.filter((s) => s.alert.startsWith('disk_free_') || s.alert === 'task_queue_pollers').map((s) => [s.alert, s.firing])).toEqual([
      ['disk_free_drop', false], ['disk_free_archive', false], ['disk_free_state', false], ['task_queue_pollers', false],
    ]);
    expect(quiet.recent().filter((n) => n.kind === 'threshold.crossed' && n.refs.alert !== 'memory_rss')).toEqual([]);
  });

  it('a threshold that stops being crossed is cleared', async () => {
    const notifier = createNotifier();
    let limit = 10 ** 9;
    const config = configWith();
    const alerts = { ...config.alerts, host: { ...config.alerts.host!, get diskFreeMinMb() { return limit; } } };
    const evaluator = createThresholdEvaluator({ db, notifier, log: silentLogger(), config: alerts, host: probe(config) });
    await evaluator.evaluate();
    limit = 1;
    await evaluator.evaluate();
    const cleared = notifier.recent().filter((n) => n.kind === 'threshold.cleared').map((n) => n.refs.alert).sort();
    expect(cleared).toEqual(['disk_free_archive', 'disk_free_drop', 'disk_free_state']);
    expect(await gauge('refdata_alert_active', { alert: 'disk_free_drop' })).toBe(0);
  });

  it('/health shows the host to a caller with a key, and nothing of it without one', async () => {
    const config = configWith();
    const app = await buildApi({ db, client: temporal.client, log: silentLogger(), dropRoot: config.dropoffDir, adminKey: ADMIN_KEY, operations: operationsOptions(config) });
    try {
      const anonymous = await app.inject({ method: 'GET', url: '/health' });
      expect(anonymous.json()).toEqual({ status: 'up' });
      const res = await app.inject({ method: 'GET', url: '/health', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { host: HostSnapshot };
      expect(body.host.taskQueues.map((q) => q.taskQueue)).toEqual(Object.values(taskQueues));
      expect(queue(body.host, 'ingest').pollers).toBe(1);
      expect(queue(body.host, 'ingest').lastPollAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(queue(body.host, 'sync').pollers).toBe(0);
      expect(body.host.disk.map((d) => [d.folder, d.path.startsWith(dir)])).toEqual([['drop', true], ['archive', true], ['state', true]]);
      expect(body.host.disk.every((d) => d.freeBytes! > 0 && d.sizeBytes! >= d.freeBytes!)).toBe(true);
      expect(body.host.memory.rssBytes).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  it('refdata doctor reports each folder\'s free space and each watched queue\'s pollers, warning where one is short', async () => {
    const results = await checkHost(configWith({ REFDATA_ALERT_DISK_FREE_MB: String(10 ** 9) }), temporal.client);
    expect(results.filter((r) => r.area === 'task queues').map((r) => [r.level, r.detail.split(':')[0]])).toEqual([['ok', 'ingest'], ['warn', 'sync']]);
    expect(results.find((r) => r.area === 'task queues' && r.level === 'warn')!.fix).toContain('refdata worker --queues sync');
    const disk = results.filter((r) => r.area === 'disk');
    expect(disk.map((r) => r.level)).toEqual(['warn', 'warn', 'warn']);
    expect(disk[0]!.detail).toMatch(/^drop folder .*: [\d,]+ MiB free of [\d,]+ MiB, under REFDATA_ALERT_DISK_FREE_MB=1000000000$/);
    const fine = await checkHost(configWith(), temporal.client);
    expect(fine.filter((r) => r.area === 'disk').map((r) => r.level)).toEqual(['ok', 'ok', 'ok']);
    expect(fine.find((r) => r.area === 'memory')!.level).toBe('ok');
  });
});
