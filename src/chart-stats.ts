// The dashboard's charts as the stats API answers them: the period a request names (default the last 14 UTC days),
// every day of it (days without a load count zero), and the views of src/db/charts.ts's aggregates.
import type { ChartRange, ChartStore, LoadDayRow } from './db/charts';
import { MAX_CHART_SYNCS } from './db/charts';
import { statsRangeOf } from './reporting/stats';

const DAY_MS = 86_400_000;
/** Days a chart shows when the request names no `from`. */
export const DEFAULT_CHART_DAYS = 14;

const startOfUtcDay = (at: Date): Date => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);

/**
 * `from`/`to` of a chart request, checked like every stats range (400 INVALID_RANGE, src/reporting/stats.ts). Without
 * `from`: the DEFAULT_CHART_DAYS whole UTC days that end with the one `to` falls in (today, for the default `to` now).
 */
export function chartRangeOf(q: { from?: string; to?: string }, now: Date = new Date()): ChartRange {
  if (q.from !== undefined) return statsRangeOf(q, now);
  const { to } = statsRangeOf({ to: q.to }, now);
  const lastDay = startOfUtcDay(new Date(to.getTime() - 1));
  return statsRangeOf({ from: new Date(lastDay.getTime() - (DEFAULT_CHART_DAYS - 1) * DAY_MS).toISOString(), to: to.toISOString() }, now);
}

/** Every UTC day (yyyy-MM-dd) that [from, to) touches, oldest first. */
export function daysOf(range: ChartRange): string[] {
  const days: string[] = [];
  const last = startOfUtcDay(new Date(range.to.getTime() - 1)).getTime();
  for (let t = startOfUtcDay(range.from).getTime(); t <= last; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** Share of the finished deliveries that were delivered (cancelled and in-progress ones left out); null when none finished. */
export function successRate(delivered: number, failed: number): number | null {
  const finished = delivered + failed;
  return finished === 0 ? null : Math.round((delivered / finished) * 10_000) / 10_000;
}

export interface LoadDayView {
  day: string;
  loads: number;
  loaded: number;
  aborted: number;
  reverted: number;
  loading: number;
  rows: number;
  avg_duration_ms: number | null;
  max_duration_ms: number | null;
}

/** The day rows the database returned, on every day of the range (zeros where it had none). */
export function loadDays(range: ChartRange, rows: readonly LoadDayRow[]): LoadDayView[] {
  const byDay = new Map(rows.map((r) => [r.day, r]));
  return daysOf(range).map((day) => {
    const r = byDay.get(day);
    if (!r) return { day, loads: 0, loaded: 0, aborted: 0, reverted: 0, loading: 0, rows: 0, avg_duration_ms: null, max_duration_ms: null };
    return {
      day, loads: r.loads, loaded: r.loaded, aborted: r.aborted, reverted: r.reverted, loading: r.loading, rows: r.rows,
      avg_duration_ms: r.loaded > 0 && r.durationMsMax !== null ? Math.round(r.durationMsTotal / r.loaded) : null,
      max_duration_ms: r.durationMsMax,
    };
  });
}

const period = (range: ChartRange) => ({ from: range.from.toISOString(), to: range.to.toISOString() });

export async function loadsChart(store: Pick<ChartStore, 'loadsPerDay'>, range: ChartRange) {
  const days = loadDays(range, await store.loadsPerDay(range));
  const sum = (k: 'loads' | 'loaded' | 'aborted' | 'rows') => days.reduce((n, d) => n + d[k], 0);
  return { ...period(range), days, totals: { loads: sum('loads'), loaded: sum('loaded'), aborted: sum('aborted'), rows: sum('rows') } };
}

export async function failuresChart(store: Pick<ChartStore, 'failuresByCategory'>, range: ChartRange) {
  const categories = (await store.failuresByCategory(range)).map((r) => ({ category: r.category, files: r.files }));
  return { ...period(range), total: categories.reduce((n, c) => n + c.files, 0), categories };
}

export async function deliveriesChart(store: Pick<ChartStore, 'deliveriesByChannel'>, range: ChartRange) {
  const channels = (await store.deliveriesByChannel(range)).map((r) => ({
    channel: r.channel, deliveries: r.deliveries, delivered: r.delivered, failed: r.failed, cancelled: r.cancelled, in_progress: r.inProgress,
    success_rate: successRate(r.delivered, r.failed), p50_latency_ms: r.p50LatencyMs, p95_latency_ms: r.p95LatencyMs,
  }));
  return { ...period(range), channels };
}

export async function syncsChart(store: Pick<ChartStore, 'syncChanges'>, range: ChartRange) {
  // The newest MAX_CHART_SYNCS: as many syncs as `limit` says the period may hold more.
  const rows = await store.syncChanges(range, MAX_CHART_SYNCS);
  const syncs = rows.map((r) => ({
    run_id: r.runId, status: r.status, trigger: r.trigger, started_at: r.startedAt.toISOString(),
    added: r.added ?? 0, updated: r.updated ?? 0, deactivated: r.deactivated ?? 0, reactivated: r.reactivated ?? 0, duration_ms: r.durationMs,
  }));
  return { ...period(range), limit: MAX_CHART_SYNCS, syncs };
}
