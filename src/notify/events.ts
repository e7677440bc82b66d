// The notifications refdata raises, one builder each, so ids (for de-duplication) and wording stay consistent
// wherever they are raised from: activities, the API, the ledger watch.
import path from 'node:path';
import { audit, type AuditLogger } from '../log/audit';
import { recordDelivery, recordLoadReverted, recordSyncRun } from '../metrics/registry';
import type { ChannelRecord, DeliveryRecord } from '../reporting/types';
import type { InstrumentSyncReport } from '../instruments/types';
import type { Notification, Notifier } from './notifier';

export function notifyFileFailed(
  notifier: Notifier,
  f: { workflowId?: string; runId?: string; filePath: string; status: 'error' | 'cancelled'; message?: string | null; archivedTo?: string | null; trackingId?: number },
): Notification | null {
  const name = path.basename(f.filePath);
  // One notification per run of the file; without a run id (ledger watch) the tracking row's id stands in.
  const key = f.runId ?? `tracking-${f.trackingId ?? name}`;
  return notifier.notify({
    id: `file.failed:${f.workflowId ?? f.filePath}:${key}`,
    kind: 'file.failed',
    severity: f.status === 'cancelled' ? 'info' : 'warning',
    title: f.status === 'cancelled' ? `File ${name} cancelled` : `File ${name} failed`,
    message: f.status === 'cancelled'
      ? `${name} was cancelled; nothing of it was kept${f.archivedTo ? `; the file is in ${path.dirname(f.archivedTo)}` : ''}.`
      : `${clause(f.message ?? 'load failed')}. Fix the file and drop it again${f.archivedTo ? `; the original and its .error.json are in ${path.dirname(f.archivedTo)}` : ''}.`,
    workflowId: f.workflowId,
    refs: compact({ filePath: f.filePath, runId: f.runId, archivedTo: f.archivedTo ?? undefined }),
  });
}

/** Quarantined rows never reached the table, so a revert neither deletes nor counts them; it says they exist. */
function quarantineNote(quarantined = 0): string {
  return quarantined > 0 ? ` (${quarantined.toLocaleString('en-US')} quarantined rows stay in ref.invalid_records)` : '';
}

export function notifyLoadReverted(notifier: Notifier, l: { loadId: string; table: string; mode: string; rows: number; quarantined?: number; by?: string }): Notification | null {
  return notifier.notify({
    id: `load.reverted:${l.loadId}`,
    kind: 'load.reverted',
    severity: 'info',
    title: `Load ${l.loadId} reverted`,
    message: l.mode === 'fullload'
      ? `${l.table} holds its previous contents again (the reverted contents stay in bkp).`
      : `${l.rows.toLocaleString('en-US')} rows of ${l.loadId} were deleted from ${l.table}${quarantineNote(l.quarantined)}.`,
    refs: compact({ loadId: l.loadId, table: l.table, by: l.by }),
  });
}

export function notifySyncFailed(
  notifier: Notifier,
  s: { syncRunId: string; workflowId: string; status: string; message: string },
): Notification | null {
  const guard = s.status === 'guard_tripped';
  const timedOut = s.status === 'timed_out';
  return notifier.notify({
    id: `sync.failed:${s.syncRunId}`,
    kind: 'sync.failed',
    severity: 'critical',
    title: guard ? 'Instrument sync stopped by its guard' : timedOut ? 'Instrument sync ended at its time limit' : 'Instrument sync failed',
    message: guard
      ? `${clause(s.message)}. ref.instruments was not changed. Check the source file; if the change is real, run \`refdata sync --force\`.`
      : timedOut
        ? `${clause(s.message)}. The lock is free again and the next sync runs as scheduled; check the source's speed and the worker.`
        : `${clause(s.message)}. ref.instruments was not changed; yesterday's master is still in use.`,
    workflowId: s.workflowId,
    refs: { syncRunId: s.syncRunId, status: s.status },
  });
}

export function notifyDistributionFailed(notifier: Notifier, d: { workflowId: string; businessDate: string; message: string }): Notification | null {
  return notifier.notify({
    id: `distribution.failed:${d.workflowId}:${d.businessDate}`,
    kind: 'distribution.failed',
    severity: 'critical',
    title: `Distribution for ${d.businessDate} failed`,
    message: `${clause(d.message)}. Subscribers have not received the ${d.businessDate} files.`,
    workflowId: d.workflowId,
    refs: { businessDate: d.businessDate },
  });
}

export function notifyDeliveryFailed(
  notifier: Notifier,
  d: { deliveryId: string; channel: string; workflowId?: string; runId?: string; subscriptionId?: string; message: string },
): Notification | null {
  return notifier.notify({
    id: `delivery.failed:${d.deliveryId}:${d.runId ?? ''}`,
    kind: 'delivery.failed',
    severity: 'warning',
    title: `Delivery ${d.deliveryId} failed (${d.channel})`,
    message: `${clause(d.message)}. Fix the channel or the subscription, then replay the delivery.`,
    workflowId: d.workflowId,
    refs: compact({ deliveryId: d.deliveryId, channel: d.channel, subscriptionId: d.subscriptionId }),
  });
}

/** The ids a channel notification and its audit event carry. */
function channelRefs(c: ChannelRecord): Record<string, string> {
  return compact({ channelId: c.channelId, channel: c.channelType, subscriptionId: c.subscriptionId ?? undefined, subscriberId: c.subscriberId ?? undefined });
}

/** Same id wherever it is raised (the activity that paused it, the ledger watch of another process): one per pause. */
export function notifyChannelUnhealthy(notifier: Notifier, c: ChannelRecord): Notification | null {
  const h = c.health;
  return notifier.notify({
    id: `channel.unhealthy:${c.channelId}:${h.pausedAt?.toISOString() ?? ''}`,
    kind: 'channel.unhealthy',
    severity: 'warning',
    title: `Channel ${c.channelId} (${c.channelType}) is unhealthy: deliveries paused`,
    message: `${h.consecutiveFailures} delivery attempts in a row failed${h.lastError ? ` (last: ${clause(h.lastError)})` : ''}. ` +
      `Its deliveries wait without spending attempts while refdata probes the destination with backoff${h.nextProbeAt ? ` (first probe at ${h.nextProbeAt.toISOString()})` : ''}. ` +
      `Fix the destination or the channel's config, then resume it: \`refdata channels resume ${c.channelId}\`.`,
    refs: channelRefs(c),
  });
}

export function notifyChannelRecovered(notifier: Notifier, c: ChannelRecord, via: 'probe' | 'delivery' | 'operator', by?: string): Notification | null {
  const how = via === 'probe' ? 'a probe of its destination succeeded' : via === 'delivery' ? 'a delivery to it succeeded' : `${by ?? 'an operator'} resumed it`;
  return notifier.notify({
    kind: 'channel.recovered',
    severity: 'info',
    title: `Channel ${c.channelId} (${c.channelType}) is healthy again`,
    message: `${how[0].toUpperCase()}${how.slice(1)}; its waiting deliveries go out now.`,
    refs: compact({ ...channelRefs(c), via, by }),
  });
}

export function notifyChannelDisabled(notifier: Notifier, c: ChannelRecord): Notification | null {
  return notifier.notify({
    id: `channel.disabled:${c.channelId}:${c.disabledAt?.toISOString() ?? ''}`,
    kind: 'channel.disabled',
    severity: 'warning',
    title: `Channel ${c.channelId} (${c.channelType}) disabled: the destination is gone`,
    message: `${clause(c.disabledReason ?? 'the destination answered that it no longer exists')}. No more deliveries go to it. ` +
      `Fix the destination (PATCH /api/v1/reporting/channels/${c.channelId} with a new config and "enabled": true), then replay the failed deliveries.`,
    refs: channelRefs(c),
  });
}

/** A channel became unhealthy and was paused: audit event, log event and, where someone listens, the notification. */
export function announceChannelUnhealthy(log: AuditLogger, notifier: Notifier | undefined, c: ChannelRecord): void {
  audit(log, 'channel.unhealthy', {
    channelId: c.channelId, channel: c.channelType, subscriptionId: c.subscriptionId ?? undefined, consecutiveFailures: c.health.consecutiveFailures,
    error: c.health.lastError ?? undefined, nextProbeAt: c.health.nextProbeAt?.toISOString(),
  }, 'warn');
  if (notifier) notifyChannelUnhealthy(notifier, c);
}

/** A paused channel is healthy again (probe, a delivery in flight, or an operator). */
export function announceChannelRecovered(log: AuditLogger, notifier: Notifier | undefined, c: ChannelRecord, via: 'probe' | 'delivery' | 'operator', by?: string): void {
  audit(log, via === 'operator' ? 'channel.resumed' : 'channel.recovered', { channelId: c.channelId, channel: c.channelType, subscriptionId: c.subscriptionId ?? undefined, via, by });
  if (notifier) notifyChannelRecovered(notifier, c, via, by);
}

/** A GONE answer switched the channel off. */
export function announceChannelDisabled(log: AuditLogger, notifier: Notifier | undefined, c: ChannelRecord): void {
  audit(log, 'channel.disabled', { channelId: c.channelId, channel: c.channelType, subscriptionId: c.subscriptionId ?? undefined, reason: c.disabledReason ?? undefined }, 'warn');
  if (notifier) notifyChannelDisabled(notifier, c);
}

/** A load was reverted (API or CLI): the audit event, the metric and, where someone listens, the notification. */
export function announceLoadReverted(
  log: AuditLogger, notifier: Notifier | undefined, l: { loadId: string; table: string; mode: string; rows: number; quarantined?: number; filePath: string },
): void {
  audit(log, 'load.reverted', { loadId: l.loadId, table: l.table, filePath: l.filePath, mode: l.mode, rows: l.rows, quarantined: l.quarantined ?? 0 });
  recordLoadReverted();
  if (notifier) notifyLoadReverted(notifier, l);
}

/** Changes already announced by this process, so a status written twice (an attempt's, then the run's) counts once. */
const announcedChanges = new Set<string>();

/**
 * A delivery changed status (call it wherever the new record is written): one audit event and, for an attempt's
 * outcome, the deliveries metric; the latency histogram on delivered.
 */
export function announceDeliveryChange(log: AuditLogger, d: DeliveryRecord): void {
  const key = `${d.deliveryId}|${d.status}|${d.retryCount}|${d.replayCount}`;
  if (announcedChanges.has(key)) return;
  announcedChanges.add(key);
  if (announcedChanges.size > 10_000) announcedChanges.delete(announcedChanges.values().next().value!);
  const failed = d.status === 'failed';
  audit(log, `delivery.${d.status}`, {
    deliveryId: d.deliveryId, workflowId: d.workflowId, runId: d.runId ?? undefined, subscriptionId: d.subscriptionId, channel: d.channel,
    reportId: d.reportId, reportType: d.reportType, retryCount: d.retryCount, replayCount: d.replayCount, error: deliveryErrorText(d.errorDetails) ?? undefined,
  }, failed ? 'warn' : 'info');
  if (d.status === 'delivered' || d.status === 'retrying' || d.status === 'failed') {
    recordDelivery({ channel: d.channel, outcome: d.status, latencyMs: d.latencyMs ?? undefined });
  }
}

/** An instrument sync ended (succeeded with its report, or failed / guard_tripped / cancelled): audit event and metrics. */
export function announceSyncEnded(log: AuditLogger, s: { syncRunId: string; status: string; report?: InstrumentSyncReport; message?: string }): void {
  const r = s.report;
  audit(log, `sync.${s.status}`, {
    syncRunId: s.syncRunId, table: 'ref.instruments', message: s.message,
    ...(r ? { records: r.records, invalid: r.invalid, added: r.added, updated: r.updated, deactivated: r.deactivated, reactivated: r.reactivated } : {}),
  }, s.status === 'succeeded' || s.status === 'cancelled' ? 'info' : 'warn');
  recordSyncRun({ status: s.status, added: r?.added, updated: r?.updated, deactivated: r?.deactivated, reactivated: r?.reactivated, invalid: r?.invalid });
}

/** delivery_history keeps the last error as JSON ({code, message, …}): `CODE: message` for people. */
export function deliveryErrorText(details: string | null): string | null {
  if (!details) return null;
  try {
    const e = JSON.parse(details) as { code?: unknown; message?: unknown };
    return typeof e.message === 'string' ? `${typeof e.code === 'string' ? `${e.code}: ` : ''}${e.message}` : details;
  } catch {
    return details;
  }
}

/** A message as the first clause of a sentence we continue: without its own full stop. */
function clause(message: string): string {
  return message.trim().replace(/[.\s]+$/, '');
}

function compact(refs: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(refs).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The scheduled reference-config check left problems (not repaired, or repair off): one notification per set of problems. */
export function notifyConfigProblems(
  notifier: Notifier,
  c: { workflowId?: string; problems: { kind: string; table: { schema: string; name: string } }[]; repairOn: boolean },
): Notification | null {
  const names = c.problems.map((p) => `${p.kind} ${p.table.schema}.${p.table.name}`).sort();
  return notifier.notify({
    id: `config.problems:${names.join(',')}`,
    kind: 'config.problems',
    severity: 'warning',
    title: `Reference config: ${names.length} problem${names.length === 1 ? '' : 's'}`,
    message: `${names.slice(0, 10).join('; ')}${names.length > 10 ? `; and ${names.length - 10} more` : ''}. ${c.repairOn ? 'The repair did not clear them; check the tables by hand' : 'Run `refdata config validate --repair` or POST /api/v1/reference-config/repair'}.`,
    workflowId: c.workflowId,
    refs: { problems: String(names.length) },
  });
}
