// The outbox store on real PostgreSQL: idempotent enqueue, skip-locked leased claims, and the relay to the bus.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Database } from '../../src/db/types';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { enqueueOutboxEvent } from '../../src/db/postgres/outbox';
import type { PgExecutor } from '../../src/db/postgres/executor';
import { silentLogger } from '../../src/log/logger';
import { InProcessBus, busSink, type BusMessage } from '../../src/events/bus';
import { createOutboxPublisher } from '../../src/events/outbox-publisher';
import { createOutboxRelay, type EventSink } from '../../src/events/relay';
import { createTestDatabase, type TestDatabase } from '../support/pg';

const event = (id: string, topic = 'reporting.performance.delivered') => ({ eventId: id, topic, key: `key-${id}`, payload: { event_id: id, n: id.length } });

describe('outbox store on PostgreSQL', () => {
  let tdb: TestDatabase;
  let exec: PgExecutor;
  let db: Database;
  /** A second pool on the same database: a second relay process. */
  let other: Database;

  beforeAll(async () => {
    tdb = await createTestDatabase(inject('pgUrl'));
    exec = createNodePgExecutor(tdb.url);
    db = createPostgresDatabase(exec, 'postgres');
    other = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
    await db.migrate();
  });
  // Each test starts from an empty outbox, whatever the one before left claimed.
  beforeEach(async () => exec.exec('TRUNCATE dist.outbox, dist.inbox'));
  afterAll(async () => {
    await db?.close();
    await other?.close();
    await tdb?.drop();
  });

  async function drain(): Promise<void> {
    for (;;) {
      const batch = await db.outbox.claimBatch(1000, 60_000);
      if (batch.length === 0) return;
      await db.outbox.markPublished(batch.map((r) => r.id));
    }
  }

  it('enqueue stores an event once per event_id and keeps its payload as JSON text', async () => {
    expect(await db.outbox.enqueue(event('idem-1'))).toBe(true);
    expect(await db.outbox.enqueue({ ...event('idem-1'), payload: { different: true } })).toBe(false);
    expect(await other.outbox.enqueue(event('idem-1'))).toBe(false);
    const [claimed, ...rest] = await db.outbox.claimBatch(10);
    expect(rest).toEqual([]);
    expect(claimed).toMatchObject({ eventId: 'idem-1', topic: 'reporting.performance.delivered', key: 'key-idem-1', attempts: 1 });
    expect(JSON.parse(claimed!.payload)).toEqual({ event_id: 'idem-1', n: 6 });
    await db.outbox.markPublished([claimed!.id]);
    expect(await db.outbox.enqueue(event('idem-1'))).toBe(false); // published events still dedupe
    expect((await db.outbox.lag()).unpublished).toBe(0);
  });

  it('enqueue inside a caller transaction exists exactly when that transaction commits', async () => {
    await expect(
      exec.transaction(async (tx) => {
        await enqueueOutboxEvent(tx, event('tx-rolled-back'));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await exec.transaction((tx) => enqueueOutboxEvent(tx, event('tx-committed')));
    const ids = (await db.outbox.claimBatch(10)).map((r) => r.eventId);
    expect(ids).toEqual(['tx-committed']);
  });

  it('refuses events no Kafka consumer could take', async () => {
    await expect(db.outbox.enqueue(event('bad-topic', 'reporting/performance/delivered'))).rejects.toThrow(/not a legal Kafka topic/);
    await expect(db.outbox.enqueue({ ...event('x'.repeat(101)) })).rejects.toThrow(/1–100 characters/);
  });

  it('two concurrent claimers never get the same row, and together get every row', async () => {
    const n = 300;
    for (let i = 0; i < n; i++) await db.outbox.enqueue(event(`race-${String(i).padStart(4, '0')}`));
    const claimedBy = async (store: Database) => {
      const got: number[] = [];
      for (;;) {
        const batch = await store.outbox.claimBatch(7, 60_000);
        if (batch.length === 0) return got;
        got.push(...batch.map((r) => r.id));
      }
    };
    // Four loops over two pools: two relays with two rounds in flight each.
    const results = await Promise.all([claimedBy(db), claimedBy(other), claimedBy(db), claimedBy(other)]);
    const all = results.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(n);
    expect(results.filter((r) => r.length > 0).length).toBeGreaterThan(1);
    await db.outbox.markPublished(all);
    expect(await db.outbox.claimBatch(10)).toEqual([]);
  });

  it('a claim whose lease ran out is claimed again (a relay that died), a failed one at once', async () => {
    await db.outbox.enqueue(event('lease-1'));
    const [first] = await db.outbox.claimBatch(10, 1000);
    expect(first!.attempts).toBe(1);
    expect(await other.outbox.claimBatch(10, 1000)).toEqual([]);
    await new Promise((r) => setTimeout(r, 1100));
    const [again] = await other.outbox.claimBatch(10, 60_000);
    expect(again).toMatchObject({ eventId: 'lease-1', attempts: 2 });

    await db.outbox.markFailed([again!.id], 'Kafka: connect ECONNREFUSED 127.0.0.1:9092');
    const lag = await db.outbox.lag();
    expect(lag).toMatchObject({ unpublished: 1, failing: 1 });
    expect(lag.oldestUnpublishedAgeMs).toBeGreaterThanOrEqual(1000);
    const [third] = await db.outbox.claimBatch(10);
    expect(third).toMatchObject({ eventId: 'lease-1', attempts: 3 });
    await db.outbox.markPublished([third!.id]);
    expect(await db.outbox.lag()).toEqual({ unpublished: 0, failing: 0, oldestUnpublishedAgeMs: null });
  });

  it('prunes published events only', async () => {
    await db.outbox.enqueue(event('prune-gone'));
    await drain();
    await db.outbox.enqueue(event('prune-kept'));
    const removed = await db.outbox.prunePublished(new Date(Date.now() + 60_000));
    expect(removed).toBe(1);
    expect((await db.outbox.claimBatch(10)).map((r) => r.eventId)).toEqual(['prune-kept']);
  });

  it('the inbox tells new, unfinished and done upstream events apart', async () => {
    expect(await db.outbox.receiveInbound('up-1', 'reporting.reports.generated')).toBe('new');
    expect(await other.outbox.receiveInbound('up-1', 'reporting.reports.generated')).toBe('unfinished');
    await db.outbox.finishInbound('up-1');
    expect(await db.outbox.receiveInbound('up-1', 'reporting.reports.generated')).toBe('done');
  });

  it('the relay publishes every event to the bus once, and keeps events while its sink fails', async () => {
    const bus = new InProcessBus();
    const seen: BusMessage[] = [];
    bus.subscribe('reporting.risk.delivered', (m) => void seen.push(m));
    let down = true;
    const flaky: EventSink = {
      name: 'flaky bus',
      async send(batch) {
        if (down) throw new Error('sink unavailable');
        await busSink(bus).send(batch);
      },
      async close() {},
    };
    const relay = createOutboxRelay({ outbox: db.outbox, sink: flaky, log: silentLogger(), pollMs: 20, batchSize: 5, maxBackoffMs: 100 });
    const publisher = createOutboxPublisher(db.outbox, { onEnqueued: () => relay.nudge() });
    relay.start();
    try {
      for (let i = 0; i < 12; i++) await publisher.publish(event(`bus-${i}`, 'reporting.risk.delivered'));
      await publisher.publish(event('bus-3', 'reporting.risk.delivered'));
      await waitFor(async () => (await db.outbox.lag()).failing > 0);
      expect(relay.healthy).toBe(false);
      expect(seen).toEqual([]);
      down = false;
      await waitFor(async () => seen.length >= 12 && (await db.outbox.lag()).unpublished === 0);
      expect(relay.healthy).toBe(true);
      expect(seen.map((m) => m.eventId)).toEqual(Array.from({ length: 12 }, (_, i) => `bus-${i}`));
      expect(seen[0]).toEqual({ topic: 'reporting.risk.delivered', key: 'key-bus-0', eventId: 'bus-0', payload: { event_id: 'bus-0', n: 5 } });
    } finally {
      await relay.stop();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
