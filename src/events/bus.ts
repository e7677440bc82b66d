// The in-process event bus: carries the same events as Kafka when KAFKA_BROKERS is unset (one process, `npm start`).
import type { OutboxRecord } from '../db/outbox';
import type { EventSink } from './relay';

/** An event as subscribers see it, on the bus or from Kafka: the payload parsed from its JSON text. */
export interface BusMessage {
  topic: string;
  key: string;
  eventId: string;
  payload: unknown;
}

export type BusHandler = (message: BusMessage) => Promise<void> | void;

export class InProcessBus {
  private readonly handlers = new Map<string, Set<BusHandler>>();

  /** Subscribes to one topic, or to all with `*`; returns the unsubscribe function. */
  subscribe(topic: string, handler: BusHandler): () => void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  /**
   * Hands the message to every subscriber of its topic and waits for all. If one fails, the publish fails, so
   * the relay keeps the event and tries again: the subscribers that succeeded see it twice (at least once,
   * deduplicated on eventId like a Kafka consumer would).
   */
  async publish(message: BusMessage): Promise<void> {
    const targets = [...(this.handlers.get(message.topic) ?? []), ...(this.handlers.get('*') ?? [])];
    const results = await Promise.allSettled(targets.map(async (h) => h(message)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) {
      throw new AggregateError(failed.map((f) => f.reason), `${failed.length} of ${targets.length} subscribers of ${message.topic} failed on event ${message.eventId}`);
    }
  }
}

/** The relay's sink when there is no Kafka: events in id order, each to its subscribers. */
export function busSink(bus: InProcessBus): EventSink {
  return {
    name: 'in-process bus',
    async send(batch: readonly OutboxRecord[]) {
      for (const r of batch) await bus.publish({ topic: r.topic, key: r.key, eventId: r.eventId, payload: JSON.parse(r.payload) as unknown });
    },
    async close() {},
  };
}
