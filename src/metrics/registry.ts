// Every Prometheus metric refdata defines (prom-client), and the functions the code that records outcomes calls.
// Counters live in the process where the work happens: `refdata dev` is one process, so the API's /metrics has
// them all; a separate worker serves its own at REFDATA_WORKER_METRICS_PORT (src/metrics/exposition.ts).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'refdata_process_' });

const registers = [metricsRegistry];

export const filesTotal = new Counter({
  name: 'refdata_files_total',
  help: 'Dropped files by outcome (loaded, error, cancelled, duplicate, vanished).',
  labelNames: ['outcome'] as const,
  registers,
});

export const rowsLoadedTotal = new Counter({
  name: 'refdata_rows_loaded_total',
  help: 'Rows loaded by finished loads, by table and load type.',
  labelNames: ['table', 'mode'] as const,
  registers,
});

export const rowsQuarantinedTotal = new Counter({
  name: 'refdata_rows_quarantined_total',
  help: 'Rows finished loads set aside in ref.invalid_records (quarantine policy), by table and load type; not in refdata_rows_loaded_total.',
  labelNames: ['table', 'mode'] as const,
  registers,
});

export const loadDurationSeconds = new Histogram({
  name: 'refdata_load_duration_seconds',
  help: 'Time from the start of a load to its swap-in (or append commit).',
  labelNames: ['mode'] as const,
  buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
  registers,
});

export const loadsRevertedTotal = new Counter({
  name: 'refdata_loads_reverted_total',
  help: 'Finished loads undone by an operator.',
  registers,
});

export const syncsTotal = new Counter({
  name: 'refdata_instrument_syncs_total',
  help: 'Instrument master syncs by final status (succeeded, failed, guard_tripped, cancelled, timed_out).',
  labelNames: ['status'] as const,
  registers,
});

export const syncChangesTotal = new Counter({
  name: 'refdata_instrument_sync_changes_total',
  help: 'Instruments changed by successful syncs, by kind of change.',
  labelNames: ['change'] as const,
  registers,
});

export const distributionRowsTotal = new Counter({
  name: 'refdata_distribution_rows_total',
  help: 'Rows written to distribution files, by file type (full, delta, cancellation, invalid).',
  labelNames: ['file_type'] as const,
  registers,
});

export const distributionRunsTotal = new Counter({
  name: 'refdata_distribution_runs_total',
  help: 'Distribution runs by final status.',
  labelNames: ['status'] as const,
  registers,
});

export const deliveriesTotal = new Counter({
  name: 'refdata_deliveries_total',
  help: 'Delivery attempts by channel and outcome (delivered, retrying, failed).',
  labelNames: ['channel', 'outcome'] as const,
  registers,
});

export const deliveryLatencySeconds = new Histogram({
  name: 'refdata_delivery_latency_seconds',
  help: 'Time from a delivery being accepted to the peer confirming receipt, by channel.',
  labelNames: ['channel'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
  registers,
});

export const outboxLagSeconds = new Gauge({
  name: 'refdata_outbox_lag_seconds',
  help: 'Age of the oldest event in the outbox not yet published (0 when it is empty).',
  registers,
});

export const outboxPending = new Gauge({
  name: 'refdata_outbox_pending',
  help: 'Events in the outbox not yet published.',
  registers,
});

export const syncLastSuccessSeconds = new Gauge({
  name: 'refdata_instrument_sync_last_success_timestamp_seconds',
  help: 'When the last successful instrument sync finished (Unix seconds; absent before the first).',
  registers,
});

export const syncLastDurationSeconds = new Gauge({
  name: 'refdata_instrument_sync_last_duration_seconds',
  help: 'How long the latest instrument sync ran, or has been running.',
  registers,
});

export const syncErrorRatio = new Gauge({
  name: 'refdata_instrument_sync_error_ratio',
  help: 'Share of the last 20 finished instrument syncs that did not succeed.',
  registers,
});

export const ingestRowsPerSecond = new Gauge({
  name: 'refdata_ingest_rows_per_second',
  help: 'Rows per second of the latest finished load (`last`) and the median of the 20 before it (`median`).',
  labelNames: ['which'] as const,
  registers,
});

export const alertsActive = new Gauge({
  name: 'refdata_alert_active',
  help: 'Alerts currently raised by the threshold evaluator (1 = active).',
  labelNames: ['alert'] as const,
  registers,
});

export const diskFreeBytes = new Gauge({
  name: 'refdata_disk_free_bytes',
  help: 'Free space (for an unprivileged process) on the file system of a watched folder: drop, archive (the fullest processed/ or error/), state.',
  labelNames: ['folder'] as const,
  registers,
});

export const diskSizeBytes = new Gauge({
  name: 'refdata_disk_size_bytes',
  help: 'Size of the file system of a watched folder: drop, archive, state.',
  labelNames: ['folder'] as const,
  registers,
});

export const taskQueuePollers = new Gauge({
  name: 'refdata_task_queue_pollers',
  help: 'Workers that polled a task queue in the last 2 minutes (Temporal DescribeTaskQueue, workflow and activity pollers by identity); 0 = no worker.',
  labelNames: ['task_queue'] as const,
  registers,
});

export const notificationsTotal = new Counter({
  name: 'refdata_notifications_total',
  help: 'Operator notifications raised, by kind.',
  labelNames: ['kind'] as const,
  registers,
});

/** Files: call once per final outcome (activities/files.ts recordOutcome). */
export function recordFileOutcome(outcome: string): void {
  filesTotal.inc({ outcome });
}

/** Loads: call when a load is finished (swapped in / committed). */
export function recordLoadFinished(l: { table: string; mode: string; rows: number; quarantined: number; seconds: number }): void {
  rowsLoadedTotal.inc({ table: l.table, mode: l.mode }, l.rows);
  if (l.quarantined > 0) rowsQuarantinedTotal.inc({ table: l.table, mode: l.mode }, l.quarantined);
  loadDurationSeconds.observe({ mode: l.mode }, l.seconds);
}

export function recordLoadReverted(): void {
  loadsRevertedTotal.inc();
}

/** Instrument sync: call once when a run ends, with its final status and (on success) its counts. */
export function recordSyncRun(s: { status: string; added?: number | null; updated?: number | null; deactivated?: number | null; reactivated?: number | null; invalid?: number | null }): void {
  syncsTotal.inc({ status: s.status });
  for (const change of ['added', 'updated', 'deactivated', 'reactivated', 'invalid'] as const) {
    const n = s[change];
    if (n) syncChangesTotal.inc({ change }, n);
  }
}

/** Distribution: call per file written (rows) and once per run (status). */
export function recordDistributionFile(fileType: string, rows: number): void {
  distributionRowsTotal.inc({ file_type: fileType }, rows);
}

export function recordDistributionRun(status: string): void {
  distributionRunsTotal.inc({ status });
}

/**
 * Deliveries: call after every attempt. `latencyMs` (accepted → receipt) only on `delivered`; `retrying` is an
 * attempt that failed and will be retried, `failed` is the final give-up.
 */
export function recordDelivery(d: { channel: string; outcome: 'delivered' | 'retrying' | 'failed'; latencyMs?: number }): void {
  deliveriesTotal.inc({ channel: d.channel, outcome: d.outcome });
  if (d.outcome === 'delivered' && d.latencyMs !== undefined) deliveryLatencySeconds.observe({ channel: d.channel }, d.latencyMs / 1000);
}

/** Outbox: call from the relay's loop (or a periodic probe) with the pending count and the oldest age. */
export function setOutboxLag(o: { pending: number; oldestAgeSeconds: number }): void {
  outboxPending.set(o.pending);
  outboxLagSeconds.set(o.pending === 0 ? 0 : o.oldestAgeSeconds);
}
