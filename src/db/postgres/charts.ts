// The dashboard's chart aggregates on PostgreSQL: one grouped query each (see src/db/charts.ts).
import type { ChartStore } from '../charts';
import { MAX_CHART_SYNCS } from '../charts';
import type { PgExecutor, Row } from './executor';

const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function createPostgresChartStore(exec: PgExecutor): ChartStore {
  return {
    async loadsPerDay({ from, to }) {
      const rows = await exec.query(
        `SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
                count(*) AS loads,
                count(*) FILTER (WHERE status = 'loaded') AS loaded,
                count(*) FILTER (WHERE status = 'aborted') AS aborted,
                count(*) FILTER (WHERE status = 'reverted') AS reverted,
                count(*) FILTER (WHERE status = 'loading') AS loading,
                COALESCE(sum(rows_committed) FILTER (WHERE status = 'loaded'), 0) AS rows,
                COALESCE(sum(floor(extract(epoch FROM finished_at - started_at) * 1000)) FILTER (WHERE status = 'loaded' AND finished_at IS NOT NULL), 0) AS duration_total,
                max(floor(extract(epoch FROM finished_at - started_at) * 1000)) FILTER (WHERE status = 'loaded' AND finished_at IS NOT NULL) AS duration_max
           FROM ref.loads
          WHERE started_at >= $1 AND started_at < $2
          GROUP BY 1
          ORDER BY 1`,
        [from, to],
      );
      return rows.map((r: Row) => ({
        day: String(r.day), loads: num(r.loads), loaded: num(r.loaded), aborted: num(r.aborted), reverted: num(r.reverted), loading: num(r.loading),
        rows: num(r.rows), durationMsTotal: num(r.duration_total), durationMsMax: numOrNull(r.duration_max),
      }));
    },

    async failuresByCategory({ from, to }) {
      const rows = await exec.query(
        `SELECT error_category, count(*) AS files
           FROM ref.file_monitor_tracking
          WHERE status = 'error' AND COALESCE(processed_at, created_at) >= $1 AND COALESCE(processed_at, created_at) < $2
          GROUP BY error_category
          ORDER BY files DESC, error_category NULLS LAST`,
        [from, to],
      );
      return rows.map((r: Row) => ({ category: (r.error_category as string | null) ?? null, files: num(r.files) }));
    },

    async deliveriesByChannel({ from, to }) {
      // percentile_disc is the nearest-rank percentile: the smallest latency with at least p of the values at or below it.
      const rows = await exec.query(
        `SELECT channel,
                count(*) AS deliveries,
                count(*) FILTER (WHERE status = 'delivered') AS delivered,
                count(*) FILTER (WHERE status = 'failed') AS failed,
                count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                count(*) FILTER (WHERE status NOT IN ('delivered', 'failed', 'cancelled')) AS in_progress,
                percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE status = 'delivered' AND latency_ms IS NOT NULL) AS p50,
                percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE status = 'delivered' AND latency_ms IS NOT NULL) AS p95
           FROM dist.delivery_history
          WHERE created_at >= $1 AND created_at < $2
          GROUP BY channel
          ORDER BY channel`,
        [from, to],
      );
      return rows.map((r: Row) => ({
        channel: String(r.channel), deliveries: num(r.deliveries), delivered: num(r.delivered), failed: num(r.failed), cancelled: num(r.cancelled),
        inProgress: num(r.in_progress), p50LatencyMs: numOrNull(r.p50), p95LatencyMs: numOrNull(r.p95),
      }));
    },

    async syncChanges({ from, to }, limit) {
      const rows = await exec.query(
        `SELECT run_id, status, trigger, started_at, added, updated, deactivated, reactivated, duration_ms
           FROM ref.instrument_sync_runs
          WHERE started_at >= $1 AND started_at < $2
          ORDER BY started_at DESC, run_id DESC
          LIMIT $3`,
        [from, to, Math.min(Math.max(limit, 1), MAX_CHART_SYNCS)],
      );
      return rows.reverse().map((r: Row) => ({
        runId: String(r.run_id), status: String(r.status), trigger: String(r.trigger), startedAt: new Date(r.started_at as string),
        added: numOrNull(r.added), updated: numOrNull(r.updated), deactivated: numOrNull(r.deactivated), reactivated: numOrNull(r.reactivated),
        durationMs: numOrNull(r.duration_ms),
      }));
    },
  };
}
