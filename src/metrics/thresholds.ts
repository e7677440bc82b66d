// Alert thresholds, evaluated periodically in the API process: crossing one raises a dashboard notification and a
// log event (`alert.raised`), going back under it logs `alert.cleared`. Each alert is raised once per instance
// (a new failed sync run is a new instance), not on every evaluation.
import type { AlertConfig } from '../config';
import type { Database } from '../db/types';
import type { Logger } from '../log/logger';
import type { Notifier, Severity } from '../notify/notifier';
import { defaultRetryPolicies } from '../reporting/retry-policy';
import type { ChannelType } from '../channels/types';
import { alertsActive, ingestRowsPerSecond, setOutboxLag, syncErrorRatio, syncLastDurationSeconds, syncLastSuccessSeconds } from './registry';
import { ingestRate, lastSuccessfulSync, syncDuration, syncErrorRate } from './performance-alerts';
import { hostAlerts, recordHostMetrics, type HostSnapshot } from './host-health';

/** What one check found: firing or not, and if firing, what to tell the operator. */
export interface AlertStatus {
  /** Stable name: file_error_rate, sync_failed, delivery_overdue, outbox_lag, sync_duration, sync_error_rate, sync_stale, ingest_rate, disk_free_<folder>, memory_rss, task_queue_pollers. */
  alert: string;
  firing: boolean;
  /** Identifies what fired (a run id, a set of deliveries); a new instance while firing is raised again. */
  instance?: string;
  severity?: Severity;
  title?: string;
  message?: string;
  workflowId?: string;
  refs?: Record<string, string>;
}

export interface OverdueDelivery {
  deliveryId: string;
  channel: string;
  createdAt: Date;
  deadline: Date;
  workflowId?: string;
}

export interface ThresholdDeps {
  db: Pick<Database, 'listTracking' | 'instruments' | 'outbox'> & Partial<Pick<Database, 'listLoads'>>;
  notifier: Notifier;
  log: Logger;
  config: AlertConfig;
  now?: () => Date;
  /** Deliveries not delivered by their deadline (overdueFromStore reads the delivery store); absent: not checked. */
  overdueDeliveries?: (defaultDeadlineMinutes: number, now: Date) => Promise<OverdueDelivery[]>;
  /** Disk, memory and task-queue pollers now (host-health.ts readHost); absent: not checked. */
  host?: () => Promise<HostSnapshot>;
}

export interface ThresholdEvaluator {
  evaluate(): Promise<AlertStatus[]>;
  /** Evaluates every `config.intervalMs` until the returned function is called. */
  start(): () => void;
}

export function createThresholdEvaluator(deps: ThresholdDeps): ThresholdEvaluator {
  const now = deps.now ?? (() => new Date());
  const active = new Map<string, AlertStatus>();
  const checks: Array<() => Promise<AlertStatus | AlertStatus[] | null>> = [
    () => fileErrorRate(deps, now()),
    () => syncFailed(deps),
    () => (deps.overdueDeliveries ? deliveryOverdue(deps.overdueDeliveries, deps.config, now()) : Promise.resolve(null)),
    () => outboxLag(deps),
    ...performanceChecks(deps, now),
    () => hostChecks(deps),
  ];

  function transition(s: AlertStatus): void {
    const was = active.get(s.alert);
    if (s.firing && (!was || was.instance !== s.instance)) {
      active.set(s.alert, s);
      alertsActive.set({ alert: s.alert }, 1);
      deps.log.warn({ event: 'alert.raised', alert: s.alert, instance: s.instance, ...s.refs }, `${s.title}: ${s.message}`);
      deps.notifier.notify({
        id: `threshold:${s.alert}:${s.instance ?? ''}:${now().toISOString()}`,
        kind: 'threshold.crossed', severity: s.severity ?? 'warning', title: s.title ?? s.alert, message: s.message ?? '',
        workflowId: s.workflowId, refs: { alert: s.alert, ...s.refs },
      });
    } else if (!s.firing && was) {
      active.delete(s.alert);
      alertsActive.set({ alert: s.alert }, 0);
      deps.log.info({ event: 'alert.cleared', alert: s.alert, instance: was.instance }, `cleared: ${was.title}`);
      deps.notifier.notify({
        kind: 'threshold.cleared', severity: 'info', title: `Cleared: ${was.title ?? s.alert}`,
        message: s.message ?? 'back under its threshold', refs: { alert: s.alert },
      });
    }
  }

  async function evaluate(): Promise<AlertStatus[]> {
    const out: AlertStatus[] = [];
    for (const check of checks) {
      // One failing check (its store unreachable) must not hide the others.
      const s = await check().catch((err: Error) => {
        deps.log.warn({ event: 'alert.check_failed', err: err.message }, 'an alert check could not run');
        return null;
      });
      for (const one of [s ?? []].flat()) {
        transition(one);
        out.push(one);
      }
    }
    return out;
  }

  return {
    evaluate,
    start() {
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        void evaluate().finally(() => (running = false));
      }, deps.config.intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

/** The documents' performance thresholds, each also kept as a metric; absent thresholds (an older config): none. */
function performanceChecks(deps: ThresholdDeps, now: () => Date): Array<() => Promise<AlertStatus | null>> {
  const t = deps.config.performance;
  if (!t) return [];
  const runs = () => deps.db.instruments.listSyncRuns(50);
  return [
    async () => {
      const s = syncDuration(await runs(), now(), t);
      if (s.seconds !== null) syncLastDurationSeconds.set(s.seconds);
      return s;
    },
    async () => {
      const s = syncErrorRate(await runs(), t);
      if (s.ratio !== null) syncErrorRatio.set(s.ratio);
      return s;
    },
    async () => {
      const s = lastSuccessfulSync(await runs(), now(), t);
      if (s.at) syncLastSuccessSeconds.set(Math.floor(s.at.getTime() / 1000));
      return s;
    },
    async () => {
      if (!deps.db.listLoads) return null;
      const s = ingestRate(await deps.db.listLoads({ status: 'loaded', limit: 50 }), t);
      if (s.rowsPerSecond !== null) ingestRowsPerSecond.set({ which: 'last' }, s.rowsPerSecond);
      if (s.median !== null) ingestRowsPerSecond.set({ which: 'median' }, s.median);
      return s;
    },
  ];
}

/** The host's checks: one snapshot per evaluation, kept as metrics, each threshold an alert of its own. */
async function hostChecks(deps: ThresholdDeps): Promise<AlertStatus[] | null> {
  if (!deps.host || !deps.config.host) return null;
  const snapshot = await deps.host();
  recordHostMetrics(snapshot);
  return hostAlerts(snapshot, deps.config.host);
}

/** Share of files finished in the window that went to error/ (duplicates count as fine, cancellations not at all). */
async function fileErrorRate(deps: ThresholdDeps, now: Date): Promise<AlertStatus> {
  const since = now.getTime() - deps.config.windowMinutes * 60_000;
  const recent = (await deps.db.listTracking({ limit: 1000 })).filter((r) => r.processedAt && r.processedAt.getTime() >= since);
  const finished = recent.filter((r) => r.status === 'loaded' || r.status === 'error' || r.status === 'duplicate');
  const failed = finished.filter((r) => r.status === 'error');
  const rate = finished.length ? failed.length / finished.length : 0;
  const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
  const firing = finished.length >= deps.config.minFiles && rate > deps.config.fileErrorRate;
  return {
    alert: 'file_error_rate',
    firing,
    instance: 'window',
    severity: 'warning',
    title: `File error rate ${pct(rate)}`,
    message: firing
      ? `${failed.length} of ${finished.length} files in the last ${deps.config.windowMinutes} min went to error/ (threshold ${pct(deps.config.fileErrorRate)}); newest: ${failed[0]?.fileName ?? '-'}. Read the .error.json files beside them.`
      : `${failed.length} of ${finished.length} files in error in the last ${deps.config.windowMinutes} min`,
    refs: { failed: String(failed.length), finished: String(finished.length) },
  };
}

/** The latest finished instrument sync failed, was stopped by its guard or was ended at its time limit. */
async function syncFailed(deps: ThresholdDeps): Promise<AlertStatus> {
  const runs = await deps.db.instruments.listSyncRuns(10);
  const last = runs.find((r) => r.status !== 'running' && r.status !== 'staged');
  const firing = last !== undefined && (last.status === 'failed' || last.status === 'guard_tripped' || last.status === 'timed_out');
  return {
    alert: 'sync_failed',
    firing,
    instance: last?.runId,
    severity: 'critical',
    title: last?.status === 'guard_tripped' ? 'Instrument sync stopped by its guard' : last?.status === 'timed_out' ? 'Instrument sync ended at its time limit' : 'Instrument sync failed',
    message: firing ? `run ${last!.runId}: ${last!.errorMessage ?? last!.status}. ref.instruments still holds the previous master.` : 'the latest sync succeeded',
    workflowId: last?.workflowId,
    refs: last ? { syncRunId: last.runId } : {},
  };
}

async function deliveryOverdue(list: NonNullable<ThresholdDeps['overdueDeliveries']>, config: AlertConfig, now: Date): Promise<AlertStatus> {
  const overdue = await list(config.deliveryDeadlineMinutes, now);
  const oldest = [...overdue].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())[0];
  return {
    alert: 'delivery_overdue',
    firing: overdue.length > 0,
    instance: overdue.map((d) => d.deliveryId).sort().join(','),
    severity: 'critical',
    title: `${overdue.length} deliveries past their deadline`,
    message: oldest
      ? `oldest: ${oldest.deliveryId} (${oldest.channel}), created ${oldest.createdAt.toISOString()}, due ${oldest.deadline.toISOString()}. Check the channel, then replay.`
      : 'no delivery is past its deadline',
    workflowId: oldest?.workflowId,
    refs: oldest ? { deliveryId: oldest.deliveryId, channel: oldest.channel } : {},
  };
}

/** Reads the outbox (any process may, it is a table) and keeps refdata_outbox_lag_seconds current as it goes. */
async function outboxLag(deps: ThresholdDeps): Promise<AlertStatus> {
  const o = await deps.db.outbox.lag();
  const lag = (o.oldestUnpublishedAgeMs ?? 0) / 1000;
  setOutboxLag({ pending: o.unpublished, oldestAgeSeconds: lag });
  const firing = lag > deps.config.outboxLagSeconds;
  return {
    alert: 'outbox_lag',
    firing,
    instance: 'outbox',
    severity: 'warning',
    title: `Events ${Math.round(lag)} s behind`,
    message: firing
      ? `the oldest unpublished event is ${Math.round(lag)} s old (threshold ${deps.config.outboxLagSeconds} s): Kafka is unreachable or the relay stopped. Nothing is lost; check KAFKA_BROKERS and the relay's log.`
      : 'the outbox is keeping up',
  };
}

/**
 * Deliveries still pending, sending or retrying past their deadline: the alert's own limit or the channel's retry
 * deadline, whichever is sooner. A delivery past its channel deadline should have failed; still open means no
 * worker is running its workflow.
 */
export function overdueFromStore(db: Pick<Database, 'distribution'>): NonNullable<ThresholdDeps['overdueDeliveries']> {
  return async (defaultDeadlineMinutes, now) => {
    const open = (await Promise.all((['pending', 'sending', 'retrying'] as const).map((status) => db.distribution.listDeliveries({ status, limit: 500 })))).flat();
    return open.flatMap((d) => {
      const channelMs = defaultRetryPolicies[d.channel as ChannelType]?.deadlineMs ?? Infinity;
      const deadline = new Date(d.requestedAt.getTime() + Math.min(channelMs, defaultDeadlineMinutes * 60_000));
      return deadline < now ? [{ deliveryId: d.deliveryId, channel: d.channel, createdAt: d.requestedAt, deadline, workflowId: d.workflowId }] : [];
    });
  };
}
