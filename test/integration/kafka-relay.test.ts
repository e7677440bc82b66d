// The outbox relay against a real Kafka broker: once per event_id, and no event lost while the broker is down.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import type { Database } from '../../src/db/types';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { silentLogger } from '../../src/log/logger';
import { createKafka, kafkaSink, EVENT_ID_HEADER } from '../../src/events/kafka';
import { createOutboxPublisher } from '../../src/events/outbox-publisher';
import { createOutboxRelay, type OutboxRelay } from '../../src/events/relay';
import type { EventPublisher } from '../../src/events/types';
import { deliveredTopic } from '../../src/reporting/event';
import { kafkaUnavailableReason, startKafkaBroker, type KafkaBroker } from '../support/kafka';
import { createTestDatabase, type TestDatabase } from '../support/pg';

const skipReason = kafkaUnavailableReason();
if (skipReason) console.warn(`kafka-relay tests skipped: ${skipReason}`);

/** What a receiver sees: every message, counted per event_id (the receiver's dedupe key). */
interface Received {
  messages: { eventId: string; key: string; payload: { event_id: string; seq: number } }[];
  byEventId: Map<string, number>;
}

describe.skipIf(skipReason !== undefined)('outbox relay to a real Kafka broker', () => {
  let broker: KafkaBroker;
  let tdb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    [broker, tdb] = await Promise.all([startKafkaBroker(), createTestDatabase(inject('pgUrl'))]);
    db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
    await db.migrate();
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
    await broker?.close();
  });

  /** A relay as a worker runs it, publishing to the broker; short backoff so the test sees recovery soon. */
  function relayTo(): { relay: OutboxRelay; publisher: EventPublisher; stop(): Promise<void> } {
    const sink = kafkaSink(createKafka({ brokers: [broker.bootstrap], clientId: 'refdata-test-relay' }, silentLogger()));
    const relay = createOutboxRelay({ outbox: db.outbox, sink, log: silentLogger(), pollMs: 50, batchSize: 50, maxBackoffMs: 1000, leaseMs: 30_000 });
    const publisher = createOutboxPublisher(db.outbox, { onEnqueued: () => relay.nudge() });
    relay.start();
    return { relay, publisher, stop: async () => { await relay.stop(); await sink.close(); } };
  }

  /** A receiver on its own consumer group, reading the topic from the start; it rides out broker restarts. */
  async function receive(topic: string, groupId: string): Promise<{ received: Received; consumer: Consumer }> {
    const kafka = new Kafka({
      clientId: 'refdata-test-receiver',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 1000 },
    });
    const consumer = kafka.consumer({ groupId, retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 1000, restartOnFailure: async () => true } });
    const received: Received = { messages: [], byEventId: new Map() };
    // The broker does not auto-create topics (as in production); the relay creates its own, the receiver here.
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
    await admin.disconnect();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const eventId = message.headers?.[EVENT_ID_HEADER]?.toString() ?? '';
        const payload = JSON.parse(message.value!.toString()) as { event_id: string; seq: number };
        received.messages.push({ eventId, key: message.key?.toString() ?? '', payload });
        received.byEventId.set(eventId, (received.byEventId.get(eventId) ?? 0) + 1);
      },
    });
    return { received, consumer };
  }

  const publishRange = async (publisher: EventPublisher, topic: string, prefix: string, from: number, to: number) => {
    for (let seq = from; seq < to; seq++) {
      const eventId = `${prefix}-${seq}`;
      await publisher.publish({ topic, key: `portfolio_${seq % 5}`, eventId, payload: { event_id: eventId, seq } });
    }
  };

  it('publishes each event once per event_id, with its key, event_id header and JSON payload', async () => {
    const topic = deliveredTopic('PERFORMANCE_REPORT');
    expect(topic).toBe('reporting.performance.delivered');
    const { received, consumer } = await receive(topic, 'test-once');
    const { publisher, relay, stop } = relayTo();
    try {
      await publishRange(publisher, topic, 'once', 0, 60);
      await publishRange(publisher, topic, 'once', 10, 20); // the same events again: stored once
      await waitFor(() => received.byEventId.size === 60, 60_000, () => `received ${received.byEventId.size} of 60`);
      await new Promise((r) => setTimeout(r, 500)); // a late duplicate would arrive within this
      expect(received.messages).toHaveLength(60);
      expect([...received.byEventId.values()].every((n) => n === 1)).toBe(true);
      const m = received.messages.find((x) => x.eventId === 'once-7')!;
      expect(m).toEqual({ eventId: 'once-7', key: 'portfolio_2', payload: { event_id: 'once-7', seq: 7 } });
      expect(relay.healthy).toBe(true);
      expect((await db.outbox.lag()).unpublished).toBe(0);
    } finally {
      await stop();
      await consumer.disconnect();
    }
  });

  it('a broker stopped mid-run loses nothing: every event arrives once per event_id after it returns', async () => {
    const topic = deliveredTopic('RISK_REPORT');
    const { received, consumer } = await receive(topic, 'test-outage');
    const { publisher, relay, stop } = relayTo();
    try {
      await publishRange(publisher, topic, 'outage', 0, 100);
      await waitFor(() => received.byEventId.size >= 50, 60_000, () => `received ${received.byEventId.size} before the outage`);

      await broker.stop();
      // Published while Kafka is away: stored in the outbox, waiting.
      await publishRange(publisher, topic, 'outage', 100, 200);
      await waitFor(async () => !relay.healthy && (await db.outbox.lag()).unpublished > 0, 60_000, () => 'the relay never noticed the outage');
      const during = await db.outbox.lag();
      expect(during.unpublished).toBeGreaterThanOrEqual(100);
      expect(during.failing).toBeGreaterThan(0);

      await broker.start();
      await waitFor(() => received.byEventId.size === 200, 90_000, () => `received ${received.byEventId.size} of 200 after the broker returned`);
      await waitFor(async () => (await db.outbox.lag()).unpublished === 0, 30_000, () => 'outbox not drained');
      expect(relay.healthy).toBe(true);

      // At least once: a message may repeat; deduplicated by event_id, each of the 200 arrived exactly once.
      const unique = [...received.byEventId.keys()].sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
      expect(unique).toEqual(Array.from({ length: 200 }, (_, i) => `outage-${i}`));
      expect(received.messages.length).toBeGreaterThanOrEqual(200);
    } finally {
      await stop();
      await consumer.disconnect();
    }
  }, 240_000);
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
