// Aggregates the dashboard's charts draw, each one query grouped in the database over a period [from, to):
// loads per UTC day, failed files by category, deliveries per channel with latency percentiles, changes per sync.
// Each dialect owns its SQL (src/db/postgres/charts.ts, src/db/mssql/charts.ts); migration 016 indexes the periods.

export interface ChartRange {
  from: Date;
  /** Exclusive. */
  to: Date;
}

/** Loads started on one UTC day (ref.loads). */
export interface LoadDayRow {
  /** yyyy-MM-dd, UTC. */
  day: string;
  loads: number;
  loaded: number;
  /** Aborted: the load failed or was cancelled and left nothing. */
  aborted: number;
  reverted: number;
  /** Still loading. */
  loading: number;
  /** Rows committed by the day's loaded loads. */
  rows: number;
  /** Start to finish of the day's loaded loads: their sum (for an average) and the longest. */
  durationMsTotal: number;
  durationMsMax: number | null;
}

/** Files that ended in error/ in the period, by failure category (ref.file_monitor_tracking). */
export interface FailureCategoryRow {
  /** One of the failure types of src/errors.ts; null for rows without one. */
  category: string | null;
  files: number;
}

/** Deliveries created in the period on one channel type (dist.delivery_history). */
export interface ChannelDeliveryRow {
  channel: string;
  deliveries: number;
  delivered: number;
  failed: number;
  cancelled: number;
  inProgress: number;
  /** Nearest-rank percentiles of latency_ms over the delivered ones; null when none was delivered. */
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
}

/** One instrument sync started in the period and what it changed (ref.instrument_sync_runs); counts null before the report. */
export interface SyncChangeRow {
  runId: string;
  status: string;
  trigger: string;
  startedAt: Date;
  added: number | null;
  updated: number | null;
  deactivated: number | null;
  reactivated: number | null;
  durationMs: number | null;
}

export interface ChartStore {
  /** Days that had a load, oldest first (empty days are not returned). */
  loadsPerDay(range: ChartRange): Promise<LoadDayRow[]>;
  /** Most files first. */
  failuresByCategory(range: ChartRange): Promise<FailureCategoryRow[]>;
  /** By channel name. */
  deliveriesByChannel(range: ChartRange): Promise<ChannelDeliveryRow[]>;
  /** The newest `limit` syncs of the period, oldest first. */
  syncChanges(range: ChartRange, limit: number): Promise<SyncChangeRow[]>;
}

/** The most syncs one chart shows: a period of on-demand syncs could otherwise hold thousands of bars. */
export const MAX_CHART_SYNCS = 400;
