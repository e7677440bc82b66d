// The outbox store: the port the event relay and publishers use (dist.outbox, dist.inbox). Each dialect owns its SQL.

/** An event as a publisher hands it over; `payload` is stored as JSON text. */
export interface OutboxEventInput {
  readonly eventId: string;
  readonly topic: string;
  readonly key: string;
  readonly payload: unknown;
}

/** A claimed, not yet published row. `payload` is the stored JSON text, sent on byte for byte. */
export interface OutboxRecord {
  id: number;
  eventId: string;
  topic: string;
  key: string;
  payload: string;
  createdAt: Date;
  /** Claims so far, this one included. */
  attempts: number;
}

/** How far the relay is behind: what an operator alerts on while Kafka is away. */
export interface OutboxLag {
  unpublished: number;
  /** Age of the oldest unpublished event by the database clock; null when nothing waits. */
  oldestUnpublishedAgeMs: number | null;
  /** Unpublished events whose last attempt failed. */
  failing: number;
}

/** What the inbox knows of an upstream event: never seen, seen but its work not confirmed, or done. */
export type InboundState = 'new' | 'unfinished' | 'done';

export interface OutboxStore {
  /**
   * Stores the event unless one with the same event_id exists (then nothing changes); true when stored.
   * Dialect code that changes something else in a transaction enqueues through the dialect's own helper
   * (`enqueueOutboxEvent` in postgres/outbox.ts, `enqueueOutboxEvent` / `enqueueOutboxSql` in mssql/outbox.ts) inside that transaction.
   */
  enqueue(event: OutboxEventInput): Promise<boolean>;
  /**
   * Claims up to `limit` unpublished events, oldest first, for `leaseMs`: concurrent claimers skip locked and
   * leased rows, so no two get the same row while the lease lasts. A claim that is neither published nor failed
   * before the lease ends is claimed again (at least once).
   */
  claimBatch(limit: number, leaseMs?: number): Promise<OutboxRecord[]>;
  markPublished(ids: readonly number[]): Promise<void>;
  /** Records the error and releases the claim, so the next poll tries again. */
  markFailed(ids: readonly number[], error: string): Promise<void>;
  lag(): Promise<OutboxLag>;
  /** Deletes events published before `before`; returns how many. */
  prunePublished(before: Date): Promise<number>;

  /** Notes an upstream event (inbox); answers what was known of it before. Idempotent. */
  receiveInbound(eventId: string, topic: string): Promise<InboundState>;
  /** Marks the upstream event's work done, so a redelivery is skipped. */
  finishInbound(eventId: string): Promise<void>;
}

export const DEFAULT_LEASE_MS = 60_000;
/** Longest claim: a bigger batch is a mistake in the caller, not a reason for one huge statement. */
export const MAX_CLAIM = 1000;

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

/** The checked row to insert; throws on an event no consumer could take (Kafka's topic rules, column sizes). */
export function outboxRowOf(event: OutboxEventInput): { eventId: string; topic: string; key: string; payload: string } {
  if (!event.eventId || event.eventId.length > 100) throw new Error(`event id ${JSON.stringify(event.eventId)} must be 1–100 characters`);
  if (!TOPIC.test(event.topic) || event.topic === '.' || event.topic === '..') {
    throw new Error(`topic ${JSON.stringify(event.topic)} is not a legal Kafka topic name ([A-Za-z0-9._-], at most 249 characters)`);
  }
  if (event.key.length > 500) throw new Error(`event ${event.eventId}: key longer than 500 characters`);
  const payload = JSON.stringify(event.payload);
  if (payload === undefined) throw new Error(`event ${event.eventId}: payload is not JSON-serialisable`);
  return { eventId: event.eventId, topic: event.topic, key: event.key, payload };
}

export const clampClaim = (limit: number) => Math.min(Math.max(Math.trunc(limit), 1), MAX_CLAIM);

/** Error text as stored: long stack traces are cut, the first part says what went wrong. */
export const storedError = (error: string) => error.slice(0, 4000);
