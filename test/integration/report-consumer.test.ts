// Upstream `reporting.reports.generated` events start deliveries once per event_id, over the bus and over real Kafka.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { Database } from '../../src/db/types';
import type { Config } from '../../src/config';
import { loadConfig } from '../../src/config';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { PgExecutor } from '../../src/db/postgres/executor';
import { silentLogger } from '../../src/log/logger';
import { startEventRelay, type RunningEventRelay } from '../../src/events';
import type { ReportForDelivery, StartDeliveries } from '../../src/events/report-events';
import { kafkaUnavailableReason, startKafkaBroker, type KafkaBroker } from '../support/kafka';
import { createTestDatabase, type TestDatabase } from '../support/pg';

const TOPIC = 'reporting.reports.generated';

/** An upstream event in the original ReportDistribution shape. */
function upstreamEvent(eventId: string, reportId = `report_${eventId}`) {
  return {
    event_id: eventId,
    timestamp: '2025-06-21T10:00:00.000Z',
    data_type: 'PERFORMANCE_REPORT',
    report_data: {
      report_id: reportId,
      report_type: 'PERFORMANCE_REPORT',
      portfolio_id: 'portfolio_001',
      report_period: '2025-06',
      file_path: '/reports/portfolio_performance_202506.pdf',
      file_size_bytes: 2048576,
    },
    routing: { routing_key: 'portfolio_001.performance.monthly', delivery_channels: ['EMAIL', 'DASHBOARD_NOTIFICATION'], priority: 1 },
    metadata: { source_service: 'report_generation_service', encryption_required: true },
  };
}

/** The REST deliver logic stands in as a recorder: calls per idempotency key, and an optional failure to inject. */
function recordingStartDeliveries() {
  const calls: { report: ReportForDelivery; key: string }[] = [];
  const failNext = new Set<string>();
  const reject = new Set<string>();
  const start: StartDeliveries = async (report, { idempotencyKey }) => {
    calls.push({ report, key: idempotencyKey });
    if (failNext.delete(idempotencyKey)) throw new Error('Temporal unavailable');
    if (reject.has(idempotencyKey)) return { deliveryIds: [], rejected: 'FILE_OUTSIDE_ROOTS: /etc/passwd is not under a report root' };
    return { deliveryIds: [`dlv_${idempotencyKey}_email`, `dlv_${idempotencyKey}_dashboard`] };
  };
  const count = (key: string) => calls.filter((c) => c.key === key).length;
  return { start, calls, failNext, reject, count };
}

function eventsConfig(overrides: Record<string, string>): Pick<Config, 'events'> {
  return { events: loadConfig({ REFDATA_OUTBOX_POLL_MS: '20', ...overrides }).events };
}

describe('report consumer', () => {
  let tdb: TestDatabase;
  let exec: PgExecutor;
  let db: Database;

  beforeAll(async () => {
    tdb = await createTestDatabase(inject('pgUrl'));
    exec = createNodePgExecutor(tdb.url);
    db = createPostgresDatabase(exec, 'postgres');
    await db.migrate();
  });
  beforeEach(async () => exec.exec('TRUNCATE dist.outbox, dist.inbox'));
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  describe('over the in-process bus (KAFKA_BROKERS unset)', () => {
    let events: RunningEventRelay;
    let deliveries: ReturnType<typeof recordingStartDeliveries>;

    beforeEach(async () => {
      deliveries = recordingStartDeliveries();
      events = await startEventRelay({ db, config: eventsConfig({}), log: silentLogger(), startDeliveries: deliveries.start });
      return () => events.stop();
    });

    it('turns an upstream event into deliveries, once even when the same event arrives twice', async () => {
      expect(events.transport).toBe('bus');
      await events.publisher.publish({ topic: TOPIC, key: 'report_1', eventId: 'evt-1', payload: upstreamEvent('evt-1') });
      await waitFor(() => deliveries.count('evt-1') === 1);
      // Redelivered, as a Kafka consumer sees after a rebalance: the inbox knows it.
      await events.bus.publish({ topic: TOPIC, key: 'report_1', eventId: 'evt-1', payload: upstreamEvent('evt-1') });
      await Promise.all([
        events.bus.publish({ topic: TOPIC, key: 'report_1', eventId: 'evt-1', payload: upstreamEvent('evt-1') }),
        events.bus.publish({ topic: TOPIC, key: 'report_1', eventId: 'evt-1', payload: upstreamEvent('evt-1') }),
      ]);
      expect(deliveries.count('evt-1')).toBe(1);
      expect(deliveries.calls[0]!.report).toEqual({
        reportId: 'report_evt-1',
        reportType: 'PERFORMANCE_REPORT',
        portfolioId: 'portfolio_001',
        reportPeriod: '2025-06',
        filePath: '/reports/portfolio_performance_202506.pdf',
        fileSizeBytes: 2048576,
        priority: 1,
        channels: ['EMAIL', 'DASHBOARD_NOTIFICATION'],
        routingKey: 'portfolio_001.performance.monthly',
        sourceService: 'report_generation_service',
        encryptionRequired: true,
        metadata: { source_service: 'report_generation_service', encryption_required: true, source_event_id: 'evt-1', generated_at: '2025-06-21T10:00:00.000Z' },
      });
      expect(await db.outbox.receiveInbound('evt-1', TOPIC)).toBe('done');
    });

    it('a failed start is retried with the same idempotency key until it succeeds, then never again', async () => {
      deliveries.failNext.add('evt-2');
      await events.publisher.publish({ topic: TOPIC, key: 'report_2', eventId: 'evt-2', payload: upstreamEvent('evt-2') });
      await waitFor(async () => deliveries.count('evt-2') === 2 && (await db.outbox.lag()).unpublished === 0);
      await events.bus.publish({ topic: TOPIC, key: 'report_2', eventId: 'evt-2', payload: upstreamEvent('evt-2') });
      expect(deliveries.calls.map((c) => c.key)).toEqual(['evt-2', 'evt-2']);
    });

    it('a report the deliver logic refuses is not retried', async () => {
      deliveries.reject.add('evt-refused');
      await events.publisher.publish({ topic: TOPIC, key: 'report_r', eventId: 'evt-refused', payload: upstreamEvent('evt-refused') });
      await waitFor(async () => deliveries.count('evt-refused') === 1 && (await db.outbox.lag()).unpublished === 0);
      await events.bus.publish({ topic: TOPIC, key: 'report_r', eventId: 'evt-refused', payload: upstreamEvent('evt-refused') });
      expect(deliveries.count('evt-refused')).toBe(1);
      expect(await db.outbox.receiveInbound('evt-refused', TOPIC)).toBe('done');
    });

    it('drops an invalid event without starting anything or blocking the events behind it', async () => {
      await events.publisher.publish({ topic: TOPIC, key: 'bad', eventId: 'evt-bad', payload: { event_id: 'evt-bad', report_data: { report_id: 'r' } } });
      await events.publisher.publish({ topic: TOPIC, key: 'report_3', eventId: 'evt-3', payload: upstreamEvent('evt-3') });
      await waitFor(() => deliveries.count('evt-3') === 1);
      expect(deliveries.calls.map((c) => c.key)).toEqual(['evt-3']);
    });
  });

  const skipReason = kafkaUnavailableReason();
  describe.skipIf(skipReason !== undefined)(`over a real Kafka broker${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
    let broker: KafkaBroker;
    let producer: Producer;

    beforeAll(async () => {
      broker = await startKafkaBroker();
      const kafka = new Kafka({ clientId: 'upstream-report-service', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
      // A plain (not idempotent) producer that really sends the same event twice, as an upstream retry would.
      producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
    });
    afterAll(async () => {
      await producer?.disconnect();
      await broker?.close();
    });

    const send = (value: string, key: string) => producer.send({ topic: TOPIC, messages: [{ key, value }] });

    it('starts deliveries once per event_id although Kafka delivers the event three times', async () => {
      const deliveries = recordingStartDeliveries();
      const events = await startEventRelay({
        db,
        config: eventsConfig({ KAFKA_BROKERS: broker.bootstrap, KAFKA_CONSUMER_GROUP: 'refdata-test-reports' }),
        log: silentLogger(),
        startDeliveries: deliveries.start,
      });
      try {
        expect(events.transport).toBe('kafka');
        await events.consumerReady;
        // A new consumer group starts at the latest offset: send warm-up events until one is handled.
        let warm = 0;
        await waitFor(async () => {
          if (deliveries.calls.length > 0) return true;
          warm++;
          await send(JSON.stringify(upstreamEvent(`warm-${warm}`)), 'warm');
          await new Promise((r) => setTimeout(r, 500));
          return deliveries.calls.length > 0;
        }, 60_000);

        const a = JSON.stringify(upstreamEvent('kafka-a'));
        await send(a, 'report_a');
        await send(a, 'report_a');
        await send('not json at all', 'report_x');
        await send(JSON.stringify(upstreamEvent('kafka-b')), 'report_b');
        await send(a, 'report_a');
        // One partition, read in order: once the sentinel is handled, everything before it was.
        await send(JSON.stringify(upstreamEvent('kafka-sentinel')), 'sentinel');
        await waitFor(() => deliveries.count('kafka-sentinel') === 1, 60_000);

        expect(deliveries.count('kafka-a')).toBe(1);
        expect(deliveries.count('kafka-b')).toBe(1);
        expect(deliveries.calls.find((c) => c.key === 'kafka-a')!.report.reportId).toBe('report_kafka-a');
      } finally {
        await events.stop();
      }
    }, 180_000);
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
