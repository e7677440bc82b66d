// The charts' aggregates (src/db/charts.ts) against real PostgreSQL and SQL Server (Babelfish, or MSSQL_URL): rows
// written through the stores come back counted per day, category, channel (with nearest-rank latency percentiles of
// the latencies the database recorded) and sync, and a period that does not hold them returns none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/types';
import type { NewDelivery } from '../../src/db/distribution';
import type { DeliveryPayload } from '../../src/reporting/types';
import { databaseTargets } from '../support/db-targets';
import { nearestRank } from '../support/percentile';

const targets = databaseTargets('charts_');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The SQL Server suites share one database, and other files write loads and deliveries in the same hours: there this
 * file's rows are moved back SHIFT_DAYS days (times of day and durations kept), into hours nobody else writes, before
 * they are counted. PostgreSQL gives each file its own database, so nothing moves there.
 */
const SHIFT_DAYS = 7919;
async function onSharedMssql(text: string): Promise<void> {
  const { default: sql } = await import('mssql');
  const { parseMssqlUrl } = await import('../../src/db/mssql/url');
  const pool = await new sql.ConnectionPool(parseMssqlUrl(process.env.MSSQL_URL!)).connect();
  try {
    await pool.request().query(text);
  } finally {
    await pool.close();
  }
}

function payload(reportId: string): DeliveryPayload {
  return {
    message: { deliveryId: 'x', createdAt: '2025-06-21T10:00:00.000Z', reportId, reportType: 'RISK_REPORT', title: 't', metadata: {}, attachments: [] },
    report: {
      reportId, reportType: 'RISK_REPORT', portfolioId: 'p1', reportPeriod: '2025-06', filePath: null, fileSizeBytes: null, routingKey: 'p1.risk',
      sourceService: 'test', encryptionRequired: false, retentionDays: 90,
    },
  };
}

for (const target of targets) {
  describe.skipIf(target.skip)(`chart aggregates: ${target.name}`, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    const tag = Math.random().toString(36).slice(2, 8);
    const shiftDays = target.name === 'mssql' ? SHIFT_DAYS : 0;
    const shifted = (ms: number) => new Date(ms - shiftDays * 86_400_000);
    const today = () => shifted(Date.now()).toISOString().slice(0, 10);
    /** The hours this file's rows are in once moved (see moveBack). */
    const aroundMoved = () => ({ from: shifted(Date.now() - 3600_000), to: shifted(Date.now() + 3600_000) });
    /** Moves this file's rows of `table` (matched by `where`) back by shiftDays on SQL Server; see onSharedMssql. */
    const moveBack = async (table: string, columns: string[], where: string) => {
      if (shiftDays === 0) return;
      await onSharedMssql(`UPDATE ${table} SET ${columns.map((c) => `${c} = DATEADD(day, -${shiftDays}, ${c})`).join(', ')} WHERE ${where}`);
    };
    const before = { from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-01-15T00:00:00Z') };

    beforeAll(async () => {
      ({ db, cleanup } = await target.open());
      await db.migrate();
    });
    afterAll(async () => cleanup?.());

    it('counts loads per UTC day: by outcome, rows of the loaded ones, and their duration', async () => {
      const table = { schema: 'data', name: `charts_${tag}` };
      const columns = [{ name: 'code', type: { kind: 'text' as const } }];
      const loadOne = async (n: number, rows: number) => {
        const load = await db.beginLoad({ loadId: `cl${n}${tag}`, target: table, mode: 'append', columns, filePath: `/f${n}`, fileHash: null });
        await db.writeBatch(load.loadId, ['code'], Array.from({ length: rows }, (_, i) => [`c${i}`]), { rowsCommitted: 0, byteOffset: 0 }, { rowsCommitted: rows, byteOffset: rows * 3 });
        await sleep(30);
        await db.finishLoad(load.loadId);
        return (await db.getLoad(load.loadId))!;
      };
      const a = await loadOne(1, 7);
      const b = await loadOne(2, 5);
      const aborted = await db.beginLoad({ loadId: `cl3${tag}`, target: table, mode: 'append', columns, filePath: '/f3', fileHash: null });
      await db.abortLoad(aborted.loadId);
      await moveBack('ref.loads', ['started_at', 'finished_at'], `load_id LIKE 'cl_${tag}'`);

      const days = await db.charts.loadsPerDay(aroundMoved());
      expect(days).toHaveLength(1);
      const [day] = days;
      expect(day).toMatchObject({ day: today(), loads: 3, loaded: 2, aborted: 1, reverted: 0, loading: 0, rows: 12 });
      const ms = [a, b].map((l) => l.finishedAt!.getTime() - l.startedAt.getTime());
      // The database measures in its own precision; the records carry milliseconds.
      expect(Math.abs(day!.durationMsMax! - Math.max(...ms))).toBeLessThanOrEqual(1);
      expect(Math.abs(day!.durationMsTotal - (ms[0]! + ms[1]!))).toBeLessThanOrEqual(2);
      expect(day!.durationMsMax).toBeGreaterThanOrEqual(30);
      expect(await db.charts.loadsPerDay(before)).toEqual([]);
    });

    it('counts failed files by category, the uncategorised ones as null, most first', async () => {
      const fail = async (n: number, category: string | null) => {
        const filePath = `/drop/bad_${tag}_${n}.csv`;
        await db.upsertTracking({ filePath, fileName: `bad_${n}.csv`, status: 'error' });
        if (category) await db.failures.setCategory(filePath, category);
      };
      await fail(1, 'MALFORMED_CSV');
      await fail(2, 'MALFORMED_CSV');
      await fail(3, 'SCHEMA_MISMATCH');
      await fail(4, null);
      await db.upsertTracking({ filePath: `/drop/good_${tag}.csv`, fileName: 'good.csv', status: 'loaded' });
      await moveBack('ref.file_monitor_tracking', ['processed_at', 'created_at'], `file_path LIKE '/drop/bad[_]${tag}[_]%' OR file_path = '/drop/good_${tag}.csv'`);
      expect(await db.charts.failuresByCategory(aroundMoved())).toEqual([
        { category: 'MALFORMED_CSV', files: 2 }, { category: 'SCHEMA_MISMATCH', files: 1 }, { category: null, files: 1 },
      ]);
      expect(await db.charts.failuresByCategory(before)).toEqual([]);
    });

    it('counts deliveries per channel with the p50 and p95 of the latencies recorded for the delivered ones', async () => {
      const subId = `sub_${tag}`;
      const channels = { API_WEBHOOK: `chw_${tag}`, EMAIL: `che_${tag}` } as const;
      await db.distribution.createSubscription({
        subscriptionId: subId, subscriberId: `client_${tag}`, subscriberType: 'REAL_TIME', reportTypes: ['RISK_REPORT'], filters: null,
        deliveryPreferences: { channels: [{ channelId: channels.API_WEBHOOK, channelType: 'API_WEBHOOK' }, { channelId: channels.EMAIL, channelType: 'EMAIL' }], schedule: null, formatPreferences: [], notificationSettings: {} },
      }, [
        { channelId: channels.API_WEBHOOK, channelType: 'API_WEBHOOK', config: { url: 'https://example.com/hook' }, subscriptionId: subId, subscriberId: `client_${tag}` },
        { channelId: channels.EMAIL, channelType: 'EMAIL', config: { to: ['ops@example.com'] }, subscriptionId: subId, subscriberId: `client_${tag}` },
      ]);
      const delivery = (n: number, channel: keyof typeof channels): NewDelivery => ({
        deliveryId: `cd_${tag}_${n}`, subscriptionId: subId, subscriberId: `client_${tag}`, reportId: `r_${tag}_${n}`, reportType: 'RISK_REPORT',
        channel, channelId: channels[channel], priority: 3, payload: payload(`r_${tag}_${n}`), workflowId: `delivery:cd_${tag}_${n}`,
      });
      const hooks = Array.from({ length: 12 }, (_, i) => delivery(i, 'API_WEBHOOK'));
      await db.distribution.createDeliveries([...hooks, delivery(20, 'EMAIL'), delivery(21, 'EMAIL')]);
      // One after another, so each waited longer than the one before: latencies spread over tens of milliseconds.
      for (const d of hooks.slice(0, 10)) {
        await sleep(5);
        await db.distribution.beginAttempt(d.deliveryId, 1, 'run');
        await db.distribution.recordDelivered(d.deliveryId);
      }
      await db.distribution.beginAttempt(hooks[10]!.deliveryId, 1, 'run');
      await db.distribution.recordFailure(hooks[10]!.deliveryId, 'failed', '{"code":"HTTP_4XX"}');
      await db.distribution.beginAttempt(`cd_${tag}_20`, 1, 'run');
      await db.distribution.recordFailure(`cd_${tag}_20`, 'failed', '{"code":"SMTP"}');

      const latencies = await Promise.all(hooks.slice(0, 10).map(async (d) => (await db.distribution.getDelivery(d.deliveryId))!.latencyMs!));
      expect(new Set(latencies).size).toBeGreaterThan(2);
      await moveBack('dist.delivery_history', ['created_at', 'updated_at'], `delivery_id LIKE 'cd[_]${tag}[_]%'`);
      const rows = await db.charts.deliveriesByChannel(aroundMoved());
      expect(rows).toEqual([
        { channel: 'API_WEBHOOK', deliveries: 12, delivered: 10, failed: 1, cancelled: 0, inProgress: 1, p50LatencyMs: nearestRank(latencies, 0.5), p95LatencyMs: nearestRank(latencies, 0.95) },
        { channel: 'EMAIL', deliveries: 2, delivered: 0, failed: 1, cancelled: 0, inProgress: 1, p50LatencyMs: null, p95LatencyMs: null },
      ]);
      expect(await db.charts.deliveriesByChannel(before)).toEqual([]);
    });

    it('lists the syncs of a period oldest first, a run without a report with null counts, at most `limit`', async () => {
      for (const n of [1, 2, 3]) {
        await db.instruments.beginSyncRun({ runId: `cs${n}_${tag}`, workflowId: `instrument-sync/cs${n}_${tag}`, source: '/in/instruments.json', trigger: 'api', forced: false });
        await sleep(15);
      }
      await db.instruments.failSyncRun(`cs2_${tag}`, 'failed', 'no file');
      await moveBack('ref.instrument_sync_runs', ['started_at', 'finished_at'], `run_id LIKE 'cs_[_]${tag}'`);
      const runs = await db.charts.syncChanges(aroundMoved(), 10);
      expect(runs.map((r) => [r.runId, r.status, r.trigger, r.added, r.deactivated])).toEqual([
        [`cs1_${tag}`, 'running', 'api', null, null], [`cs2_${tag}`, 'failed', 'api', null, null], [`cs3_${tag}`, 'running', 'api', null, null],
      ]);
      expect(runs[0]!.startedAt).toBeInstanceOf(Date);
      expect((await db.charts.syncChanges(aroundMoved(), 2)).map((r) => r.runId)).toEqual([`cs2_${tag}`, `cs3_${tag}`]);
      expect(await db.charts.syncChanges(before, 10)).toEqual([]);
    });

    it('migration 016 (the charts\' indexes) rolls back and applies again; the charts answer the same without it', async () => {
      const withIndexes = await db.charts.deliveriesByChannel(aroundMoved());
      const down = await db.migrateDown(15);
      expect(down.find((m) => m.version === 16)?.appliedAt).toBeNull();
      expect(await db.charts.deliveriesByChannel(aroundMoved())).toEqual(withIndexes);
      expect((await db.migrate()).find((m) => m.version === 16)?.appliedAt).toBeInstanceOf(Date);
    });
  });
}
