// The ReportingService the gRPC server uses in production: REST's own functions (src/reporting/*) plus a change feed.
import { resolveCaller } from '../reporting/api-keys';
import { deliveryStatus } from '../reporting/deliveries';
import { badRequest, forbidden } from '../reporting/errors';
import { changeKey, statusChangeOf, type DeliveryNotifier, type DeliveryStatusChange } from '../reporting/notifier';
import { changeSubscription, getOwnSubscription, listSubscriptions, subscribe, type SubscriptionDeps } from '../reporting/subscriptions';
import type { ReportType } from '../reporting/types';
import type { ReportingService, ReportUpdate, StreamFilter } from './service';

export interface ReportingServiceDeps extends SubscriptionDeps {
  /** The bootstrap admin key (REFDATA_ADMIN_KEY), valid beside the stored keys as on REST. */
  adminKey?: string;
  /** Changes made in this process arrive at once; changes made by workers elsewhere are read every `pollMs`. */
  feed?: DeliveryNotifier;
  pollMs: number;
}

/** Change keys a stream remembers to drop what both the feed and the poll report. */
const SEEN_LIMIT = 10_000;

export function createReportingService(deps: ReportingServiceDeps): ReportingService {
  return {
    // The service is the subscribers' (and their operators'): a read-only key reads the operations side only.
    authenticate: async (apiKey) => {
      const caller = await resolveCaller(deps.db.distribution, deps.adminKey, apiKey);
      if (caller?.role === 'read-only') throw forbidden('a read-only key may not use the reporting service (it sees no subscriber\'s data)');
      return caller;
    },
    subscribe: (caller, req) => subscribe(deps, caller, req),
    changeSubscription: (caller, id, action) => changeSubscription(deps, caller, id, action),
    deliveryStatus: (caller, id) => deliveryStatus(deps, caller, id),
    async watch(caller, filter, signal) {
      if (!filter.subscriberId) throw badRequest('NO_SUBSCRIBER', 'subscriber_id is required');
      // Both refuse with NOT_FOUND what the caller may not see, before the stream starts.
      const subscriptionIds = filter.subscriptionId
        ? [await ownSubscriptionOf(filter.subscriptionId, filter.subscriberId)]
        : (await listSubscriptions(deps, caller, filter.subscriberId)).map((s) => s.subscription_id);
      return updates(subscriptionIds, filter, signal);

      async function ownSubscriptionOf(subscriptionId: string, subscriberId: string): Promise<string> {
        const sub = await getOwnSubscription(deps, caller, subscriptionId);
        if (sub.subscriberId !== subscriberId) throw badRequest('SUBSCRIPTION_MISMATCH', `subscription ${subscriptionId} is not one of subscriber ${subscriberId}`);
        return sub.subscriptionId;
      }
    },
  };

  /**
   * Merges the in-process feed and a poll of dist.delivery_history into one ordered stream without repeats.
   * A report is announced once, before its first delivery of this stream that is still pending.
   */
  async function* updates(subscriptionIds: string[], filter: StreamFilter, signal: AbortSignal): AsyncGenerator<ReportUpdate> {
    const wanted = new Set<ReportType>(filter.reportTypes);
    const queue: DeliveryStatusChange[] = [];
    const seen = new Set<string>();
    const announced = new Set<string>();
    let wake: (() => void) | null = null;
    const push = (c: DeliveryStatusChange) => {
      const key = changeKey(c);
      if (seen.has(key) || (wanted.size > 0 && !wanted.has(c.report_type as ReportType))) return;
      if (seen.size >= SEEN_LIMIT) seen.delete(seen.values().next().value as string);
      seen.add(key);
      queue.push(c);
      wake?.();
    };
    const unsubscribe = subscriptionIds.map((id) => deps.feed?.subscribe(id, push));
    const opened = Date.now();
    let since = new Date(opened);
    const poll = async () => {
      // Overlapping windows: a row committed late with an earlier updated_at is still read; repeats are dropped.
      // Never before the stream opened: it carries changes from now on.
      const from = new Date(Math.max(opened, since.getTime() - deps.pollMs * 2));
      since = new Date();
      for (const id of subscriptionIds) {
        for (const d of await deps.db.distribution.listDeliveries({ subscriptionId: id, since: from, limit: 1000 })) push(statusChangeOf(d));
      }
    };
    const timer = setInterval(() => void poll().catch(() => undefined), deps.pollMs);
    const onAbort = () => wake?.();
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted) {
        const change = queue.shift();
        if (!change) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          continue;
        }
        const timestamp = change.updated_at;
        if (change.status === 'pending' && !announced.has(change.report_id)) {
          announced.add(change.report_id);
          const report = (await deps.db.distribution.getDelivery(change.delivery_id))?.payload.report;
          if (report) {
            const { reportId, reportType, portfolioId, reportPeriod, filePath, fileSizeBytes } = report;
            yield { kind: 'report', eventId: `report:${reportId}:${change.subscriber_id}`, timestamp, report: { reportId, reportType, portfolioId, reportPeriod, filePath, fileSizeBytes }, deliveryIds: [change.delivery_id] };
          }
        }
        yield { kind: 'delivery', eventId: `delivery:${change.delivery_id}:${change.status}:${change.retry_count}:${change.replay_count}`, timestamp, change };
      }
    } finally {
      clearInterval(timer);
      signal.removeEventListener('abort', onAbort);
      for (const off of unsubscribe) off?.();
    }
  }
}
