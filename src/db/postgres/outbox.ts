// The outbox store on PostgreSQL: idempotent enqueue, leased claims with SKIP LOCKED.
import type { OutboxEventInput, OutboxRecord, OutboxStore } from '../outbox';
import { DEFAULT_LEASE_MS, clampClaim, outboxRowOf, storedError } from '../outbox';
import type { PgExecutor, PgSession, Row } from './executor';

const recordOf = (r: Row): OutboxRecord => ({
  id: Number(r.id),
  eventId: String(r.event_id),
  topic: String(r.topic),
  key: String(r.key),
  payload: String(r.payload),
  createdAt: new Date(r.created_at as string | Date),
  attempts: Number(r.attempts),
});

const placeholders = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');

/**
 * Enqueues inside the caller's transaction: the event exists exactly when the change it announces committed.
 * Dialect code that records a change (a delivery's status, a load) calls this with its own `tx`.
 */
export async function enqueueOutboxEvent(s: PgSession, event: OutboxEventInput): Promise<boolean> {
  const row = outboxRowOf(event);
  const inserted = await s.query(
    'INSERT INTO dist.outbox (event_id, topic, key, payload) VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING RETURNING id',
    [row.eventId, row.topic, row.key, row.payload],
  );
  return inserted.length > 0;
}

export function createPostgresOutboxStore(exec: PgExecutor): OutboxStore {
  return {
    enqueue: (event) => enqueueOutboxEvent(exec, event),

    async claimBatch(limit, leaseMs = DEFAULT_LEASE_MS) {
      // SKIP LOCKED: a concurrent claimer passes over rows another is claiming right now instead of waiting;
      // the lease then keeps them apart after this statement commits.
      const rows = await exec.query(
        `UPDATE dist.outbox SET claimed_until = clock_timestamp() + $2 * interval '1 millisecond', attempts = attempts + 1
          WHERE id IN (
            SELECT id FROM dist.outbox
             WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
             ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING id, event_id, topic, key, payload, created_at, attempts`,
        [clampClaim(limit), Math.max(Math.trunc(leaseMs), 1)],
      );
      return rows.map(recordOf).sort((a, b) => a.id - b.id);
    },

    async markPublished(ids) {
      if (ids.length === 0) return;
      await exec.query(
        `UPDATE dist.outbox SET published_at = COALESCE(published_at, now()), claimed_until = NULL, last_error = NULL WHERE id IN (${placeholders(ids.length)})`,
        [...ids],
      );
    },

    async markFailed(ids, error) {
      if (ids.length === 0) return;
      await exec.query(
        `UPDATE dist.outbox SET claimed_until = NULL, last_error = $1 WHERE published_at IS NULL AND id IN (${placeholders(ids.length, 2)})`,
        [storedError(error), ...ids],
      );
    },

    async lag() {
      const [r] = await exec.query<{ n: string; failing: string; age_ms: string | number | null }>(
        `SELECT count(*) AS n, count(last_error) AS failing,
                floor(extract(epoch FROM now() - min(created_at)) * 1000) AS age_ms
           FROM dist.outbox WHERE published_at IS NULL`,
      );
      return { unpublished: Number(r.n), failing: Number(r.failing), oldestUnpublishedAgeMs: r.age_ms === null ? null : Math.max(0, Number(r.age_ms)) };
    },

    async prunePublished(before) {
      const rows = await exec.query('DELETE FROM dist.outbox WHERE published_at IS NOT NULL AND published_at < $1 RETURNING id', [before]);
      return rows.length;
    },

    async receiveInbound(eventId, topic) {
      const inserted = await exec.query('INSERT INTO dist.inbox (event_id, topic) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING RETURNING event_id', [eventId, topic]);
      if (inserted.length > 0) return 'new';
      const [row] = await exec.query<{ handled_at: Date | null }>('SELECT handled_at FROM dist.inbox WHERE event_id = $1', [eventId]);
      return row?.handled_at ? 'done' : 'unfinished';
    },

    async finishInbound(eventId) {
      await exec.query('UPDATE dist.inbox SET handled_at = COALESCE(handled_at, now()) WHERE event_id = $1', [eventId]);
    },
  };
}
