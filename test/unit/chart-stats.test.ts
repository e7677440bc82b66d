// The charts' pure parts without I/O: the period a request names, its days, the views of the aggregates, the SQL
// Server statements, and the dashboard's own scale helpers (src/api/dashboard/charts.js, loaded as Node loads it).
import { describe, expect, it } from 'vitest';
import { chartRangeOf, daysOf, deliveriesChart, loadDays, successRate, syncsChart } from '../../src/chart-stats';
import { ReportingError } from '../../src/reporting/errors';
import * as ms from '../../src/db/mssql/charts';
import { MAX_CHART_SYNCS } from '../../src/db/charts';
import { RANGE_BOUND_PATTERN } from '../../src/api/date-pattern';
import { expectParamsConsistent } from './mssql/statement-check';

interface ChartMath {
  niceMax(max: number): number;
  scale(value: number, max: number, size: number): number;
  bands(count: number, width: number, gap: number, widest?: number): { step: number; breadth: number; start(i: number): number };
  ticks(max: number, parts: number): number[];
  compact(n: number | null): string;
  percent(rate: number | null): string;
  addDays(day: string, days: number): string;
  defaultPeriod(now: number): { from: string; to: string };
  periodQuery(p: { from: string; to: string }): string;
}
const chartMath = require('../../src/api/dashboard/charts.js') as ChartMath;

const at = (iso: string) => new Date(iso);

describe('chartRangeOf', () => {
  const now = at('2025-06-21T10:30:00Z');
  it('defaults to the 14 UTC days that end with today', () => {
    expect(chartRangeOf({}, now)).toEqual({ from: at('2025-06-08T00:00:00Z'), to: now });
  });
  it('defaults to the 14 days before a `to` at midnight (exclusive), and keeps a `from` it is given', () => {
    expect(chartRangeOf({ to: '2025-06-15' }, now)).toEqual({ from: at('2025-06-01T00:00:00Z'), to: at('2025-06-15T00:00:00Z') });
    expect(chartRangeOf({ from: '2025-06-20', to: '2025-06-21T06:00:00+02:00' }, now)).toEqual({ from: at('2025-06-20T00:00:00Z'), to: at('2025-06-21T04:00:00Z') });
  });
  it('refuses a period that ends before it starts, or too long, as 400 INVALID_RANGE', () => {
    for (const q of [{ from: '2025-06-21', to: '2025-06-20' }, { from: '2023-01-01', to: '2025-01-01' }, { from: '2025-02-30' }]) {
      expect(() => chartRangeOf(q, now)).toThrow(expect.objectContaining({ code: 'INVALID_RANGE', httpStatus: 400 }) as unknown as ReportingError);
    }
  });
  it('documents bounds with a pattern the parser accepts (and a day that does not exist is not one of them)', () => {
    const re = new RegExp(RANGE_BOUND_PATTERN);
    for (const ok of ['2025-06-21', '2024-02-29', '2025-06-21T10:00:00Z', '2025-06-21T10:00+02:00', '2025-06-21T10:00:00.5-0330']) {
      expect(re.test(ok), ok).toBe(true);
      expect(() => chartRangeOf({ to: ok }, now)).not.toThrow();
    }
    for (const bad of ['2025-02-29', '20250621', '2025-06-21T10:00', '2025-06-21T24:00Z', '2025-6-1', 'yesterday']) expect(re.test(bad), bad).toBe(false);
  });
});

describe('days of a period', () => {
  it('lists every UTC day [from, to) touches', () => {
    expect(daysOf({ from: at('2025-06-29T12:00:00Z'), to: at('2025-07-02T00:00:00Z') })).toEqual(['2025-06-29', '2025-06-30', '2025-07-01']);
    expect(daysOf({ from: at('2025-06-29T00:00:00Z'), to: at('2025-06-29T00:00:00.001Z') })).toEqual(['2025-06-29']);
  });
  it('puts the database rows on their days, zeros elsewhere, and averages duration over the loaded loads', () => {
    const range = { from: at('2025-06-01T00:00:00Z'), to: at('2025-06-04T00:00:00Z') };
    const days = loadDays(range, [{ day: '2025-06-02', loads: 3, loaded: 2, aborted: 1, reverted: 0, loading: 0, rows: 700, durationMsTotal: 3001, durationMsMax: 2000 }]);
    expect(days.map((d) => d.day)).toEqual(['2025-06-01', '2025-06-02', '2025-06-03']);
    expect(days[0]).toEqual({ day: '2025-06-01', loads: 0, loaded: 0, aborted: 0, reverted: 0, loading: 0, rows: 0, avg_duration_ms: null, max_duration_ms: null });
    expect(days[1]).toMatchObject({ loads: 3, loaded: 2, aborted: 1, rows: 700, avg_duration_ms: 1501, max_duration_ms: 2000 });
  });
});

describe('delivery and sync views', () => {
  const range = { from: at('2025-06-01T00:00:00Z'), to: at('2025-06-02T00:00:00Z') };
  it('success rate is delivered over delivered + failed, null when nothing finished', () => {
    expect(successRate(0, 0)).toBeNull();
    expect(successRate(3, 1)).toBe(0.75);
    expect(successRate(2, 1)).toBe(0.6667);
  });
  it('shows each channel with its rate and percentiles', async () => {
    const store = { deliveriesByChannel: async () => [{ channel: 'EMAIL', deliveries: 5, delivered: 3, failed: 1, cancelled: 0, inProgress: 1, p50LatencyMs: 40, p95LatencyMs: 900 }] };
    expect(await deliveriesChart(store, range)).toEqual({
      from: '2025-06-01T00:00:00.000Z', to: '2025-06-02T00:00:00.000Z',
      channels: [{ channel: 'EMAIL', deliveries: 5, delivered: 3, failed: 1, cancelled: 0, in_progress: 1, success_rate: 0.75, p50_latency_ms: 40, p95_latency_ms: 900 }],
    });
  });
  it('asks for at most MAX_CHART_SYNCS syncs and counts a run without a report as zeros', async () => {
    let asked = 0;
    const store = { syncChanges: async (_r: unknown, limit: number) => ((asked = limit), [{ runId: 'r1', status: 'failed', trigger: 'api', startedAt: at('2025-06-01T06:00:00Z'), added: null, updated: null, deactivated: null, reactivated: null, durationMs: 5 }]) };
    const view = await syncsChart(store, range);
    expect(asked).toBe(MAX_CHART_SYNCS);
    expect(view.syncs).toEqual([{ run_id: 'r1', status: 'failed', trigger: 'api', started_at: '2025-06-01T06:00:00.000Z', added: 0, updated: 0, deactivated: 0, reactivated: 0, duration_ms: 5 }]);
  });
});

describe('SQL Server chart statements', () => {
  const range = { from: at('2025-06-01T00:00:00Z'), to: at('2025-06-15T00:00:00Z') };
  it('bind every parameter they read and read the period half-open', () => {
    for (const s of [ms.loadsPerDaySql(range), ms.failuresByCategorySql(range), ms.deliveriesByChannelSql(range), ms.syncChangesSql(range, 10)]) {
      expectParamsConsistent(s);
      expect(s.text).toMatch(/>= @from AND [\w(), ]+ < @to/);
      expect(s.params.from?.value).toEqual(range.from);
    }
  });
  it('caps the syncs at MAX_CHART_SYNCS', () => {
    expect(ms.syncChangesSql(range, 10_000).params.limit?.value).toBe(MAX_CHART_SYNCS);
  });
});

describe('dashboard chart helpers', () => {
  it('rounds an axis up to 1, 2, 2.5 or 5 times a power of ten', () => {
    expect([0, -3, 0.3, 1, 3, 7, 10, 11, 24, 26, 1230, 99_000].map(chartMath.niceMax)).toEqual([1, 1, 0.5, 1, 5, 10, 10, 20, 25, 50, 2000, 100_000]);
  });
  it('scales a value onto an axis, clamped, and nothing for nothing', () => {
    expect(chartMath.scale(25, 50, 100)).toBe(50);
    expect(chartMath.scale(80, 50, 100)).toBe(100);
    expect(chartMath.scale(0, 50, 100)).toBe(0);
    expect(chartMath.scale(5, 0, 100)).toBe(0);
  });
  it('splits a width into bands with gaps, centred', () => {
    const b = chartMath.bands(4, 400, 10);
    expect([b.step, b.breadth, b.start(0), b.start(3)]).toEqual([100, 90, 5, 305]);
    expect(chartMath.bands(1000, 100, 4).breadth).toBe(1);
    const one = chartMath.bands(1, 600, 4, 48);
    expect([one.breadth, one.start(0)]).toEqual([48, 276]);
    expect(chartMath.ticks(50, 2)).toEqual([0, 25, 50]);
  });
  it('labels numbers and shares briefly', () => {
    expect([950, 1230, 1_200_000, 3_400_000_000, null].map(chartMath.compact)).toEqual(['950', '1.2k', '1.2M', '3.4G', '–']);
    expect([0.75, 1, 0.66666, null].map(chartMath.percent)).toEqual(['75.0 %', '100.0 %', '66.7 %', '–']);
  });
  it('uses the API\'s default period and sends the last day shown as the next midnight', () => {
    expect(chartMath.defaultPeriod(Date.parse('2025-03-01T23:59:00Z'))).toEqual({ from: '2025-02-16', to: '2025-03-01' });
    expect(chartMath.periodQuery({ from: '2024-02-28', to: '2024-02-29' })).toBe('?from=2024-02-28&to=2024-03-01');
    expect(chartMath.addDays('2025-12-31', 1)).toBe('2026-01-01');
  });
});
