// The outbox relay: claims unpublished events, publishes them to Kafka or the in-process bus, marks them published.
//
// Guarantee: at least once, deduplicated by event_id. An event is marked published only after the sink
// confirmed it (Kafka: acks from all in-sync replicas), so a Kafka outage, a crash or a lost acknowledgement
// delays an event and never loses it; the price is that the same event can arrive twice (sent, then the
// acknowledgement or the mark was lost), so consumers deduplicate on event_id (the `event_id` header and field).
import type { Logger } from '../log/logger';
import type { OutboxLag, OutboxRecord, OutboxStore } from '../db/outbox';
import { DEFAULT_LEASE_MS } from '../db/outbox';

/** Where the relay sends events: Kafka (kafka.ts) or the in-process bus (bus.ts). Rejects unless all arrived. */
export interface EventSink {
  readonly name: string;
  send(batch: readonly OutboxRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface RelayOptions {
  outbox: OutboxStore;
  sink: EventSink;
  log: Logger;
  /** Idle poll interval; `nudge()` wakes the relay earlier. */
  pollMs: number;
  batchSize: number;
  /** How long a claim stays ours: longer than the slowest successful send. */
  leaseMs?: number;
  /** Ceiling of the backoff while the sink keeps failing (Kafka away). */
  maxBackoffMs?: number;
  /** Published events older than this are deleted (once an hour); 0 keeps them. */
  retentionMs?: number;
  /** Told the outbox lag every few seconds (the metrics gauge), also while the sink is failing. */
  onLag?: (lag: OutboxLag) => void;
}

export interface OutboxRelay {
  start(): void;
  /** Finishes the batch in flight, then stops. */
  stop(): Promise<void>;
  /** Looks for events now (a publisher in this process just stored one). */
  nudge(): void;
  /** One claim → send → mark round; the number of events published. Throws what the sink threw. */
  runOnce(): Promise<number>;
  /** False while the sink is failing. */
  readonly healthy: boolean;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;
const LAG_EVERY_MS = 5_000;

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createOutboxRelay(opts: RelayOptions): OutboxRelay {
  const { outbox, sink, log } = opts;
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let pending = false;
  let failures = 0;
  let lastPrune = 0;
  let lastLag = 0;

  async function runOnce(): Promise<number> {
    const batch = await outbox.claimBatch(opts.batchSize, leaseMs);
    if (batch.length === 0) return 0;
    try {
      await sink.send(batch);
    } catch (err) {
      // Released at once rather than left to the lease, so the retry after the backoff finds them.
      await outbox.markFailed(batch.map((r) => r.id), `${sink.name}: ${messageOf(err)}`).catch(() => undefined);
      throw err;
    }
    await outbox.markPublished(batch.map((r) => r.id));
    return batch.length;
  }

  /**
   * Waits `ms` unless stopped, or nudged when `wakeable`. A backoff is not wakeable: while Kafka is away every
   * new event would otherwise cut it short.
   */
  function pause(ms: number, wakeable: boolean): Promise<void> {
    if (pending && wakeable) {
      pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = () => {
        if (wakeable || !running) done();
        else pending = true;
      };
    });
  }

  async function reportLag(): Promise<void> {
    if (!opts.onLag || Date.now() - lastLag < LAG_EVERY_MS) return;
    lastLag = Date.now();
    opts.onLag(await outbox.lag());
  }

  async function prune(): Promise<void> {
    if (!opts.retentionMs || Date.now() - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = Date.now();
    const removed = await outbox.prunePublished(new Date(Date.now() - opts.retentionMs));
    if (removed > 0) log.debug({ removed }, 'pruned published outbox events');
  }

  async function run(): Promise<void> {
    while (running) {
      let published = 0;
      try {
        published = await runOnce();
        if (failures > 0) log.info({ sink: sink.name, failedAttempts: failures }, `event relay: ${sink.name} reachable again; publishing the backlog`);
        failures = 0;
      } catch (err) {
        failures++;
        // Logged when the outage starts and then every 10th attempt: a long outage must not flood the log.
        if (failures === 1 || failures % 10 === 0) {
          const lag = await outbox.lag().catch(() => null);
          log.warn({ sink: sink.name, err: messageOf(err), failedAttempts: failures, lag }, `event relay: a round failed (${sink.name} or the database); events stay in the outbox and are retried with backoff`);
        }
      }
      // Housekeeping failures are not publishing failures: the next round tries again.
      if (failures === 0) await prune().catch((err: unknown) => log.debug({ err: messageOf(err) }, 'pruning the outbox failed'));
      await reportLag().catch(() => undefined);
      if (!running) break;
      // A full batch means more is waiting: go on at once. Otherwise poll, or back off while failing.
      if (failures === 0 && published >= opts.batchSize) continue;
      const delay = failures === 0 ? opts.pollMs : Math.min(opts.pollMs * 2 ** Math.min(failures, 16), maxBackoffMs);
      await pause(delay, failures === 0);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      loop = null;
    },
    nudge() {
      if (wake) wake();
      else pending = true;
    },
    runOnce,
    get healthy() {
      return failures === 0;
    },
  };
}
