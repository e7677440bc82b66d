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
  stop(): Promise<void>;
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

  let consumer: RunningConsumer | null = null;
  let unsubscribe: (() => void) | null = null;
  if (deps.startDeliveries) {
    const handle = createReportEventHandler({ inbox: deps.db.outbox, startDeliveries: deps.startDeliveries, log });
    const topic = events.topics.reportsGenerated;
    if (kafka) {
      consumer = await startKafkaConsumer({ kafka, groupId: events.consumerGroup, topics: [topic], log, handle: async (m) => void (await handle(m)) });
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
