// Kafka through kafkajs: the client from config, the relay's idempotent-producer sink, and a JSON event consumer.
import { Kafka, logLevel, type Admin, type Consumer, type LogEntry, type Producer } from 'kafkajs';
import type { Logger } from '../log/logger';
import type { OutboxRecord } from '../db/outbox';
import type { BusMessage } from './bus';
import type { EventSink } from './relay';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
}

/** Header carrying the event id, so a consumer deduplicates without parsing the body. */
export const EVENT_ID_HEADER = 'event_id';

/** kafkajs log lines into our pino logger, a level lower than kafkajs rates them: the relay reports outages itself. */
function logCreatorFor(log: Logger) {
  const child = log.child({ component: 'kafka' });
  return () => (entry: LogEntry) => {
    const { message, ...extra } = entry.log;
    // We cap the idempotent producer's retries on purpose (the relay retries and consumers dedupe on event_id).
    if (message.startsWith('Limiting retries for the idempotent producer')) return;
    const fields = { namespace: entry.namespace, ...extra };
    if (entry.level <= logLevel.WARN) child.warn(fields, message);
    else child.debug(fields, message);
  };
}

export function createKafka(settings: KafkaSettings, log: Logger): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: logLevel.WARN,
    logCreator: logCreatorFor(log),
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    // Short retries inside a call: while Kafka is away the relay's own backoff takes over and keeps the events.
    retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 3 },
  });
}

/** Creates missing topics once per process (brokers often forbid auto-creation); -1 = the broker's defaults. */
function topicEnsurer(kafka: Kafka) {
  const known = new Set<string>();
  let admin: Admin | null = null;
  return {
    async ensure(topics: Iterable<string>): Promise<void> {
      const missing = [...new Set(topics)].filter((t) => !known.has(t));
      if (missing.length === 0) return;
      try {
        if (!admin) {
          admin = kafka.admin();
          await admin.connect();
        }
        await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: -1, replicationFactor: -1 })), waitForLeaders: true });
      } catch (err) {
        // A fresh admin client next time, rather than one stuck on a broker that went away.
        await admin?.disconnect().catch(() => undefined);
        admin = null;
        throw err;
      }
      for (const t of missing) known.add(t);
    },
    async close(): Promise<void> {
      await admin?.disconnect();
      admin = null;
    },
  };
}

/**
 * The relay's sink: one idempotent producer (no duplicates from its own retries), acks from all in-sync
 * replicas, the event id in a header, the payload JSON text as the value, the key for partitioning.
 */
export function kafkaSink(kafka: Kafka): EventSink {
  const topics = topicEnsurer(kafka);
  let producer: Producer | null = null;
  async function connected(): Promise<Producer> {
    if (!producer) {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 } });
      await p.connect();
      producer = p;
    }
    return producer;
  }
  return {
    name: 'Kafka',
    async send(batch: readonly OutboxRecord[]) {
      const byTopic = new Map<string, OutboxRecord[]>();
      for (const r of batch) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
      await topics.ensure(byTopic.keys());
      const p = await connected();
      await p.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, records]) => ({
          topic,
          messages: records.map((r) => ({ key: r.key, value: r.payload, headers: { [EVENT_ID_HEADER]: r.eventId, 'content-type': 'application/json' } })),
        })),
      });
    },
    async close() {
      await producer?.disconnect();
      producer = null;
      await topics.close();
    },
  };
}

export interface KafkaConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  log: Logger;
  /** Throwing makes Kafka deliver the message again (the offset is not committed). */
  handle(message: BusMessage): Promise<void>;
  /** Where a new consumer group starts: the latest offset (default) or the oldest kept message. */
  fromBeginning?: boolean;
  /** kafkajs gave up on the consumer (a crash it does not restart from); the caller starts a new one. */
  onStopped?: (err: Error) => void;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

/** Decodes one Kafka message; null for one that is not a JSON event (logged and skipped, never retried). */
export function busMessageOf(topic: string, key: Buffer | null, value: Buffer | null, headers: Record<string, unknown> | undefined): BusMessage | null {
  if (!value) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(value.toString('utf8'));
  } catch {
    return null;
  }
  const header = headers?.[EVENT_ID_HEADER];
  const fromHeader = Buffer.isBuffer(header) ? header.toString('utf8') : typeof header === 'string' ? header : undefined;
  const fromBody = typeof payload === 'object' && payload !== null ? (payload as { event_id?: unknown }).event_id : undefined;
  const eventId = typeof fromBody === 'string' ? fromBody : fromHeader;
  if (!eventId) return null;
  return { topic, key: key?.toString('utf8') ?? '', eventId, payload };
}

export async function startKafkaConsumer(opts: KafkaConsumerOptions): Promise<RunningConsumer> {
  const log = opts.log.child({ component: 'kafka-consumer', groupId: opts.groupId });
  const topics = topicEnsurer(opts.kafka);
  try {
    await topics.ensure(opts.topics);
  } finally {
    await topics.close();
  }
  const consumer: Consumer = opts.kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? false });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  }
  consumer.on(consumer.events.CRASH, (event) => {
    if (event.payload.restart) return;
    log.error({ err: event.payload.error.message }, 'the Kafka consumer crashed and kafkajs will not restart it');
    opts.onStopped?.(event.payload.error);
  });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const decoded = busMessageOf(topic, message.key, message.value, message.headers);
      if (!decoded) {
        // A message that can never be read must not stop the partition behind it.
        log.error({ topic, partition, offset: message.offset }, 'skipped a Kafka message that is not a JSON event with an event_id');
        return;
      }
      await opts.handle(decoded);
    },
  });
  return { stop: () => consumer.disconnect() };
}
