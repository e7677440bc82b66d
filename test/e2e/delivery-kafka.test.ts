// The delivery → outbox → Kafka path end to end with a real broker: the API hands a report out, the worker delivers it
// (real workflow on the dev server), its events land in dist.outbox, the relay `refdata dev` runs publishes them to
// Kafka, a consumer reads them with the right content, and each row is marked published; a broker down meanwhile
// loses nothing and repeats nothing.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApi } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { startEventRelay, type RunningEventRelay } from '../../src/events';
import { EVENT_ID_HEADER } from '../../src/events/kafka';
import { silentLogger } from '../../src/log/logger';
import { deliveredTopic } from '../../src/reporting/event';
import { connectTemporal } from '../../src/temporal/client';
import { startWorker, type RunningWorker } from '../../workers/worker';
import { kafkaUnavailableReason, startKafkaBroker, type KafkaBroker } from '../support/kafka';
import { namespaceForTestFile } from '../support/namespaces';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { fastPolicies, testSecretsKey } from '../support/reporting';

const skipReason = kafkaUnavailableReason();
if (skipReason) console.warn(`delivery-kafka tests skipped: ${skipReason}`);

const ADMIN_KEY = 'test-admin-key-delivery-kafka-0123456789';
const topic = deliveredTopic('PERFORMANCE_REPORT');

interface Event {
  event_id: string;
  distribution: { topic: string; routing_key: string; target_subscribers: string[]; delivery_channels: string[]; scope: 'delivery' | 'distribution' };
  report_data: { report_id: string; report_type: string; portfolio_id: string | null; report_period: string | null };
  metadata: { delivery_priority: number };
}
interface Received { eventId: string; key: string; event: Event }

describe.skipIf(skipReason !== undefined)('delivery → outbox → Kafka, with a real broker', () => {
  let broker: KafkaBroker;
  let tdb: TestDatabase;
  let db: Database;
  let temporal: { connection: Connection; client: Client };
  let events: RunningEventRelay;
  let worker: RunningWorker;
  let api: FastifyInstance;
  let consumer: Consumer;
  let reportRoot: string;
  const received: Received[] = [];

  beforeAll(async () => {
    [broker, tdb] = await Promise.all([startKafkaBroker(), createTestDatabase(inject('pgUrl'))]);
    db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
    await db.migrate();
    const namespace = namespaceForTestFile(__filename);
    temporal = await connectTemporal(inject('temporalAddress'), namespace);
    reportRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-kafka-reports-'));
    const log = silentLogger();
    const config = loadConfig({ KAFKA_BROKERS: broker.bootstrap, REFDATA_OUTBOX_POLL_MS: '100', REFDATA_ALLOW_PRIVATE_DESTINATIONS: 'true' });
    // As `refdata dev` wires it: one relay, its publisher given to the worker's delivery activities and to the API.
    events = await startEventRelay({ db, config, log });
    expect(events.transport).toBe('kafka');
    worker = await startWorker({
      address: inject('temporalAddress'), namespace, client: temporal.client, db, log,
      config: { dropoffDir: reportRoot, batchRows: 1000, reporting: config.reporting, events: config.events },
      queues: ['delivery', 'delivery-priority'],
      delivery: { secretsKey: testSecretsKey, events: events.publisher },
      workflowBundlePath: inject('workflowBundlePath') || undefined,
    });
    api = await buildApi({
      db, client: temporal.client, log, dropRoot: reportRoot, adminKey: ADMIN_KEY,
      reporting: { secretsKey: testSecretsKey, allowPrivateDestinations: true, reportRoots: [reportRoot], retry: fastPolicies(), streamPollMs: 200, events: events.publisher },
    });

    const kafka = new Kafka({ clientId: 'refdata-test-consumer', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 1000 } });
    // Production brokers do not create topics on demand; a consumer that starts first makes its own.
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
    await admin.disconnect();
    consumer = kafka.consumer({ groupId: 'refdata-delivery-kafka', retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 1000, restartOnFailure: async () => true } });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push({ eventId: message.headers?.[EVENT_ID_HEADER]?.toString() ?? '', key: message.key?.toString() ?? '', event: JSON.parse(message.value!.toString()) as Event });
      },
    });

    const sub = await api.inject({
      method: 'POST', url: '/api/v1/reporting/subscribe', headers: { authorization: `Bearer ${ADMIN_KEY}` },
      payload: { subscriber_id: 'client_kafka', report_types: ['PERFORMANCE_REPORT'], delivery_preferences: { channels: ['DASHBOARD_NOTIFICATION'] }, filters: { portfolio_ids: ['portfolio_007'] } },
    });
    expect(sub.statusCode).toBe(201);
  }, 240_000);
  afterAll(async () => {
    await consumer?.disconnect().catch(() => undefined);
    await api?.close();
    await worker?.shutdown();
    await events?.stop();
    await temporal?.connection.close();
    await db?.close();
    await tdb?.drop();
    await broker?.close();
    if (reportRoot) await fs.rm(reportRoot, { recursive: true, force: true });
  });

  async function deliver(reportId: string): Promise<string> {
    const res = await api.inject({
      method: 'POST', url: '/api/v1/reporting/deliver', headers: { authorization: `Bearer ${ADMIN_KEY}` },
      payload: { report: { report_id: reportId, report_type: 'PERFORMANCE_REPORT', title: `Performance ${reportId}`, portfolio_id: 'portfolio_007', report_period: '2025-06', content: { content_type: 'text/plain', text: 'portfolio,return\nportfolio_007,0.01\n' } }, priority: 2 },
    });
    expect(res.statusCode).toBe(202);
    const deliveries = (res.json() as { deliveries: { delivery_id: string; channel: string }[] }).deliveries;
    expect(deliveries.map((d) => d.channel)).toEqual(['DASHBOARD_NOTIFICATION']);
    return deliveries[0]!.delivery_id;
  }

  const outboxRows = (reportId: string) =>
    rows<{ event_id: string; published_at: Date | null; attempts: number; last_error: string | null; payload: string }>(
      `SELECT event_id, published_at, attempts, last_error, payload FROM dist.outbox WHERE payload LIKE $1 ORDER BY id`, [`%"report_id":"${reportId}"%`],
    );
  async function rows<T>(sql: string, params: unknown[]): Promise<T[]> {
    const { Client: Pg } = await import('pg');
    const c = new Pg({ connectionString: tdb.url });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows as T[];
    } finally {
      await c.end();
    }
  }
  const deliveryStatus = async (deliveryId: string) => (await db.distribution.getDelivery(deliveryId))?.status;

  it('a delivery\'s events go from the outbox to Kafka with their content, and each outbox row is marked published', async () => {
    const deliveryId = await deliver('rpt_kafka_1');
    await waitFor(async () => (await deliveryStatus(deliveryId)) === 'delivered', 60_000, 'the delivery to be delivered');
    await waitFor(() => received.filter((r) => r.event.report_data.report_id === 'rpt_kafka_1').length >= 2, 60_000, 'both events of rpt_kafka_1 on Kafka');

    const mine = received.filter((r) => r.event.report_data.report_id === 'rpt_kafka_1');
    const byScope = Object.fromEntries(mine.map((r) => [r.event.distribution.scope, r]));
    expect(Object.keys(byScope).sort()).toEqual(['delivery', 'distribution']);
    // The delivery's own report_distributed event: this subscriber, this channel, this report.
    expect(byScope.delivery!.event).toMatchObject({
      distribution: { topic, target_subscribers: ['client_kafka'], delivery_channels: ['DASHBOARD_NOTIFICATION'], scope: 'delivery' },
      report_data: { report_id: 'rpt_kafka_1', report_type: 'PERFORMANCE_REPORT', portfolio_id: 'portfolio_007', report_period: '2025-06' },
      metadata: { delivery_priority: 2 },
    });
    for (const r of mine) {
      expect(r.eventId).toBe(r.event.event_id);
      expect(r.key).toBe(r.event.distribution.routing_key);
    }

    const outbox = await outboxRows('rpt_kafka_1');
    expect(outbox.map((o) => o.event_id).sort()).toEqual(mine.map((r) => r.eventId).sort());
    await waitFor(async () => (await outboxRows('rpt_kafka_1')).every((o) => o.published_at !== null), 30_000, 'the outbox rows marked published');
    expect((await outboxRows('rpt_kafka_1')).map((o) => o.last_error)).toEqual([null, null]);
  });

  it('with the broker down the delivery still completes, its events wait in the outbox, and arrive once when it returns', async () => {
    await broker.stop();
    let deliveryId: string;
    try {
      deliveryId = await deliver('rpt_kafka_2');
      // Delivery does not depend on Kafka: it completes, and its events are stored, unpublished.
      await waitFor(async () => (await deliveryStatus(deliveryId)) === 'delivered', 60_000, 'the delivery to be delivered while Kafka is down');
      await waitFor(async () => (await outboxRows('rpt_kafka_2')).length === 2, 30_000, 'both events stored in the outbox');
      // The relay tried, failed and recorded why (attempts count claims; last_error is written when the send fails).
      await waitFor(async () => (await outboxRows('rpt_kafka_2')).some((o) => o.last_error !== null), 60_000, 'the relay to try and fail');
      const waiting = await outboxRows('rpt_kafka_2');
      expect(waiting.map((o) => o.published_at)).toEqual([null, null]);
      expect(Math.max(...waiting.map((o) => o.attempts))).toBeGreaterThan(0);
      expect(received.filter((r) => r.event.report_data.report_id === 'rpt_kafka_2')).toEqual([]);
    } finally {
      await broker.start();
    }

    await waitFor(() => received.filter((r) => r.event.report_data.report_id === 'rpt_kafka_2').length >= 2, 120_000, 'the waiting events on Kafka after the broker returned');
    await waitFor(async () => (await outboxRows('rpt_kafka_2')).every((o) => o.published_at !== null), 30_000, 'the outbox rows marked published');
    // A late repeat would arrive within this.
    await new Promise((r) => setTimeout(r, 2000));
    const mine = received.filter((r) => r.event.report_data.report_id === 'rpt_kafka_2');
    expect(mine.map((r) => r.event.distribution.scope).sort()).toEqual(['delivery', 'distribution']);
    expect(new Set(mine.map((r) => r.eventId)).size).toBe(2);
    expect(mine.map((r) => r.eventId).sort()).toEqual((await outboxRows('rpt_kafka_2')).map((o) => o.event_id).sort());
    // The first report's events were not sent again by the recovery.
    expect(received.filter((r) => r.event.report_data.report_id === 'rpt_kafka_1')).toHaveLength(2);
    // One delivery, delivered once.
    const history = await rows<{ status: string; retry_count: number }>('SELECT status, retry_count FROM dist.delivery_history WHERE delivery_id = $1', [deliveryId!]);
    expect(history).toEqual([{ status: 'delivered', retry_count: 0 }]);
  }, 300_000);
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
