// The DeliveryStarter over the real delivery service (DESIGN.md flow 4): one delivery per active REFERENCE_DATA
// subscription × enabled channel, carrying every file of the run, each run by its own `delivery` workflow.
import type { Client } from '@temporalio/client';
import type { ChannelType, DeliveryAttachment } from '../channels/types';
import type { Database } from '../db/types';
import { channelsBySubscription, type NewDelivery } from '../db/distribution';
import { deliveryWorkflowId } from '../ids';
import { cliCaller } from '../reporting/api-keys';
import { deliveryIdFor, matchesFilters, replayDelivery, type DeliveryDeps } from '../reporting/deliveries';
import { announceDistribution, topicTypeOf } from '../reporting/event';
import type { EventPublisher } from '../events/types';
import type { DeliveryRetryPolicy } from '../reporting/retry-policy';
import { deliveryInputOf, startFirstRun } from '../reporting/start-delivery';
import { heldForOf } from '../reporting/held-deliveries';
import { formatFor } from '../reporting/report-format';
import { DEFAULT_PRIORITY, type ReportInfo } from '../reporting/types';
import { contentTypeOf } from './file-names';
import type { DeliveryRequest, DeliveryStarter } from './types';

export interface DeliveryStarterDeps {
  db: Database;
  client: Client;
  retry: Record<ChannelType, DeliveryRetryPolicy>;
  /**
   * The retention_days the deliveries carry (REFDATA_DISTRIBUTION_BACKUP_RETENTION_DAYS): the cleanup sweep removes the
   * run's files and backups this long after its deliveries are final; 0 keeps them. Default 90.
   */
  retentionDays?: number;
  /** Where the run's one `report_distributed` event (all its targets) goes; none: not announced. */
  events?: EventPublisher;
  topicFor?: (reportType: string) => string;
}

function reportInfoOf(req: DeliveryRequest, retentionDays: number): ReportInfo {
  const manifest = req.files.find((f) => f.fileName.endsWith('_manifest.json')) ?? req.files[0];
  return {
    reportId: req.reportId,
    reportType: req.reportType,
    portfolioId: null,
    reportPeriod: req.businessDate,
    filePath: manifest?.path ?? null,
    fileSizeBytes: req.files.reduce((n, f) => n + f.bytes, 0),
    routingKey: `all.${topicTypeOf(req.reportType)}.${req.businessDate}`,
    sourceService: 'refdata-distribution',
    encryptionRequired: false,
    retentionDays,
  };
}

export function createDeliveryStarter(deps: DeliveryStarterDeps): DeliveryStarter {
  const replayDeps: DeliveryDeps = { db: deps.db, client: deps.client, reportRoots: [], retry: deps.retry };
  return {
    async startDeliveries(req) {
      const report = { report_id: req.reportId, report_type: req.reportType, report_period: req.businessDate, metadata: req.metadata };
      const subs = (await deps.db.distribution.activeSubscriptionsFor(req.reportType)).filter((s) => matchesFilters(s, report));
      const attachments: DeliveryAttachment[] = req.files.map((f) => ({ fileName: f.fileName, path: f.path, contentType: contentTypeOf(f.fileName), bytes: f.bytes, sha256: f.sha256 }));
      const info = reportInfoOf(req, deps.retentionDays ?? 90);
      // The run's generated_at, so a repeated hand-off builds the same payload (and the same webhook body).
      const createdAt = typeof req.metadata.generated_at === 'string' ? req.metadata.generated_at : new Date().toISOString();
      const planned: NewDelivery[] = [];
      const channelsOf = await channelsBySubscription(deps.db.distribution, subs.map((s) => s.subscriptionId));
      for (const sub of subs) {
        for (const c of channelsOf.get(sub.subscriptionId) ?? []) {
          // A channel switched off (its destination answered 410) stays off until its subscription is resumed.
          if (!c.enabled) continue;
          const deliveryId = deliveryIdFor(req.reportId, sub.subscriptionId, c.channelId);
          planned.push({
            deliveryId, subscriptionId: sub.subscriptionId, subscriberId: sub.subscriberId, reportId: req.reportId, reportType: req.reportType,
            channel: c.channelType, channelId: c.channelId, priority: DEFAULT_PRIORITY, workflowId: deliveryWorkflowId(deliveryId), heldFor: heldForOf(sub),
            payload: {
              format: formatFor(sub.deliveryPreferences.formatPreferences),
              message: {
                deliveryId, createdAt, reportId: req.reportId, reportType: req.reportType, title: `Reference data ${req.reportId} (${req.businessDate})`,
                summary: `${attachments.length} file(s) for business date ${req.businessDate}`, metadata: req.metadata, attachments,
              },
              report: info,
            },
          });
        }
      }
      await deps.db.distribution.createDeliveries(planned);
      // Every planned delivery gets its first run started or kept: a hand-off repeated after a crash heals itself. Deliveries
      // of SCHEDULED, ON_DEMAND and TRIGGERED subscriptions wait for their release (src/reporting/held-deliveries.ts).
      for (const d of planned.filter((p) => !p.heldFor)) await startFirstRun(deps.client, deliveryInputOf(d, deps.retry[d.channel]));
      if (deps.events) await announceDistribution(deps.events, info, planned, DEFAULT_PRIORITY, deps.topicFor);
      return planned.map((d) => d.deliveryId);
    },

    async replayDeliveries(ids) {
      const replayed: string[] = [];
      for (const id of ids) {
        // A delivery records `failed` just before its run ends: let that run close, or the replay is refused as running.
        const closing = deps.client.workflow.getHandle(deliveryWorkflowId(id)).result().catch(() => undefined);
        await Promise.race([closing, new Promise((r) => setTimeout(r, 10_000).unref())]);
        try {
          await replayDelivery(replayDeps, cliCaller, id, 'refdata distribute retry-failed');
          replayed.push(id);
        } catch {
          // Still running (or gone): nothing to replay now; the caller reports what was replayed.
        }
      }
      return replayed;
    },
  };
}
