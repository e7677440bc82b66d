// The dashboard's chart aggregates on SQL Server: the statements as pure functions (unit-tested) and the store that
// runs them. The same questions as src/db/postgres/charts.ts, answered the same way.
import type sql from 'mssql';
import { z } from 'zod';
import type { ChartRange, ChartStore } from '../charts';
import { MAX_CHART_SYNCS } from '../charts';
import { rowsOf } from './client';
import { datetimeParam, intParam, type Statement } from './statement';

const rangeParams = (r: ChartRange) => ({ from: datetimeParam(r.from), to: datetimeParam(r.to) });
/** Milliseconds from start to finish of a loaded load; NULL otherwise. */
const LOADED_MS = "CASE WHEN status = N'loaded' AND finished_at IS NOT NULL THEN DATEDIFF_BIG(millisecond, started_at, finished_at) END";

export function loadsPerDaySql(range: ChartRange): Statement {
  return {
    text:
      'SELECT CONVERT(char(10), CAST(started_at AS date), 23) AS day,\n' +
      '       COUNT(*) AS loads,\n' +
      "       SUM(CASE WHEN status = N'loaded' THEN 1 ELSE 0 END) AS loaded,\n" +
      "       SUM(CASE WHEN status = N'aborted' THEN 1 ELSE 0 END) AS aborted,\n" +
      "       SUM(CASE WHEN status = N'reverted' THEN 1 ELSE 0 END) AS reverted,\n" +
      "       SUM(CASE WHEN status = N'loading' THEN 1 ELSE 0 END) AS loading,\n" +
      "       COALESCE(SUM(CASE WHEN status = N'loaded' THEN rows_committed END), 0) AS rows_loaded,\n" +
      `       COALESCE(SUM(${LOADED_MS}), 0) AS duration_total,\n` +
      `       MAX(${LOADED_MS}) AS duration_max\n` +
      'FROM ref.loads\n' +
      'WHERE started_at >= @from AND started_at < @to\n' +
      'GROUP BY CONVERT(char(10), CAST(started_at AS date), 23)\n' +
      'ORDER BY day',
    params: rangeParams(range),
  };
}

export function failuresByCategorySql(range: ChartRange): Statement {
  return {
    text:
      'SELECT error_category, COUNT(*) AS files\n' +
      'FROM ref.file_monitor_tracking\n' +
      "WHERE status = N'error' AND COALESCE(processed_at, created_at) >= @from AND COALESCE(processed_at, created_at) < @to\n" +
      'GROUP BY error_category\n' +
      // NULLS LAST, as PostgreSQL orders it.
      'ORDER BY files DESC, CASE WHEN error_category IS NULL THEN 1 ELSE 0 END, error_category',
    params: rangeParams(range),
  };
}

export function deliveriesByChannelSql(range: ChartRange): Statement {
  // Nearest-rank percentiles (PostgreSQL's percentile_disc): the latency at rank ceil(p × n) of the delivered ones.
  return {
    text:
      'WITH d AS (SELECT channel, status, latency_ms FROM dist.delivery_history WHERE created_at >= @from AND created_at < @to),\n' +
      'ranked AS (\n' +
      '  SELECT channel, latency_ms, ROW_NUMBER() OVER (PARTITION BY channel ORDER BY latency_ms) AS rn, COUNT(*) OVER (PARTITION BY channel) AS n\n' +
      "  FROM d WHERE status = N'delivered' AND latency_ms IS NOT NULL),\n" +
      'pct AS (\n' +
      '  SELECT channel, MIN(CASE WHEN rn >= CEILING(0.5 * n) THEN latency_ms END) AS p50, MIN(CASE WHEN rn >= CEILING(0.95 * n) THEN latency_ms END) AS p95\n' +
      '  FROM ranked GROUP BY channel),\n' +
      'counts AS (\n' +
      '  SELECT channel, COUNT(*) AS deliveries,\n' +
      "         SUM(CASE WHEN status = N'delivered' THEN 1 ELSE 0 END) AS delivered,\n" +
      "         SUM(CASE WHEN status = N'failed' THEN 1 ELSE 0 END) AS failed,\n" +
      "         SUM(CASE WHEN status = N'cancelled' THEN 1 ELSE 0 END) AS cancelled,\n" +
      "         SUM(CASE WHEN status NOT IN (N'delivered', N'failed', N'cancelled') THEN 1 ELSE 0 END) AS in_progress\n" +
      '  FROM d GROUP BY channel)\n' +
      'SELECT c.channel, c.deliveries, c.delivered, c.failed, c.cancelled, c.in_progress, p.p50, p.p95\n' +
      'FROM counts c LEFT JOIN pct p ON p.channel = c.channel\n' +
      'ORDER BY c.channel',
    params: rangeParams(range),
  };
}

export function syncChangesSql(range: ChartRange, limit: number): Statement {
  return {
    text:
      'SELECT TOP (@limit) run_id, status, [trigger], started_at, added, updated, deactivated, reactivated, duration_ms\n' +
      'FROM ref.instrument_sync_runs\n' +
      'WHERE started_at >= @from AND started_at < @to\n' +
      'ORDER BY started_at DESC, run_id DESC',
    params: { ...rangeParams(range), limit: intParam(Math.min(Math.max(limit, 1), MAX_CHART_SYNCS)) },
  };
}

/** tedious returns bigint as a string so it cannot lose digits; these counts fit in a double. */
const count = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform(Number);
const nullableCount = count.nullable();

const loadDayRow = z.object({
  day: z.string(), loads: count, loaded: count, aborted: count, reverted: count, loading: count, rows_loaded: count, duration_total: count, duration_max: nullableCount,
});
const failureRow = z.object({ error_category: z.string().nullable(), files: count });
const channelRow = z.object({
  channel: z.string(), deliveries: count, delivered: count, failed: count, cancelled: count, in_progress: count, p50: nullableCount, p95: nullableCount,
});
const syncRow = z.object({
  run_id: z.string(), status: z.string(), trigger: z.string(), started_at: z.date(),
  added: nullableCount, updated: nullableCount, deactivated: nullableCount, reactivated: nullableCount, duration_ms: nullableCount,
});

export function createMssqlChartStore(pool: sql.ConnectionPool): ChartStore {
  return {
    async loadsPerDay(range) {
      return z.array(loadDayRow).parse(await rowsOf(pool, loadsPerDaySql(range))).map((r) => ({
        day: r.day.trim(), loads: r.loads, loaded: r.loaded, aborted: r.aborted, reverted: r.reverted, loading: r.loading,
        rows: r.rows_loaded, durationMsTotal: r.duration_total, durationMsMax: r.duration_max,
      }));
    },
    async failuresByCategory(range) {
      return z.array(failureRow).parse(await rowsOf(pool, failuresByCategorySql(range))).map((r) => ({ category: r.error_category, files: r.files }));
    },
    async deliveriesByChannel(range) {
      return z.array(channelRow).parse(await rowsOf(pool, deliveriesByChannelSql(range))).map((r) => ({
        channel: r.channel, deliveries: r.deliveries, delivered: r.delivered, failed: r.failed, cancelled: r.cancelled, inProgress: r.in_progress,
        p50LatencyMs: r.p50, p95LatencyMs: r.p95,
      }));
    },
    async syncChanges(range, limit) {
      return z.array(syncRow).parse(await rowsOf(pool, syncChangesSql(range, limit))).reverse().map((r) => ({
        runId: r.run_id, status: r.status, trigger: r.trigger, startedAt: r.started_at,
        added: r.added, updated: r.updated, deactivated: r.deactivated, reactivated: r.reactivated, durationMs: r.duration_ms,
      }));
    },
  };
}
