// The SQL Server outbox store without a server: its migration mirrors PostgreSQL's, its statements bind every
// parameter and skip locked rows, and the store reads what they return (against a scripted pool).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as q from '../../src/db/mssql/outbox';
import { MAX_CLAIM } from '../../src/db/outbox';
import { expectParamsConsistent } from './mssql/statement-check';
import { ScriptedTransaction } from './mssql/scripted-transaction';
import type sql from 'mssql';

/** A pool whose one request answers with several result sets (the scripted helper answers one). */
function poolAnswering(recordsets: readonly (readonly Record<string, unknown>[])[]): sql.ConnectionPool {
  const request = { input: () => request, query: async () => ({ recordsets, recordset: recordsets[0] ?? [], rowsAffected: [] }) };
  return { request: () => request } as unknown as sql.ConnectionPool;
}

const root = path.resolve(__dirname, '../../sql');
const read = (dialect: string, file: string) => fs.readFileSync(path.join(root, dialect, file), 'utf8');

function columnsOf(sql: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of sql.replace(/--[^\n]*/g, '').matchAll(/CREATE TABLE\s+([\w.]+)\s*\(([\s\S]*?)\n\);/g)) {
    out.set(m[1]!, m[2]!.split('\n').map((l) => l.trim().split(/\s+/)[0]!.replace(/[[\]]/g, '')).filter((c) => c && c !== 'CONSTRAINT'));
  }
  return out;
}

const event = { eventId: 'evt-1', topic: 'reporting.performance.delivered', key: 'portfolio_001', payload: { event_id: 'evt-1', n: 1 } };

describe('sql/mssql/004_outbox.sql', () => {
  const ms = read('mssql', '004_outbox.sql');
  const pg = read('postgres', '004_outbox.sql');

  it('creates the same tables and columns as the PostgreSQL migration, as one batch without GO', () => {
    expect(columnsOf(ms)).toEqual(columnsOf(pg));
    expect([...columnsOf(ms).keys()]).toEqual(['dist.outbox', 'dist.inbox']);
    expect(columnsOf(ms).get('dist.outbox')).toEqual(['id', 'event_id', 'topic', 'key', 'payload', 'created_at', 'claimed_until', 'published_at', 'attempts', 'last_error']);
    expect(ms).not.toMatch(/^\s*GO\s*$/im);
  });

  it('makes event_id unique and quotes the reserved word key', () => {
    expect(ms).toContain('CONSTRAINT uq_outbox_event_id UNIQUE (event_id)');
    expect(ms).toMatch(/\[key\]\s+nvarchar\(500\) NOT NULL/);
  });

  it('the down migrations drop the same tables', () => {
    const drops = (sql: string) => [...sql.matchAll(/DROP TABLE IF EXISTS ([\w.]+);/g)].map((m) => m[1]);
    expect(drops(read('mssql', '004_outbox.down.sql'))).toEqual(['dist.inbox', 'dist.outbox']);
    expect(drops(read('mssql', '004_outbox.down.sql'))).toEqual(drops(read('postgres', '004_outbox.down.sql')));
  });
});

describe('generated statements', () => {
  const statements = {
    enqueue: q.enqueueOutboxSql(event),
    claim: q.claimBatchSql(25, 60_000),
    published: q.markPublishedSql([3, 4, 5]),
    failed: q.markFailedSql([7], 'Kafka: connect ECONNREFUSED'),
    prune: q.prunePublishedSql(new Date('2025-06-21T00:00:00Z')),
    receive: q.receiveInboundSql('up-1', 'reporting.reports.generated'),
    finish: q.finishInboundSql('up-1'),
  };

  it.each(Object.entries(statements))('%s binds every value it reads as a parameter', (_, stmt) => {
    expectParamsConsistent(stmt);
  });

  it('never puts an event value in the statement text', () => {
    const text = Object.values(statements).map((s) => s.text).join('\n');
    for (const value of ['evt-1', 'portfolio_001', 'ECONNREFUSED', 'up-1', 'reporting.performance.delivered']) expect(text).not.toContain(value);
    expect(statements.enqueue.params.payload).toEqual({ type: 'nvarchar', value: '{"event_id":"evt-1","n":1}' });
  });

  it('enqueue inserts only when the event_id is absent, under a key-range lock', () => {
    expect(statements.enqueue.text).toMatch(/WHERE NOT EXISTS \(SELECT 1 FROM dist\.outbox WITH \(UPDLOCK, HOLDLOCK\) WHERE event_id = @event_id\)/);
    expect(statements.enqueue.text).toContain('OUTPUT inserted.id');
  });

  it('claims skip rows other claimers hold (READPAST) and lock what they take, oldest first, leased', () => {
    expect(statements.claim.text).toContain('WITH (UPDLOCK, READPAST, ROWLOCK)');
    expect(statements.claim.text).toMatch(/ORDER BY id/);
    expect(statements.claim.text).toMatch(/published_at IS NULL AND \(claimed_until IS NULL OR claimed_until < @now\)/);
    expect(statements.claim.text).toContain('DATEADD(millisecond, @lease_ms, @now)');
    expect(statements.claim.params).toEqual({ limit: { type: 'int', value: 25 }, lease_ms: { type: 'int', value: 60_000 } });
    expect(q.claimBatchSql(1_000_000, 10).params.limit!.value).toBe(MAX_CLAIM);
    expect(q.claimBatchSql(0, 10).params.limit!.value).toBe(1);
  });

  it('marks by id, one parameter per id', () => {
    expect(statements.published.text).toContain('WHERE id IN (@id0, @id1, @id2)');
    expect(statements.published.params.id2).toEqual({ type: 'bigint', value: 5 });
    expect(statements.failed.text).toContain('published_at IS NULL AND id IN (@id0)');
  });

  it('refuses an illegal topic before any SQL is made', () => {
    expect(() => q.enqueueOutboxSql({ ...event, topic: 'reporting/performance/delivered' })).toThrow(/not a legal Kafka topic/);
  });
});

describe('the store on a scripted pool', () => {
  it('reads claimed rows in id order and skips empty marks', async () => {
    const script = new ScriptedTransaction((text) =>
      text.includes('READPAST')
        ? {
            recordset: [
              { id: '12', event_id: 'b', topic: 't', key: 'k', payload: '{}', created_at: new Date('2025-06-21T10:00:01Z'), attempts: 1 },
              { id: '11', event_id: 'a', topic: 't', key: 'k', payload: '{"x":1}', created_at: new Date('2025-06-21T10:00:00Z'), attempts: 2 },
            ],
          }
        : {},
    );
    const store = q.createMssqlOutboxStore(script.pool);
    const batch = await store.claimBatch(10);
    expect(batch.map((r) => [r.id, r.eventId, r.attempts])).toEqual([[11, 'a', 2], [12, 'b', 1]]);
    expect(batch[0]!.createdAt.toISOString()).toBe('2025-06-21T10:00:00.000Z');
    await store.markPublished([]);
    await store.markFailed([], 'x');
    expect(script.statements).toHaveLength(1);
  });

  it('reads the inbox state from the two result sets: inserted now, or the stored row', async () => {
    for (const [sets, expected] of [
      [[[{ state: 'new' }], [{ state: 'unfinished' }]], 'new'],
      [[[], [{ state: 'unfinished' }]], 'unfinished'],
      [[[], [{ state: 'done' }]], 'done'],
    ] as const) {
      expect(await q.createMssqlOutboxStore(poolAnswering(sets)).receiveInbound('up-1', 'reporting.reports.generated')).toBe(expected);
    }
  });

  it('answers the lag in numbers', async () => {
    const script = new ScriptedTransaction(() => ({ recordset: [{ n: '3', failing: '1', age_ms: '1500' }] }));
    expect(await q.createMssqlOutboxStore(script.pool).lag()).toEqual({ unpublished: 3, failing: 1, oldestUnpublishedAgeMs: 1500 });
  });

  it('an empty outbox has no oldest age', async () => {
    const script = new ScriptedTransaction(() => ({ recordset: [{ n: 0, failing: 0, age_ms: null }] }));
    expect(await q.createMssqlOutboxStore(script.pool).lag()).toEqual({ unpublished: 0, failing: 0, oldestUnpublishedAgeMs: null });
  });
});
