// The reporting system for e2e tests: PostgreSQL, a worker (in this process or as a child) and the API listening on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { Client, type Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/server';
import type { ReportingApiOptions } from '../../src/api/reporting';
import type { ChannelType } from '../../src/channels';
import { loadConfig } from '../../src/config';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { SqlValue } from '../../src/db/postgres/executor';
import type { Database } from '../../src/db/types';
import { silentLogger } from '../../src/log/logger';
import { createApiKey } from '../../src/reporting/api-keys';
import { createDeliveryNotifier } from '../../src/reporting/notifier';
import type { DeliveryRetryPolicy } from '../../src/reporting/retry-policy';
import type { ChannelHealthSettings } from '../../src/reporting/channel-health';
import type { ApiRole } from '../../src/reporting/types';
import { connectTemporal } from '../../src/temporal/client';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { findFreePort, startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { devServerDynamicConfigArgs, devServerSearchAttributeArgs } from '../../src/ids';
import { startWorker, type RunningWorker } from '../../workers/worker';
import { namespaceForTestFile } from './namespaces';
import { createTestDatabase, queryRows } from './pg';
import { memoryEvents, testSecretsKey } from './reporting';

export interface ReportingSystem {
  db: Database;
  dbUrl: string;
  client: Client;
  api: FastifyInstance;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  adminKey: string;
  reportRoot: string;
  events: ReturnType<typeof memoryEvents>;
  key(role: ApiRole, subscriberId?: string): Promise<string>;
  /** Rows of one statement ($1, $2, … parameters) on the system's database. */
  rows<T extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: SqlValue[]): Promise<T[]>;
  /** Starts a `refdata worker` child process (worker: 'child' only). */
  spawnWorker(): ChildProcess;
  stop(): Promise<void>;
}

export async function startReportingSystem(opts: {
  testFile: string;
  retry: Record<ChannelType, DeliveryRetryPolicy>;
  /** in-process: worker and API share a status feed; child: workers are `refdata worker` processes the test starts. */
  worker: 'in-process' | 'child';
  /**
   * A dev server of the test's own, in memory. The run's shared server keeps its state in a SQLite file, which makes
   * each workflow about three times as costly (measured: 12 vs 34 trivial workflows/s here), and a burst of thousands
   * of deliveries on it would slow every test file sharing it.
   */
  ownTemporal?: boolean;
  /** Channel health settings of the workers, in process or child (default: the configured defaults). */
  channelHealth?: ChannelHealthSettings;
  /** Email files over `attachMaxBytes` go as signed links to this API (REFDATA_PUBLIC_URL = its own address). */
  downloadLinks?: { attachMaxBytes: number; ttlMs: number };
}): Promise<ReportingSystem> {
  const tdb = await createTestDatabase(inject('pgUrl'));
  const db = createPostgresDatabase(createNodePgExecutor(tdb.url, { max: 20 }), 'postgres');
  await db.migrate();
  const own: DevServer | null = opts.ownTemporal
    ? await startDevServer({ cliPath: resolveTemporalCli(), port: await findFreePort(), headless: true, searchAttributeArgs: [...devServerSearchAttributeArgs(), ...devServerDynamicConfigArgs()] })
    : null;
  const namespace = own ? 'default' : namespaceForTestFile(opts.testFile);
  const address = own?.address ?? inject('temporalAddress');
  const { connection, client }: { connection: Connection; client: Client } = await connectTemporal(address, namespace);
  const reportRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-reports-'));
  const feed = opts.worker === 'in-process' ? createDeliveryNotifier() : undefined;
  const events = memoryEvents();
  const log = silentLogger();
  // The links name the API's address, so it is chosen before the worker starts.
  const apiPort = opts.downloadLinks ? await findFreePort() : 0;
  const reporting = {
    ...loadConfig({ REFDATA_ALLOW_PRIVATE_DESTINATIONS: 'true' }).reporting,
    ...(opts.channelHealth ? { channelHealth: opts.channelHealth } : {}),
    ...(opts.downloadLinks ? { publicUrl: `http://127.0.0.1:${apiPort}`, emailAttachMaxBytes: opts.downloadLinks.attachMaxBytes, downloadLinkTtlMs: opts.downloadLinks.ttlMs } : {}),
  };
  let worker: RunningWorker | null = null;
  if (opts.worker === 'in-process') {
    worker = await startWorker({
      address, namespace, client, db, log,
      config: { dropoffDir: reportRoot, batchRows: 1000, reporting },
      queues: ['delivery', 'delivery-priority'],
      delivery: { secretsKey: testSecretsKey, feed, events },
      workflowBundlePath: inject('workflowBundlePath') || undefined,
    });
  }
  const adminKey = 'test-admin-key-reporting-0123456789';
  // In process, deliveries start eagerly through the worker's connection, as `refdata dev` starts them.
  const deliveryClient = worker ? new Client({ connection: worker.connection, namespace }) : undefined;
  const options: ReportingApiOptions = { secretsKey: testSecretsKey, allowPrivateDestinations: true, reportRoots: [reportRoot], retry: opts.retry, streamPollMs: 200, feed, deliveryClient };
  const api = await buildApi({ db, client, log, dropRoot: reportRoot, adminKey, reporting: options });
  await api.listen({ host: '127.0.0.1', port: apiPort });
  const { port } = api.server.address() as { port: number };
  const children: ChildProcess[] = [];

  return {
    db, dbUrl: tdb.url, client, api, baseUrl: `http://127.0.0.1:${port}`, adminKey, reportRoot, events,
    rows: (text, params) => queryRows(tdb.url, text, params),
    async key(role, subscriberId) {
      return (await createApiKey(db.distribution, { role, subscriberId: subscriberId ?? null, label: 'test' })).key;
    },
    spawnWorker() {
      const child = spawn(process.execPath, [path.join(__dirname, '../../bin/refdata'), 'worker', '--queues', 'delivery,delivery-priority'], {
        env: {
          ...process.env,
          DATABASE_URL: tdb.url,
          TEMPORAL_ADDRESS: address,
          TEMPORAL_NAMESPACE: namespace,
          REFDATA_STATE_DIR: path.join(reportRoot, '.state'),
          REFDATA_SECRETS_KEY: testSecretsKey.key.toString('base64'),
          REFDATA_ALLOW_PRIVATE_DESTINATIONS: 'true',
          ...(opts.channelHealth ? {
            REFDATA_CHANNEL_UNHEALTHY_AFTER: String(opts.channelHealth.unhealthyAfter),
            REFDATA_CHANNEL_PROBE_INITIAL_MS: String(opts.channelHealth.probeInitialMs),
            REFDATA_CHANNEL_PROBE_MAX_MS: String(opts.channelHealth.probeMaxMs),
            REFDATA_CHANNEL_UNHEALTHY_QUIET_MS: String(opts.channelHealth.quietMs ?? 0),
          } : {}),
          REFDATA_WORKFLOW_BUNDLE: inject('workflowBundlePath') || '',
          LOG_LEVEL: 'warn',
          LOG_FORMAT: 'json',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return child;
    },
    async stop() {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      await api.close();
      await worker?.shutdown();
      await connection.close();
      await db.close();
      await own?.stop();
      await tdb.drop();
      await fs.rm(reportRoot, { recursive: true, force: true });
    },
  };
}

/** fetch against the API with a bearer key; returns status and parsed JSON. */
export async function call(base: string, key: string | null, method: string, url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
