// The performance thresholds the original documents name: a sync running or lasting past its limit, the share of
// recent syncs that failed, the age of the last successful sync, and a load far slower than the recent median. Pure:
// each takes what the stores listed (newest first) and answers one alert's status.
import type { InstrumentSyncReport } from '../instruments/types';
import type { LoadRecord } from '../db/types';
import type { AlertStatus } from './thresholds';

export interface PerformanceThresholds {
  /** A sync running or having run longer than this (30 in the documents). */
  syncDurationMinutes: number;
  /** Share of the recent finished syncs that failed (0.05 in the documents). */
  syncErrorRate: number;
  /** The last successful sync is older than this. */
  syncStaleHours: number;
  /** A load's rows/s below this share of the recent median. */
  ingestRateFactor: number;
}

/** How many finished syncs the error rate looks at, and the fewest it needs to say anything. */
export const SYNC_ERROR_WINDOW = 20;
export const SYNC_ERROR_MIN_RUNS = 5;
/** How many earlier loads make the median, and the fewest it needs. */
export const INGEST_MEDIAN_LOADS = 20;
export const INGEST_MEDIAN_MIN = 5;

const FAILED = new Set(['failed', 'guard_tripped', 'timed_out']);
const minutes = (ms: number) => Math.round(ms / 60_000);

export function syncDuration(runs: InstrumentSyncReport[], now: Date, t: PerformanceThresholds): AlertStatus & { seconds: number | null } {
  const last = runs[0];
  const ms = !last ? null : last.durationMs ?? (last.finishedAt ? Date.parse(last.finishedAt) - Date.parse(last.startedAt) : now.getTime() - Date.parse(last.startedAt));
  const firing = ms !== null && ms > t.syncDurationMinutes * 60_000;
  const running = last?.status === 'running' || last?.status === 'staged';
  return {
    alert: 'sync_duration', firing, instance: last?.runId, severity: 'warning', seconds: ms === null ? null : Math.round(ms / 1000),
    title: `Instrument sync ${running ? 'running' : 'took'} ${ms === null ? '?' : minutes(ms)} min`,
    message: firing
      ? `run ${last!.runId} ${running ? 'has been running' : 'ran'} for ${minutes(ms!)} min (threshold ${t.syncDurationMinutes} min); check the source's speed and the sync worker.`
      : 'the latest sync is within its time',
    workflowId: last?.workflowId, refs: last ? { syncRunId: last.runId } : {},
  };
}

export function syncErrorRate(runs: InstrumentSyncReport[], t: PerformanceThresholds): AlertStatus & { ratio: number | null } {
  const finished = runs.filter((r) => r.status !== 'running' && r.status !== 'staged').slice(0, SYNC_ERROR_WINDOW);
  const failed = finished.filter((r) => FAILED.has(r.status));
  const ratio = finished.length === 0 ? null : failed.length / finished.length;
  const firing = finished.length >= SYNC_ERROR_MIN_RUNS && ratio !== null && ratio > t.syncErrorRate;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return {
    alert: 'sync_error_rate', firing, instance: failed[0]?.runId, severity: 'warning', ratio,
    title: `Instrument sync error rate ${ratio === null ? '-' : pct(ratio)}`,
    message: firing
      ? `${failed.length} of the last ${finished.length} syncs did not succeed (threshold ${pct(t.syncErrorRate)}); newest: ${failed[0]!.runId} (${failed[0]!.status}).`
      : `${failed.length} of the last ${finished.length} syncs did not succeed`,
    refs: { failed: String(failed.length), finished: String(finished.length) },
  };
}

export function lastSuccessfulSync(runs: InstrumentSyncReport[], now: Date, t: PerformanceThresholds): AlertStatus & { at: Date | null } {
  const ok = runs.find((r) => r.status === 'succeeded');
  const at = ok ? new Date(ok.finishedAt ?? ok.startedAt) : null;
  // With no success listed, the oldest run listed says how long syncs have been tried without one.
  const since = at ?? (runs.length ? new Date(runs[runs.length - 1]!.startedAt) : null);
  const firing = since !== null && now.getTime() - since.getTime() > t.syncStaleHours * 3600_000;
  const hours = since === null ? null : Math.floor((now.getTime() - since.getTime()) / 3600_000);
  return {
    alert: 'sync_stale', firing, instance: ok?.runId ?? 'none', severity: 'critical', at,
    title: at ? `Last successful instrument sync ${hours} h ago` : 'No successful instrument sync',
    message: firing
      ? `${at ? `the last successful sync (${ok!.runId}) finished ${hours} h ago` : `no sync has succeeded in ${hours} h`} (threshold ${t.syncStaleHours} h); ref.instruments is out of date. Check the sync schedule and the latest runs.`
      : 'a recent sync succeeded',
    refs: ok ? { syncRunId: ok.runId } : {},
  };
}

const rateOf = (l: LoadRecord) => l.rowsCommitted / Math.max((l.finishedAt!.getTime() - l.startedAt.getTime()) / 1000, 0.001);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function ingestRate(loads: LoadRecord[], t: PerformanceThresholds): AlertStatus & { rowsPerSecond: number | null; median: number | null } {
  const done = loads.filter((l) => l.status === 'loaded' && l.finishedAt && l.rowsCommitted > 0);
  const last = done[0];
  const earlier = done.slice(1, 1 + INGEST_MEDIAN_LOADS).map(rateOf);
  const rate = last ? rateOf(last) : null;
  const med = earlier.length >= INGEST_MEDIAN_MIN ? median(earlier) : null;
  const firing = rate !== null && med !== null && rate < med * t.ingestRateFactor;
  const r = (x: number | null) => (x === null ? '-' : Math.round(x).toLocaleString('en-US'));
  return {
    alert: 'ingest_rate', firing, instance: last?.loadId, severity: 'warning', rowsPerSecond: rate, median: med,
    title: `Ingest rate ${r(rate)} rows/s`,
    message: firing
      ? `load ${last!.loadId} into ${last!.target.schema}.${last!.target.name} ran at ${r(rate)} rows/s, under ${Math.round(t.ingestRateFactor * 100)} % of the recent median ${r(med)} rows/s; check the database and the worker's host.`
      : `latest load ${r(rate)} rows/s, recent median ${r(med)} rows/s`,
    refs: last ? { loadId: last.loadId, table: `${last.target.schema}.${last.target.name}` } : {},
  };
}
