// Deliveries shared by REST, gRPC and the CLI: fan a report out to matching subscriptions × channels, status, replay.
import crypto from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ChannelType, DeliveryAttachment, DeliveryMessage, InlineContent, MetadataValue } from '../channels/types';
import type { Database } from '../db/types';
import { channelsBySubscription, type NewDelivery } from '../db/distribution';
import { deliveryWorkflowId } from '../ids';
import { mayAccess } from './api-keys';
import { badRequest, conflict, notFound } from './errors';
import { announceDistribution, topicTypeOf } from './event';
import type { EventPublisher } from '../events/types';
import { resolveReportFile } from './report-file';
import type { DeliveryRetryPolicy } from './retry-policy';
import { deliveryInputOf, startFirstRun, startReplayRun } from './start-delivery';
import { heldForOf } from './held-deliveries';
import { formatFor } from './report-format';
import { DEFAULT_PRIORITY, type Caller, type DeliveryRecord, type DeliveryStatus, type ReportInfo, type ReportType, type SubscriptionRecord, type SubscriptionType } from './types';
import { deliveryView, type DeliveryView } from './views';

export interface DeliveryDeps {
  db: Database;
  client: Client;
  /** `client` is on the NativeConnection of this process's delivery Worker: start runs eagerly (start-delivery.ts). */
  eagerStart?: boolean;
  reportRoots: readonly string[];
  retry: Record<ChannelType, DeliveryRetryPolicy>;
  /** Where the one `report_distributed` event per distribution goes (the outbox); none: not announced. */
  events?: EventPublisher;
  /** Topic of `report_distributed` for a report type (KAFKA_TOPIC_DELIVERED); default `reporting.<type>.delivered`. */
  topicFor?: (reportType: string) => string;
}

export interface DeliverRequest {
  report: {
    report_id: string;
    report_type: ReportType;
    title?: string;
    summary?: string;
    portfolio_id?: string;
    report_period?: string;
    file_path?: string;
    content?: { content_type: InlineContent['contentType']; text: string };
    metadata?: Record<string, MetadataValue>;
    link?: string;
  };
  /** 1 (urgent, own task queue) … 5 (bulk). */
  priority?: number;
  target_subscribers?: string[];
  channels?: ChannelType[];
  routing_key?: string;
  source_service?: string;
  encryption_required?: boolean;
  retention_days?: number;
}

export interface AcceptedDelivery {
  delivery_id: string;
  subscription_id: string;
  subscriber_id: string;
  channel: ChannelType;
  channel_id: string;
  workflow_id: string;
  /** false when this report had already been handed to this subscription × channel (the request was repeated). */
  new: boolean;
  /** SCHEDULED, ON_DEMAND or TRIGGERED: kept until its subscription's release; null: started now. */
  held_for: SubscriptionType | null;
}

export interface DeliverResponse {
  report_id: string;
  deliveries: AcceptedDelivery[];
  skipped: { subscription_id: string; channel_id: string; reason: string }[];
}

/** The same report, subscription and channel always give the same id: a repeated request (or event) creates nothing new. */
export function deliveryIdFor(reportId: string, subscriptionId: string, channelId: string): string {
  return `dlv_${crypto.createHash('sha256').update(`${reportId}\u0000${subscriptionId}\u0000${channelId}`).digest('hex').slice(0, 32)}`;
}

export function matchesFilters(sub: SubscriptionRecord, report: DeliverRequest['report']): boolean {
  const f = sub.filters;
  if (!f) return true;
  if (f.portfolioIds?.length && !(report.portfolio_id && f.portfolioIds.includes(report.portfolio_id))) return false;
  for (const [key, want] of Object.entries(f.metadata ?? {})) {
    const have = key === 'portfolio_id' ? report.portfolio_id : key === 'report_period' ? report.report_period : report.metadata?.[key];
    if (have === undefined || have === null || String(have) !== want) return false;
  }
  return true;
}

async function buildPayload(deps: DeliveryDeps, req: DeliverRequest, createdAt: Date): Promise<{ message: Omit<DeliveryMessage, 'deliveryId'>; report: ReportInfo }> {
  const r = req.report;
  if (!r.file_path && !r.content) throw badRequest('NO_CONTENT', 'a report needs a file_path or inline content');
  const attachments: DeliveryAttachment[] = r.file_path ? [await resolveReportFile(r.file_path, deps.reportRoots)] : [];
  const metadata: Record<string, MetadataValue> = { ...(r.metadata ?? {}) };
  if (r.portfolio_id) metadata.portfolio_id = r.portfolio_id;
  if (r.report_period) metadata.report_period = r.report_period;
  return {
    message: {
      createdAt: createdAt.toISOString(),
      reportId: r.report_id,
      reportType: r.report_type,
      title: r.title ?? `${r.report_type} ${r.report_id}`,
      ...(r.summary ? { summary: r.summary } : {}),
      metadata,
      attachments,
      ...(r.content ? { content: { contentType: r.content.content_type, text: r.content.text } } : {}),
      ...(r.link ? { link: r.link } : {}),
    },
    report: {
      reportId: r.report_id,
      reportType: r.report_type,
      portfolioId: r.portfolio_id ?? null,
      reportPeriod: r.report_period ?? null,
      filePath: attachments[0]?.path ?? null,
      fileSizeBytes: attachments[0]?.bytes ?? null,
      routingKey: req.routing_key ?? `${r.portfolio_id ?? 'all'}.${topicTypeOf(r.report_type)}.${r.report_period ?? 'adhoc'}`,
      sourceService: req.source_service ?? 'refdata',
      encryptionRequired: req.encryption_required ?? false,
      retentionDays: req.retention_days ?? 90,
    },
  };
}

/** Runs `fn` over items with at most `limit` in flight: starting thousands of workflows one by one takes too long. */
async function inBatches<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

export async function deliver(deps: DeliveryDeps, req: DeliverRequest): Promise<DeliverResponse> {
  const priority = req.priority ?? DEFAULT_PRIORITY;
  const { message, report } = await buildPayload(deps, req, new Date());
  const subs = (await deps.db.distribution.activeSubscriptionsFor(req.report.report_type)).filter(
    (s) => matchesFilters(s, req.report) && (!req.target_subscribers?.length || req.target_subscribers.includes(s.subscriberId)),
  );
  const planned: NewDelivery[] = [];
  const skipped: DeliverResponse['skipped'] = [];
  const channelsOf = await channelsBySubscription(deps.db.distribution, subs.map((s) => s.subscriptionId));
  for (const sub of subs) {
    for (const c of channelsOf.get(sub.subscriptionId) ?? []) {
      if (req.channels?.length && !req.channels.includes(c.channelType)) continue;
      if (!c.enabled) {
        skipped.push({ subscription_id: sub.subscriptionId, channel_id: c.channelId, reason: `channel disabled: ${c.disabledReason ?? 'no reason recorded'}` });
        continue;
      }
      const deliveryId = deliveryIdFor(report.reportId, sub.subscriptionId, c.channelId);
      planned.push({
        deliveryId, subscriptionId: sub.subscriptionId, subscriberId: sub.subscriberId, reportId: report.reportId, reportType: report.reportType,
        channel: c.channelType, channelId: c.channelId, priority, workflowId: deliveryWorkflowId(deliveryId), heldFor: heldForOf(sub),
        payload: { message: { ...message, deliveryId }, report, format: formatFor(sub.deliveryPreferences.formatPreferences) },
      });
    }
  }
  const inserted = await deps.db.distribution.createDeliveries(planned);
  // Every planned delivery gets its run started (or kept): a request repeated after a crash between insert and start heals itself.
  // A few at a time: a flood of starts would queue ahead of the workers' own calls on a busy server. Held ones wait for their release.
  await inBatches(planned.filter((d) => !d.heldFor), 8, async (d) => {
    await startFirstRun(deps.client, deliveryInputOf(d, deps.retry[d.channel]), { eager: deps.eagerStart });
  });
  // After the starts, so a request repeated after a failure here announces the same deliveries under the same event id.
  if (deps.events) await announceDistribution(deps.events, report, planned, priority, deps.topicFor);
  return {
    report_id: report.reportId,
    deliveries: planned.map((d) => ({
      delivery_id: d.deliveryId, subscription_id: d.subscriptionId, subscriber_id: d.subscriberId, channel: d.channel, channel_id: d.channelId,
      workflow_id: d.workflowId, new: inserted.has(d.deliveryId), held_for: d.heldFor ?? null,
    })),
    skipped,
  };
}

async function ownDelivery(deps: Pick<DeliveryDeps, 'db'>, caller: Caller, deliveryId: string): Promise<DeliveryRecord> {
  const d = await deps.db.distribution.getDelivery(deliveryId);
  if (!d || !mayAccess(caller, d.subscriberId)) throw notFound(`delivery ${deliveryId}`);
  return d;
}

export async function deliveryStatus(deps: Pick<DeliveryDeps, 'db'>, caller: Caller, deliveryId: string): Promise<DeliveryView> {
  return deliveryView(await ownDelivery(deps, caller, deliveryId));
}

export interface ReplayResult {
  delivery_id: string;
  workflow_id: string;
  run_id: string;
  replay_count: number;
  replayed_run_id: string | null;
}

/** A new run of the same delivery id (its own run in the Temporal UI, `replay #n` in its summary); refused while one runs. */
export async function replayDelivery(deps: DeliveryDeps, caller: Caller, deliveryId: string, reason: string | null = null): Promise<ReplayResult> {
  const d = await ownDelivery(deps, caller, deliveryId);
  const running = await deps.client.workflow.getHandle(d.workflowId).describe().then((x) => x.status.name === 'RUNNING', () => false);
  if (running) {
    throw conflict('DELIVERY_IN_PROGRESS', `delivery ${deliveryId} is still running (${d.status}); cancel it or wait before replaying`);
  }
  const marked = (await deps.db.distribution.markReplayRequested(deliveryId))!;
  const replay = { ofRunId: d.runId, number: marked.replayCount, requestedBy: caller.keyId, reason };
  try {
    const { runId } = await startReplayRun(deps.client, deliveryInputOf(d, deps.retry[d.channel], replay), { eager: deps.eagerStart });
    return { delivery_id: deliveryId, workflow_id: d.workflowId, run_id: runId, replay_count: marked.replayCount, replayed_run_id: d.runId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw conflict('DELIVERY_IN_PROGRESS', `delivery ${deliveryId} started running again meanwhile; not replayed`);
    throw err;
  }
}

export interface ReplayFilter {
  status: DeliveryStatus;
  since: Date;
  channel?: ChannelType;
  subscriberId?: string;
  limit?: number;
}

/** Bulk replay (CLI and API): every delivery in `status` changed since `since`; a dry run lists them and changes nothing. */
export async function replayMatching(deps: Omit<DeliveryDeps, 'client'> & { client?: Client }, caller: Caller, filter: ReplayFilter, dryRun: boolean, reason: string): Promise<{ matched: DeliveryView[]; replayed: ReplayResult[]; refused: { delivery_id: string; reason: string }[] }> {
  const matched = await deps.db.distribution.listDeliveries({ status: filter.status, since: filter.since, channel: filter.channel, subscriberId: filter.subscriberId, limit: filter.limit ?? 10_000 });
  const replayed: ReplayResult[] = [];
  const refused: { delivery_id: string; reason: string }[] = [];
  if (!dryRun) {
    const client = deps.client;
    if (!client) throw new Error('replaying needs a Temporal client');
    await inBatches(matched, 16, async (d) => {
      try {
        replayed.push(await replayDelivery({ ...deps, client }, caller, d.deliveryId, reason));
      } catch (err) {
        refused.push({ delivery_id: d.deliveryId, reason: (err as Error).message });
      }
    });
  }
  return { matched: matched.map(deliveryView), replayed, refused };
}
