// The gRPC ReportingStream service with a real grpc-js client, on the reporting logic REST uses, real PostgreSQL and Temporal.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Client as TemporalClient, Connection } from '@temporalio/client';
import type { Database } from '../../src/db/types';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { connectTemporal } from '../../src/temporal/client';
import { silentLogger } from '../../src/log/logger';
import { createApiKey } from '../../src/reporting/api-keys';
import { createDeliveryNotifier, statusChangeOf, type DeliveryNotifier } from '../../src/reporting/notifier';
import { secretsKeyFrom } from '../../src/reporting/sealed-config';
import { deliveryWorkflowId } from '../../src/ids';
import { createReportingService } from '../../src/grpc/reporting-service';
import { reportingServiceDefinition, startGrpcServer, type RunningGrpcServer } from '../../src/grpc/server';
import type { DeliveryStatusMsg, ReportMessageMsg, SubscriptionResponseMsg } from '../../src/grpc/messages';
import { namespaceForTestFile } from '../support/namespaces';
import { createTestDatabase, type TestDatabase } from '../support/pg';

const ADMIN_KEY = `admin_${randomBytes(16).toString('hex')}`;
const definition = reportingServiceDefinition();

type Received = ReportMessageMsg & { body?: string };

describe('gRPC ReportingStream', () => {
  let tdb: TestDatabase;
  let db: Database;
  let temporal: { connection: Connection; client: TemporalClient };
  let server: RunningGrpcServer;
  let client: grpc.Client;
  let feed: DeliveryNotifier;
  let listeners = 0;
  let subscriberKey: string;
  let service: ReturnType<typeof createReportingService>;

  beforeAll(async () => {
    tdb = await createTestDatabase(inject('pgUrl'));
    db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
    await db.migrate();
    temporal = await connectTemporal(inject('temporalAddress'), namespaceForTestFile(__filename));
    const inner = createDeliveryNotifier();
    // Counts open stream listeners, to see a cancelled stream let go of the feed.
    feed = {
      publish: (c) => inner.publish(c),
      subscribe(id, listener) {
        listeners++;
        const off = inner.subscribe(id, listener);
        return () => {
          listeners--;
          off();
        };
      },
    };
    service = createReportingService({
      db, client: temporal.client, secretsKey: secretsKeyFrom(randomBytes(32).toString('base64')), allowPrivateDestinations: true,
      adminKey: ADMIN_KEY, feed, pollMs: 100,
    });
    server = await startGrpcServer({ service, log: silentLogger(), host: '127.0.0.1', port: 0 });
    client = new grpc.Client(server.address, grpc.credentials.createInsecure());
    subscriberKey = (await createApiKey(db.distribution, { role: 'subscriber', subscriberId: 'client_001' })).key;
  });
  afterAll(async () => {
    client?.close();
    await server?.stop(1000);
    await temporal?.connection.close();
    await db?.close();
    await tdb?.drop();
  });

  const metadataFor = (key?: string) => {
    const m = new grpc.Metadata();
    if (key) m.set('authorization', `Bearer ${key}`);
    return m;
  };

  function call<Req, Res>(method: 'ManageSubscription' | 'GetDeliveryStatus', req: Req, key?: string): Promise<Res> {
    const m = definition[method] as grpc.MethodDefinition<Req, Res>;
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, metadataFor(key), (err, res) => (err ? reject(err) : resolve(res!)));
    });
  }

  /** Opens StreamReports and resolves once the server has sent its headers (the stream is live). */
  async function openStream(req: object, key?: string) {
    const m = definition.StreamReports as grpc.MethodDefinition<object, Received>;
    const stream = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, req, metadataFor(key));
    const received: Received[] = [];
    const ended = new Promise<grpc.ServiceError | null>((resolve) => {
      stream.on('data', (msg: Received) => received.push(msg));
      stream.on('error', (err: grpc.ServiceError) => resolve(err));
      stream.on('end', () => resolve(null));
    });
    const live = await Promise.race([new Promise<true>((resolve) => stream.once('metadata', () => resolve(true))), ended]);
    return { stream, received, ended, live };
  }

  const create = (subscriptionId: string, subscriberId = 'client_001', key = ADMIN_KEY) =>
    call<object, SubscriptionResponseMsg>('ManageSubscription', {
      action: 'CREATE',
      subscription: {
        subscription_id: subscriptionId,
        subscriber_id: subscriberId,
        subscriber_type: 'REAL_TIME',
        report_types: ['PERFORMANCE_REPORT', 'RISK_REPORT'],
        delivery_preferences: { channels: [{ channel_type: 'DASHBOARD_NOTIFICATION' }], format_preferences: ['pdf'] },
        filters_json: JSON.stringify({ portfolio_ids: ['portfolio_001'] }),
      },
    }, key);

  async function insertDelivery(subscriptionId: string, reportId: string) {
    const sub = await db.distribution.getSubscription(subscriptionId);
    const channelId = sub!.deliveryPreferences.channels[0]!.channelId;
    const deliveryId = `dlv_${reportId}`;
    const report = { reportId, reportType: 'PERFORMANCE_REPORT' as const, portfolioId: 'portfolio_001', reportPeriod: '2025-06', filePath: '/reports/p.pdf', fileSizeBytes: 2048, routingKey: 'portfolio_001.performance.2025-06', sourceService: 'test', encryptionRequired: false, retentionDays: 90 };
    await db.distribution.createDeliveries([{
      deliveryId, subscriptionId, subscriberId: sub!.subscriberId, reportId, reportType: 'PERFORMANCE_REPORT', channel: 'DASHBOARD_NOTIFICATION', channelId, priority: 3, workflowId: deliveryWorkflowId(deliveryId),
      payload: { report, message: { deliveryId, createdAt: new Date().toISOString(), reportId, reportType: 'PERFORMANCE_REPORT', title: 'Performance', metadata: {}, attachments: [] } },
    }]);
    return deliveryId;
  }

  it('a key holds at most REFDATA_STREAMS_PER_KEY open streams: one more is RESOURCE_EXHAUSTED until one ends', async () => {
    const limited = await startGrpcServer({ service, log: silentLogger(), host: '127.0.0.1', port: 0, streamsPerKey: 1 });
    const other = new grpc.Client(limited.address, grpc.credentials.createInsecure());
    const m = definition.StreamReports as grpc.MethodDefinition<object, Received>;
    const open = (key: string) => {
      const stream = other.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, { subscriber_id: 'client_001' }, metadataFor(key));
      stream.on('data', () => undefined);
      const outcome = new Promise<'live' | number>((resolve) => {
        stream.once('metadata', () => resolve('live'));
        stream.on('error', (err: grpc.ServiceError) => resolve(err.code));
      });
      return { stream, outcome };
    };
    try {
      const first = open(subscriberKey);
      expect(await first.outcome).toBe('live');
      expect(await open(subscriberKey).outcome).toBe(grpc.status.RESOURCE_EXHAUSTED);
      // Another key is not held back by this one.
      const admin = open(ADMIN_KEY);
      expect(await admin.outcome).toBe('live');
      admin.stream.cancel();
      first.stream.cancel();
      let again: 'live' | number = grpc.status.RESOURCE_EXHAUSTED;
      // The server notices the cancel a moment after the client: the slot is free once it has.
      for (let i = 0; i < 50 && again !== 'live'; i++) {
        const s = open(subscriberKey);
        again = await s.outcome;
        if (again === 'live') s.stream.cancel();
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(again).toBe('live');
    } finally {
      other.close();
      await limited.stop(1000);
    }
  });

  it('the gRPC access matrix: each method × no key, each role and another subscriber answers as docs/operations.md says', async () => {
    const keys: Record<string, string | undefined> = {
      none: undefined,
      admin: ADMIN_KEY,
      operator: (await createApiKey(db.distribution, { role: 'operator' })).key,
      'read-only': (await createApiKey(db.distribution, { role: 'read-only' })).key,
      subscriber: subscriberKey,
      'other subscriber': (await createApiKey(db.distribution, { role: 'subscriber', subscriberId: 'client_009' })).key,
    };
    await create('sub_matrix');
    const deliveryId = await insertDelivery('sub_matrix', 'report_matrix');
    const outcome = (p: Promise<unknown>) => p.then(() => 'OK', (err: grpc.ServiceError) => grpc.status[err.code]!);
    const methods: Record<string, (key?: string) => Promise<string>> = {
      'GetDeliveryStatus (`client_001`\'s delivery)': (key) => outcome(call('GetDeliveryStatus', { delivery_id: deliveryId }, key)),
      'ManageSubscription RESUME (`client_001`\'s subscription)': (key) => outcome(call('ManageSubscription', { action: 'RESUME', subscription_id: 'sub_matrix' }, key)),
      'StreamReports (`client_001`)': async (key) => {
        const { stream, ended, live } = await openStream({ subscriber_id: 'client_001' }, key);
        if (live === true) {
          stream.cancel();
          return 'OK';
        }
        return grpc.status[(await ended)!.code]!;
      },
    };
    const rows: string[] = ['| method | none | admin | operator | read-only | subscriber | other subscriber |', '| --- | --- | --- | --- | --- | --- | --- |'];
    for (const [name, run] of Object.entries(methods)) {
      const cells = [];
      for (const k of Object.values(keys)) cells.push(await run(k));
      rows.push(`| ${name} | ${cells.join(' | ')} |`);
    }
    const table = rows.join('\n');
    // What the rules say, independent of the docs: no key unauthenticated, read-only refused, a foreign subscriber sees nothing.
    for (const row of rows.slice(2)) {
      const cells = row.split(' | ').slice(1).map((c) => c.replace(' |', ''));
      expect(cells, row).toEqual(['UNAUTHENTICATED', 'OK', 'OK', 'PERMISSION_DENIED', 'OK', 'NOT_FOUND']);
    }
    const file = path.join(__dirname, '../../docs/operations.md');
    const block = /(<!-- grpc-matrix:start -->\n)[\s\S]*?(\n<!-- grpc-matrix:end -->)/;
    if (process.env.REFDATA_WRITE_DOCS === '1') fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(block, (_m, a: string, b: string) => `${a}${table}${b}`));
    expect(block.exec(fs.readFileSync(file, 'utf8'))?.[0]).toBe(`<!-- grpc-matrix:start -->\n${table}\n<!-- grpc-matrix:end -->`);
  });

  it('refuses calls without a valid API key', async () => {
    await expect(call('GetDeliveryStatus', { delivery_id: 'x' })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(call('GetDeliveryStatus', { delivery_id: 'x' }, 'rdk_not_a_key')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const { ended } = await openStream({ subscriber_id: 'client_001' });
    expect(await ended).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  it('manageSubscription creates, pauses, resumes and cancels, by the REST rules', async () => {
    const created = await create('sub_grpc_1');
    expect(created).toMatchObject({ subscription_id: 'sub_grpc_1', status: 'active' });
    expect(created.subscription).toMatchObject({
      subscriber_id: 'client_001', subscriber_type: 'REAL_TIME', report_types: ['PERFORMANCE_REPORT', 'RISK_REPORT'], filters_json: '{"portfolio_ids":["portfolio_001"]}',
    });
    expect(created.subscription.delivery_preferences?.channels[0]).toMatchObject({ channel_type: 'DASHBOARD_NOTIFICATION', enabled: true });
    await expect(create('sub_grpc_1')).rejects.toMatchObject({ code: grpc.status.ALREADY_EXISTS });

    const act = (action: string, key = ADMIN_KEY) => call<object, SubscriptionResponseMsg>('ManageSubscription', { action, subscription_id: 'sub_grpc_1' }, key);
    expect((await act('PAUSE')).status).toBe('paused');
    expect((await act('RESUME', subscriberKey)).status).toBe('active');
    expect((await db.distribution.getSubscription('sub_grpc_1'))!.status).toBe('active');
    expect((await act('CANCEL')).status).toBe('cancelled');
    await expect(act('RESUME')).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
  });

  it('a subscriber key sees and changes only its own subscriptions and deliveries', async () => {
    await create('sub_other', 'client_002');
    await expect(call('ManageSubscription', { action: 'PAUSE', subscription_id: 'sub_other' }, subscriberKey)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(create('sub_forged', 'client_002', subscriberKey)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    const other = await insertDelivery('sub_other', 'report_other');
    await expect(call('GetDeliveryStatus', { delivery_id: other }, subscriberKey)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    const { ended } = await openStream({ subscriber_id: 'client_002' }, subscriberKey);
    expect(await ended).toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it('getDeliveryStatus answers a delivery as REST does, and rejects bad requests', async () => {
    await create('sub_status');
    const deliveryId = await insertDelivery('sub_status', 'report_status');
    const status = await call<object, DeliveryStatusMsg>('GetDeliveryStatus', { delivery_id: deliveryId }, subscriberKey);
    expect(status).toMatchObject({
      delivery_id: deliveryId, subscription_id: 'sub_status', report_id: 'report_status', channel: 'DASHBOARD_NOTIFICATION', status: 'pending', retry_count: 0,
      subscriber_id: 'client_001', report_type: 'PERFORMANCE_REPORT', delivery_time: '', error_details: '',
    });
    await expect(call('GetDeliveryStatus', { delivery_id: 'dlv_missing' }, ADMIN_KEY)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(call('GetDeliveryStatus', { delivery_id: '' }, ADMIN_KEY)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(call('ManageSubscription', { action: 'ACTION_UNSPECIFIED' }, ADMIN_KEY)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it('streamReports pushes a new report and every status change of the subscriber’s deliveries, from this process and from others', async () => {
    await create('sub_stream');
    const before = listeners;
    const { stream, received, ended, live } = await openStream({ subscriber_id: 'client_001', report_types: ['PERFORMANCE_REPORT'] }, subscriberKey);
    expect(live).toBe(true);
    expect(listeners).toBeGreaterThan(before);

    // In this process: the worker's activity publishes on the shared feed.
    const deliveryId = await insertDelivery('sub_stream', 'report_stream');
    feed.publish(statusChangeOf((await db.distribution.getDelivery(deliveryId))!));
    await waitFor(() => received.length >= 2);
    expect(received[0]).toMatchObject({
      body: 'report',
      event_id: 'report:report_stream:client_001',
      report: { report_id: 'report_stream', report_type: 'PERFORMANCE_REPORT', portfolio_id: 'portfolio_001', report_period: '2025-06', file_path: '/reports/p.pdf', file_size_bytes: 2048, delivery_ids: [deliveryId] },
    });
    expect(received[1]).toMatchObject({ body: 'delivery', delivery: { delivery_id: deliveryId, status: 'pending', channel: 'DASHBOARD_NOTIFICATION' } });

    // In another process (a worker elsewhere): only the database changes; the poll finds it.
    await db.distribution.beginAttempt(deliveryId, 1, 'run-1');
    await waitFor(() => received.some((m) => m.delivery?.status === 'sending'));
    // The same change seen by feed and poll is sent once.
    expect(received.filter((m) => m.delivery?.status === 'pending')).toHaveLength(1);
    // Deliveries that changed before the stream opened (other tests' ones) are not replayed.
    expect(new Set(received.map((m) => m.delivery?.delivery_id ?? m.report?.delivery_ids[0]))).toEqual(new Set([deliveryId]));

    stream.cancel();
    expect(await ended).toMatchObject({ code: grpc.status.CANCELLED });
    await waitFor(() => listeners === before);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
