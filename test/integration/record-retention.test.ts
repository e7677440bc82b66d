// Retention of the growing ledgers on real PostgreSQL (and SQL Server when MSSQL_URL is set): old and new rows of
// every kind are seeded, the cleanup's pruneRecords activity runs, and what stayed and what went is read back —
// never what a revert or an audit needs.
import sql from 'mssql';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCleanupActivities, type PrunedRecords } from '../../activities/cleanup';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { RecordRetentionDays } from '../../src/db/record-retention';
import type { Database } from '../../src/db/types';
import { silentLogger } from '../../src/log/logger';
import { parseMssqlUrl } from '../../src/db/mssql/url';
import { createTestDatabase } from '../support/pg';
import { createMssqlTestDatabase } from '../support/mssql';
import { mockActivityEnv, runActivity } from '../support/instrument-sync-steps';

type Param = string | number | Date | null;
/** Plain SQL on the target's own database: `$1`… parameters on both (SQL Server gets them as @p1…). */
type Query = (text: string, params?: Param[]) => Promise<Record<string, unknown>[]>;

const targets = [
  {
    name: 'postgres', skip: false,
    async open(): Promise<{ db: Database; query: Query; close(): Promise<void> }> {
      const tdb = await createTestDatabase(inject('pgUrl'));
      const db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
      const client = new Client({ connectionString: tdb.url });
      await client.connect();
      return { db, query: async (text, params = []) => (await client.query(text, params)).rows, close: async () => { await client.end(); await db.close(); await tdb.drop(); } };
    },
  },
  {
    name: 'mssql', skip: !process.env.MSSQL_URL,
    async open(): Promise<{ db: Database; query: Query; close(): Promise<void> }> {
      const tdb = await createMssqlTestDatabase(process.env.MSSQL_URL!);
      const { createMssqlDatabase } = await import('../../src/db/mssql');
      const db = await createMssqlDatabase(tdb.url);
      const pool = await new sql.ConnectionPool(parseMssqlUrl(tdb.url)).connect();
      const query: Query = async (text, params = []) => {
        const req = pool.request();
        params.forEach((v, i) => req.input(`p${i + 1}`, v));
        return (await req.query(text.replace(/\$(\d+)/g, '@p$1'))).recordset ?? [];
      };
      return { db, query, close: async () => { await pool.close(); await db.close(); await tdb.drop(); } };
    },
  },
];

const ago = (days: number) => new Date(Date.now() - days * 24 * 60 * 60 * 1000);

let db: Database;
let query: Query;

function prune(records: RecordRetentionDays): Promise<PrunedRecords> {
  const acts = createCleanupActivities({ db, log: silentLogger(), dropRoot: '/nonexistent', retention: { archiveDays: 30, bkpDays: 30, records } });
  return runActivity(mockActivityEnv(), acts.pruneRecords);
}

async function load(id: string, table: string, mode: string, status: string, finishedDaysAgo: number, filePath = `/drop/${id}.csv`): Promise<void> {
  // started a minute before it finished; ids sort in seeding order
  const finished = ago(finishedDaysAgo);
  await query(
    `INSERT INTO ref.loads (load_id, target_schema, target_table, staging_schema, staging_table, mode, file_path, status, started_at, finished_at)
     VALUES ($1, 'data', $2, 'data', $2, $3, $4, $5, $6, $7)`,
    [id, table, mode, filePath, status, new Date(finished.getTime() - 60_000), status === 'loading' ? null : finished],
  );
}
const invalid = (source: string, ref: string, daysAgo: number) =>
  query(`INSERT INTO ref.invalid_records (source, source_ref, errors, created_at) VALUES ($1, $2, '["bad"]', $3)`, [source, ref, ago(daysAgo)]);
const syncRun = (id: string, status: string, startedDaysAgo: number, applied: boolean) =>
  query(
    `INSERT INTO ref.instrument_sync_runs (run_id, workflow_id, "trigger", source, status, started_at, applied_at) VALUES ($1, 'instrument-sync', 'schedule', 'url', $2, $3, $4)`,
    [id, status, ago(startedDaysAgo), applied ? ago(startedDaysAgo) : null],
  );
const tracking = (path: string, status: string, daysAgo: number) =>
  query(`INSERT INTO ref.file_monitor_tracking (file_path, file_name, status, created_at) VALUES ($1, $1, $2, $3)`, [path, status, ago(daysAgo)]);
const delivery = (id: string, reportId: string, status: string, daysAgo: number) =>
  query(
    `INSERT INTO dist.delivery_history (delivery_id, subscription_id, subscriber_id, report_id, report_type, channel, channel_id, status, payload, workflow_id, created_at, updated_at)
     VALUES ($1, 'sub', 'subscriber', $2, 'REFERENCE_DATA', 'API', 'ch', $3, '{}', $4, $5, $5)`,
    [id, reportId, status, `delivery:${id}`, ago(daysAgo)],
  );
const notification = (id: string, daysAgo: number) =>
  query(`INSERT INTO dist.notifications (id, severity, report_id, report_type, title, body, created_at) VALUES ($1, 'info', 'r', 'REFERENCE_DATA', 't', '{}', $2)`, [id, ago(daysAgo)]);

const operatorNotification = async (id: string, daysAgo: number) => {
  await db.notifications.saveNotification({ id, at: ago(daysAgo).toISOString(), kind: 'file.failed', severity: 'warning', title: 't', message: 'm', refs: {} });
  await query('UPDATE ref.operator_notifications SET created_at = $1 WHERE id = $2', [ago(daysAgo), id]);
};

const ids = async (q: string) => (await query(q)).map((r) => String(r.id)).sort();

describe.each(targets)('ledger retention on $name', ({ skip, open }) => {
  let close: () => Promise<void> = async () => undefined;
  afterAll(async () => close());
  beforeAll(async () => {
    if (skip) return;
    ({ db, query, close } = await open());
    await db.migrate();
    // data.t1: three fullloads, an append after the last, an aborted and a reverted load, and one still loading.
    await load('l1-full', 't1', 'fullload', 'loaded', 420);
    await load('l2-full', 't1', 'fullload', 'loaded', 410);
    await load('l3-full', 't1', 'fullload', 'loaded', 405);
    await load('l4-append', 't1', 'append', 'loaded', 402);
    await load('l5-aborted', 't1', 'append', 'aborted', 401);
    await load('l6-reverted', 't1', 'append', 'reverted', 400);
    await load('l7-loading', 't1', 'append', 'loading', 1);
    // data.t2: its only (and so latest) load, aborted long ago.
    await load('m1-only', 't2', 'fullload', 'aborted', 500);

    await invalid('file', 'l1-full', 100);
    await invalid('file', 'l1-full', 10);
    await invalid('file', 'l4-append', 100);
    await invalid('file', 'l5-aborted', 100);
    await invalid('file', 'gone-load', 100);
    await invalid('instrument_sync', 's-latest', 100);
    await invalid('instrument_sync', 's-old', 100);
    await invalid('instrument_sync', 's-running', 100);

    await syncRun('s-old', 'succeeded', 420, true);
    await syncRun('s-latest', 'succeeded', 400, true);
    await syncRun('s-failed', 'failed', 399, false);
    await syncRun('s-timed-out', 'timed_out', 398, false);
    await syncRun('s-running', 'running', 397, false);
    await syncRun('s-recent', 'failed', 10, false);

    await tracking('/drop/l3-full.csv', 'loaded', 405);
    await tracking('/drop/l1-full.csv', 'loaded', 420);
    await tracking('/drop/bad.csv', 'error', 400);
    await tracking('/drop/in-flight.csv', 'loading', 400);
    await tracking('/drop/recent.csv', 'loaded', 10);

    await delivery('d1-delivered', 'rep-1', 'delivered', 200);
    await delivery('d2-failed', 'rep-1', 'failed', 200);
    await delivery('d3-retrying', 'rep-1', 'retrying', 200);
    await delivery('d4-file-kept', 'rep-2', 'delivered', 200);
    await delivery('d5-recent', 'rep-1', 'delivered', 10);
    // rep-2's delivered copy is still on disk: the delivered-file sweep judges it by its delivery.
    await db.retention.recordDeliveryFile({ path: '/state/rep-2.csv.gpg', kind: 'encrypted-copy', reportId: 'rep-2', deliveryId: 'd4-file-kept', bytes: 10 });

    await notification('n1-old', 100);
    await notification('n2-new', 10);
    await operatorNotification('o1-old', 100);
    await operatorNotification('o2-new', 10);
  });

  it.skipIf(skip)('0 days keeps every row of every kind', async () => {
    const none = await prune({ loads: 0, invalidRecords: 0, tracking: 0, syncRuns: 0, deliveries: 0, notifications: 0, operatorNotifications: 0 });
    expect(none).toEqual({});
    expect(await ids('SELECT load_id AS id FROM ref.loads')).toHaveLength(8);
    expect(await ids('SELECT id FROM dist.notifications')).toEqual(['n1-old', 'n2-new']);
  });

  it.skipIf(skip)('deletes old rows past their days and keeps what a revert, a sync or the delivered-file sweep needs', async () => {
    const pruned = await prune({ loads: 365, invalidRecords: 90, tracking: 365, syncRuns: 365, deliveries: 180, notifications: 90, operatorNotifications: 90 });
    expect(pruned).toEqual({ loads: 3, invalidRecords: 4, tracking: 2, syncRuns: 3, deliveries: 2, notifications: 1, operatorNotifications: 1 });

    // l1 was replaced by two later fullloads; l2 comes back if l3 is reverted; l3 and l4 are in effect; l7 is loading;
    // m1 is the latest load of data.t2.
    expect(await ids('SELECT load_id AS id FROM ref.loads')).toEqual(['l2-full', 'l3-full', 'l4-append', 'l7-loading', 'm1-only']);
    expect((await query('SELECT source, source_ref, created_at FROM ref.invalid_records ORDER BY source, source_ref')).map((r) => `${String(r.source)}:${String(r.source_ref)}`))
      .toEqual(['file:l1-full', 'file:l4-append', 'instrument_sync:s-latest', 'instrument_sync:s-running']);
    // the l1 row that stays is the recent one
    expect(((await query(`SELECT created_at FROM ref.invalid_records WHERE source_ref = 'l1-full'`))[0]!.created_at as Date).getTime()).toBeGreaterThan(ago(11).getTime());
    expect(await ids('SELECT run_id AS id FROM ref.instrument_sync_runs')).toEqual(['s-latest', 's-recent', 's-running']);
    expect(await ids('SELECT file_path AS id FROM ref.file_monitor_tracking')).toEqual(['/drop/in-flight.csv', '/drop/l3-full.csv', '/drop/recent.csv']);
    expect(await ids('SELECT delivery_id AS id FROM dist.delivery_history')).toEqual(['d3-retrying', 'd4-file-kept', 'd5-recent']);
    expect(await ids('SELECT id FROM dist.notifications')).toEqual(['n2-new']);
    expect(await ids('SELECT id FROM ref.operator_notifications')).toEqual(['o2-new']);
  });

  it.skipIf(skip)('a second sweep finds nothing more to delete', async () => {
    const again = await prune({ loads: 365, invalidRecords: 90, tracking: 365, syncRuns: 365, deliveries: 180, notifications: 90, operatorNotifications: 90 });
    expect(again).toEqual({ loads: 0, invalidRecords: 0, tracking: 0, syncRuns: 0, deliveries: 0, notifications: 0, operatorNotifications: 0 });
  });
});
