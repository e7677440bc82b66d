// The outbox store on SQL Server: its statements as pure generators (values as @params), and the store that runs them.
import type sql from 'mssql';
import type { OutboxEventInput, OutboxRecord, OutboxStore } from '../outbox';
import { DEFAULT_LEASE_MS, clampClaim, outboxRowOf, storedError } from '../outbox';
import { rowsOf, run, type Row, type Runner } from './client';
import { bigintParam as bigint, datetimeParam as datetime, intParam as int, textParam as text, type Param, type Statement } from './statement';

/**
 * Inserts unless the event_id exists, in one statement: UPDLOCK + HOLDLOCK hold the key range from the check to
 * the insert, so two racing enqueues of one id insert once (an IF NOT EXISTS before it would be two statements).
 */
export function enqueueOutboxSql(event: OutboxEventInput): Statement {
  const row = outboxRowOf(event);
  return {
    text:
      'INSERT INTO dist.outbox (event_id, topic, [key], payload) OUTPUT inserted.id\n' +
      'SELECT @event_id, @topic, @key, @payload WHERE NOT EXISTS (SELECT 1 FROM dist.outbox WITH (UPDLOCK, HOLDLOCK) WHERE event_id = @event_id)',
    params: { event_id: text(row.eventId), topic: text(row.topic), key: text(row.key), payload: text(row.payload) },
  };
}

/**
 * READPAST skips rows another claimer holds locked instead of waiting (SQL Server's SKIP LOCKED); UPDLOCK +
 * ROWLOCK lock what this one takes; the lease keeps them apart after the statement commits.
 */
export function claimBatchSql(limit: number, leaseMs: number): Statement {
  return {
    text: `DECLARE @now datetime2 = SYSUTCDATETIME();
WITH claimable AS (
  SELECT TOP (@limit) id, event_id, topic, [key], payload, created_at, attempts, claimed_until
    FROM dist.outbox WITH (UPDLOCK, READPAST, ROWLOCK)
   WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < @now)
   ORDER BY id
)
UPDATE claimable SET claimed_until = DATEADD(millisecond, @lease_ms, @now), attempts = attempts + 1
OUTPUT inserted.id, inserted.event_id, inserted.topic, inserted.[key], inserted.payload, inserted.created_at, inserted.attempts;`,
    params: { limit: int(clampClaim(limit)), lease_ms: int(Math.max(Math.trunc(leaseMs), 1)) },
  };
}

function idParams(ids: readonly number[]): { list: string; params: Record<string, Param> } {
  const params: Record<string, Param> = {};
  ids.forEach((id, i) => (params[`id${i}`] = bigint(id)));
  return { list: ids.map((_, i) => `@id${i}`).join(', '), params };
}

export function markPublishedSql(ids: readonly number[]): Statement {
  const { list, params } = idParams(ids);
  return {
    text: `UPDATE dist.outbox SET published_at = COALESCE(published_at, SYSUTCDATETIME()), claimed_until = NULL, last_error = NULL WHERE id IN (${list})`,
    params,
  };
}

export function markFailedSql(ids: readonly number[], error: string): Statement {
  const { list, params } = idParams(ids);
  return {
    text: `UPDATE dist.outbox SET claimed_until = NULL, last_error = @error WHERE published_at IS NULL AND id IN (${list})`,
    params: { ...params, error: text(storedError(error)) },
  };
}

export const outboxLagSql = `SELECT COUNT_BIG(*) AS n, COUNT_BIG(last_error) AS failing,
       DATEDIFF_BIG(millisecond, MIN(created_at), SYSUTCDATETIME()) AS age_ms
  FROM dist.outbox WHERE published_at IS NULL`;

export function prunePublishedSql(before: Date): Statement {
  return { text: 'DELETE FROM dist.outbox WHERE published_at IS NOT NULL AND published_at < @before', params: { before: datetime(before) } };
}

/**
 * Inserts the inbox row unless present (one statement, as in enqueue). First result set: a row when it was new;
 * second: the stored row's state.
 */
export function receiveInboundSql(eventId: string, topic: string): Statement {
  return {
    text: `INSERT INTO dist.inbox (event_id, topic) OUTPUT N'new' AS state
SELECT @event_id, @topic WHERE NOT EXISTS (SELECT 1 FROM dist.inbox WITH (UPDLOCK, HOLDLOCK) WHERE event_id = @event_id);
SELECT CASE WHEN handled_at IS NULL THEN N'unfinished' ELSE N'done' END AS state FROM dist.inbox WHERE event_id = @event_id;`,
    params: { event_id: text(eventId), topic: text(topic) },
  };
}

export function finishInboundSql(eventId: string): Statement {
  return { text: 'UPDATE dist.inbox SET handled_at = COALESCE(handled_at, SYSUTCDATETIME()) WHERE event_id = @event_id', params: { event_id: text(eventId) } };
}

export const recordOf = (r: Row): OutboxRecord => ({
  id: Number(r.id),
  eventId: String(r.event_id),
  topic: String(r.topic),
  key: String(r.key),
  payload: String(r.payload),
  // tedious reads datetime2 as UTC (useUTC defaults to true), which is how the columns are written.
  createdAt: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
  attempts: Number(r.attempts),
});

/** Enqueues inside the caller's transaction (dialect code that records the change the event announces). */
export async function enqueueOutboxEvent(tx: Runner, event: OutboxEventInput): Promise<boolean> {
  return (await rowsOf(tx, enqueueOutboxSql(event))).length > 0;
}

export function createMssqlOutboxStore(pool: sql.ConnectionPool): OutboxStore {
  return {
    enqueue: (event) => enqueueOutboxEvent(pool, event),
    async claimBatch(limit, leaseMs = DEFAULT_LEASE_MS) {
      return (await rowsOf(pool, claimBatchSql(limit, leaseMs))).map(recordOf).sort((a, b) => a.id - b.id);
    },
    async markPublished(ids) {
      if (ids.length > 0) await run(pool, markPublishedSql(ids));
    },
    async markFailed(ids, error) {
      if (ids.length > 0) await run(pool, markFailedSql(ids, error));
    },
    async lag() {
      const [r] = await rowsOf(pool, outboxLagSql);
      const age = r?.age_ms;
      return {
        unpublished: Number(r?.n ?? 0),
        failing: Number(r?.failing ?? 0),
        oldestUnpublishedAgeMs: age === null || age === undefined ? null : Math.max(0, Number(age)),
      };
    },
    async prunePublished(before) {
      return (await run(pool, prunePublishedSql(before))).rowsAffected[0] ?? 0;
    },
    async receiveInbound(eventId, topic) {
      const sets = (await run(pool, receiveInboundSql(eventId, topic))).recordsets as Row[][];
      const state = (sets[0]?.length ?? 0) > 0 ? 'new' : sets[1]?.[0]?.state;
      if (state !== 'new' && state !== 'unfinished' && state !== 'done') throw new Error(`inbox answered ${String(state)} for event ${eventId}`);
      return state;
    },
    async finishInbound(eventId) {
      await run(pool, finishInboundSql(eventId));
    },
  };
}
