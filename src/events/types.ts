// The port through which domain events leave the system; the events module implements it (outbox + Kafka or in-process bus).

/** One event to publish: `key` orders events per partition, `eventId` lets consumers deduplicate. */
export interface PublishedEvent {
  readonly topic: string;
  readonly key: string;
  readonly eventId: string;
  readonly payload: unknown;
}

export interface EventPublisher {
  publish(event: PublishedEvent): Promise<void>;
}
