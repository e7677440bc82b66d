// Starts the event machinery of a process: outbox publisher, relay to Kafka or the in-process bus, report consumer.
import type { Config } from '../config';
import type { OutboxStore } from '../db/outbox';
import type { Logger } from '../log/logger';
import { setOutboxLag } from '../metrics/registry';
import { InProcessBus, busSink } from './bus';
import { createKafka, kafkaSink, startKafkaConsumer, type RunningConsumer } from './kafka';
import { createOutboxPublisher } from './outbox-publisher';
import { createOutboxRelay, type EventSink, type OutboxRelay } from './relay';
import { createReportEventHandler } from './report-consumer';
import type { StartDeliveries } from './report-events';
import type { EventPublisher } from './types';

export interface EventRelayDeps {
  db: { outbox: OutboxStore };
  config: Pick<Config, 'events'>;
  log: Logger;
  /**
   * The REST `deliver` logic; when given, upstream `reporting.reports.generated` events start deliveries.
   * Processes that only publish (a worker without the API's logic) leave it out.
   */
  startDeliveries?: StartDeliveries;
  /** The bus to use without Kafka (tests and `npm start` share one with the API's stream); a new one otherwise. */
  bus?: InProcessBus;
}

export interface RunningEventRelay {
  /** Stores events in the outbox; the relay publishes them. Give it to activities and API handlers. */
  publisher: EventPublisher;
  /** Carries the events when Kafka is not configured; subscribe to follow them in this process. */
  bus: InProcessBus;
  relay: OutboxRelay;
  transport: 'kafka' | 'bus';
  /** Resolves once the report consumer is subscribed (at once without Kafka or without startDeliveries). */
  consumerReady: Promise<void>;
  stop(): Promise<void>;
}

interface BackgroundConsumer {
  ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Connects the consumer in the background, retrying with backoff: a process starts while Kafka is away. A
 * consumer that kafkajs gives up on is replaced the same way.
 */
function consumeInBackground(start: (onStopped: (err: Error) => void) => Promise<RunningConsumer>, log: Logger): BackgroundConsumer {
  let stopped = false;
  let running: RunningConsumer | null = null;
  let timer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let pending: Promise<void> = Promise.resolve();
  const attempt = async (n: number): Promise<void> => {
    if (stopped) return;
    try {
      const c = await start(() => {
        if (stopped || running !== c) return;
        running = null;
        void c.stop().catch(() => undefined);
        timer = setTimeout(() => (pending = attempt(1)), 1000);
      });
      if (stopped) return void (await c.stop());
      running = c;
      markReady();
      if (n > 0) log.info({ attempts: n + 1 }, 'report consumer connected to Kafka');
    } catch (err) {
      if (n === 0 || n % 10 === 0) log.warn({ err: err instanceof Error ? err.message : String(err), attempts: n + 1 }, 'report consumer cannot reach Kafka yet; retrying');
      timer = setTimeout(() => (pending = attempt(n + 1)), Math.min(1000 * 2 ** n, 30_000));
    }
  };
  pending = attempt(0);
  return {
    ready,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pending;
      await running?.stop();
    },
  };
}

export async function startEventRelay(deps: EventRelayDeps): Promise<RunningEventRelay> {
  const { events } = deps.config;
  const log = deps.log.child({ component: 'events' });
  const bus = deps.bus ?? new InProcessBus();
  const kafka = events.kafka ? createKafka(events.kafka, log) : null;
  const sink: EventSink = kafka ? kafkaSink(kafka) : busSink(bus);
  const relay = createOutboxRelay({
    outbox: deps.db.outbox,
    sink,
    log,
    pollMs: events.outbox.pollMs,
    batchSize: events.outbox.batchSize,
    retentionMs: events.outbox.retentionDays * 24 * 60 * 60 * 1000,
    onLag: (lag) => setOutboxLag({ pending: lag.unpublished, oldestAgeSeconds: (lag.oldestUnpublishedAgeMs ?? 0) / 1000 }),
  });
  const publisher = createOutboxPublisher(deps.db.outbox, { onEnqueued: () => relay.nudge() });

  let consumer: BackgroundConsumer | null = null;
  let unsubscribe: (() => void) | null = null;
  if (deps.startDeliveries) {
    const handle = createReportEventHandler({ inbox: deps.db.outbox, startDeliveries: deps.startDeliveries, log });
    const topic = events.topics.reportsGenerated;
    if (kafka) {
      consumer = consumeInBackground(
        (onStopped) => startKafkaConsumer({ kafka, groupId: events.consumerGroup, topics: [topic], log, handle: async (m) => void (await handle(m)), onStopped }),
        log,
      );
    } else {
      unsubscribe = bus.subscribe(topic, async (m) => void (await handle(m)));
    }
  } else {
    log.info('no startDeliveries given: upstream report events are not consumed in this process');
  }

  relay.start();
  log.info({ transport: kafka ? 'kafka' : 'bus', brokers: events.kafka?.brokers }, kafka ? 'event relay publishing to Kafka' : 'event relay publishing to the in-process bus (KAFKA_BROKERS unset)');
  return {
    publisher,
    bus,
    relay,
    transport: kafka ? 'kafka' : 'bus',
    consumerReady: consumer?.ready ?? Promise.resolve(),
    async stop() {
      unsubscribe?.();
      await consumer?.stop();
      await relay.stop();
      await sink.close();
    },
  };
}

export { InProcessBus } from './bus';
export type { BusMessage } from './bus';
export type { EventPublisher, PublishedEvent } from './types';
export type { ReportForDelivery, StartDeliveries } from './report-events';
