// Distribution and delivery statistics over a chosen period: the range a request names, checked once, and the view
// by report type, channel and subscriber that REST (and the dashboard) show.
import type { ChannelStats, DeliveryStatsRow, StatsRange } from '../db/distribution';
import type { Database } from '../db/types';
import { badRequest } from './errors';
import type { Caller } from './types';

const DAY_MS = 86_400_000;
/** The longest range one request may ask for; beyond it the query scans too much history for an API call. */
export const MAX_STATS_RANGE_DAYS = 366;

const isoLike = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** Date.parse rolls 2025-02-30 over into March: the calendar date itself must exist. */
function isCalendarDate(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

function instantOf(name: string, value: string): Date {
  const v = value.trim();
  const at = isoLike.test(v) && isCalendarDate(v) ? new Date(v) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime())) throw badRequest('INVALID_RANGE', `${name} ${JSON.stringify(value.slice(0, 40))} is not an ISO date or time (2025-06-21 or 2025-06-21T10:00:00Z)`);
  return at;
}

/**
 * `from`/`to` of a request: ISO dates (midnight UTC) or times, `to` exclusive. Defaults: to now, from a day before
 * `to`. Refused (400 INVALID_RANGE): unparseable, from not before to, or longer than MAX_STATS_RANGE_DAYS.
 */
export function statsRangeOf(q: { from?: string; to?: string }, now: Date = new Date()): { from: Date; to: Date } {
  const to = q.to === undefined ? now : instantOf('to', q.to);
  const from = q.from === undefined ? new Date(to.getTime() - DAY_MS) : instantOf('from', q.from);
  if (from.getTime() >= to.getTime()) throw badRequest('INVALID_RANGE', `from (${from.toISOString()}) must be before to (${to.toISOString()})`);
  if (to.getTime() - from.getTime() > MAX_STATS_RANGE_DAYS * DAY_MS) throw badRequest('INVALID_RANGE', `the range is longer than ${MAX_STATS_RANGE_DAYS} days; ask for a shorter one`);
  return { from, to };
}

export interface DeliveryCounts {
  reports: number;
  deliveries: number;
  delivered: number;
  failed: number;
  cancelled: number;
  in_progress: number;
  retries: number;
  replays: number;
  avg_latency_ms: number | null;
  max_latency_ms: number | null;
}

export interface AttemptCounts {
  attempted: number;
  successful: number;
  failed: number;
  avg_delivery_time_ms: number | null;
}

export interface StatsView {
  from: string;
  to: string;
  totals: DeliveryCounts;
  by_report_type: (DeliveryCounts & { report_type: string; attempts: AttemptCounts | null })[];
  by_channel: (DeliveryCounts & { channel: string; attempts: AttemptCounts | null })[];
  by_subscriber: (DeliveryCounts & { subscriber_id: string })[];
}

const countsOf = (r: DeliveryStatsRow | undefined): DeliveryCounts => ({
  reports: r?.reports ?? 0, deliveries: r?.deliveries ?? 0, delivered: r?.delivered ?? 0, failed: r?.failed ?? 0, cancelled: r?.cancelled ?? 0,
  in_progress: r?.inProgress ?? 0, retries: r?.retries ?? 0, replays: r?.replays ?? 0, avg_latency_ms: r?.avgLatencyMs ?? null, max_latency_ms: r?.maxLatencyMs ?? null,
});

/** Attempt counters (dist.distribution_stats, hourly) summed over the rows one key selects; time weighted by successes. */
function attemptsOf(rows: ChannelStats[]): AttemptCounts {
  const successful = rows.reduce((n, r) => n + r.successful, 0);
  const weighted = rows.reduce((n, r) => n + (r.avgDeliveryTimeMs ?? 0) * r.successful, 0);
  return {
    attempted: rows.reduce((n, r) => n + r.attempted, 0),
    successful,
    failed: rows.reduce((n, r) => n + r.failed, 0),
    avg_delivery_time_ms: successful > 0 ? Math.round((weighted / successful) * 10) / 10 : null,
  };
}

/**
 * Deliveries created in the range by report type, channel and subscriber (dist.delivery_history), and for staff the
 * attempt counters of the hourly buckets that start in it. A subscriber key sees only its own deliveries and no
 * attempt counters (those are not kept per subscriber).
 */
export async function deliveryStats(deps: { db: Pick<Database, 'distribution'> }, caller: Caller, range: { from: Date; to: Date }): Promise<StatsView> {
  const own = caller.role === 'subscriber';
  const query: StatsRange = own ? { ...range, subscriberId: caller.subscriberId ?? '' } : range;
  const [rows, attempts] = await Promise.all([
    deps.db.distribution.deliveryStatsBetween(query),
    own ? Promise.resolve(null) : deps.db.distribution.statsBetween(range.from, range.to),
  ]);
  const of = (dimension: DeliveryStatsRow['dimension']) => rows.filter((r) => r.dimension === dimension && r.key !== null);
  const keysOf = (fromRows: string[], fromAttempts: string[]) => [...new Set([...fromRows, ...fromAttempts])].sort();
  const types = keysOf(of('report_type').map((r) => r.key!), (attempts ?? []).map((a) => a.reportType));
  const channels = keysOf(of('channel').map((r) => r.key!), (attempts ?? []).map((a) => a.channel));
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    totals: countsOf(rows.find((r) => r.dimension === 'total')),
    by_report_type: types.map((t) => ({
      report_type: t, ...countsOf(of('report_type').find((r) => r.key === t)), attempts: attempts ? attemptsOf(attempts.filter((a) => a.reportType === t)) : null,
    })),
    by_channel: channels.map((c) => ({
      channel: c, ...countsOf(of('channel').find((r) => r.key === c)), attempts: attempts ? attemptsOf(attempts.filter((a) => a.channel === c)) : null,
    })),
    by_subscriber: of('subscriber').map((r) => ({ subscriber_id: r.key!, ...countsOf(r) })),
  };
}
