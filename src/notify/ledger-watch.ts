// Notifications from the ledger: failures recorded since the last look (files in error, failed or timed-out syncs, failed
// distribution runs, failed deliveries, channels paused or switched off) are raised here, so an API that runs apart from the worker still hears of them; the same event
// raised in-process by an activity is not shown twice.
import type { Database } from '../db/types';
import type { Logger } from '../log/logger';
import type { Notifier } from './notifier';
import { failureNotice, failureRecipients } from '../reporting/failure-notice';
import { deliveryErrorText, notifyChannelDisabled, notifyChannelUnhealthy, notifyDeliveryFailed, notifyDistributionFailed, notifyFileFailed, notifySyncFailed } from './events';

export interface LedgerWatchDeps {
  db: Pick<Database, 'listTracking' | 'instruments' | 'distribution'> & Partial<Pick<Database, 'distributionRuns'>>;
  notifier: Notifier;
  log: Logger;
  intervalMs?: number;
  now?: () => Date;
}

/** An activity in this process notifies at the moment it records the outcome; closer than this is the same event. */
const SAME_EVENT_MS = 10_000;

export function createLedgerWatch(deps: LedgerWatchDeps): { poll(): Promise<number>; start(): () => void } {
  const now = deps.now ?? (() => new Date());
  // Only what happens from now on: a restarted API must not replay yesterday's failures as news.
  let since = now().getTime();

  async function poll(): Promise<number> {
    const from = since;
    since = now().getTime();
    let raised = 0;
    const recent = deps.notifier.recent();
    for (const r of await deps.db.listTracking({ status: 'error', limit: 50 })) {
      const at = r.processedAt?.getTime();
      if (at === undefined || at < from) continue;
      const seen = recent.some((n) => n.kind === 'file.failed' && n.refs.filePath === r.filePath && Math.abs(Date.parse(n.at) - at) < SAME_EVENT_MS);
      if (seen) continue;
      if (notifyFileFailed(deps.notifier, { workflowId: r.workflowId ?? undefined, trackingId: r.id, filePath: r.filePath, status: 'error', message: r.errorMessage })) raised++;
    }
    for (const s of await deps.db.instruments.listSyncRuns(5)) {
      const at = s.finishedAt ? Date.parse(s.finishedAt) : NaN;
      if (!(at >= from) || (s.status !== 'failed' && s.status !== 'guard_tripped' && s.status !== 'timed_out')) continue;
      if (notifySyncFailed(deps.notifier, { syncRunId: s.runId, workflowId: s.workflowId, status: s.status, message: s.errorMessage ?? s.status })) raised++;
    }
    for (const r of deps.db.distributionRuns ? await deps.db.distributionRuns.listRuns({ status: 'failed', limit: 5 }) : []) {
      const at = r.finishedAt ? Date.parse(r.finishedAt) : NaN;
      if (at >= from && notifyDistributionFailed(deps.notifier, { workflowId: r.workflowId, businessDate: r.businessDate, message: r.errorMessage ?? 'the run failed' })) raised++;
    }
    // One lookup per subscription per look, however many of its deliveries failed.
    const settingsOf = new Map<string, Promise<Record<string, unknown>>>();
    for (const d of await deps.db.distribution.listDeliveries({ status: 'failed', since: new Date(from), limit: 50 })) {
      const message = deliveryErrorText(d.errorDetails) ?? 'the delivery failed';
      // The subscription's notification_settings.on_failure: its dashboard audiences get a notice (once: keyed by the
      // delivery id), and operators may be left out (src/reporting/failure-notice.ts).
      if (!settingsOf.has(d.subscriptionId)) {
        settingsOf.set(d.subscriptionId, deps.db.distribution.getSubscription(d.subscriptionId).then((sub) => sub?.deliveryPreferences.notificationSettings ?? {}));
      }
      const recipients = failureRecipients(await settingsOf.get(d.subscriptionId)!, d.subscriberId);
      // Dated when the delivery failed (its row's last change), not when this look ran: every look writes the same notice.
      if (recipients.audience.length > 0) await deps.db.distribution.upsertNotification(failureNotice(d, recipients.audience, message, d.updatedAt));
      if (!recipients.operators) continue;
      if (notifyDeliveryFailed(deps.notifier, { deliveryId: d.deliveryId, channel: d.channel, workflowId: d.workflowId, runId: d.runId ?? undefined, subscriptionId: d.subscriptionId, message })) raised++;
    }
    // Channels paused or switched off since the last look; the ids match the activity's, so one process shows each once.
    for (const c of await deps.db.distribution.listChannels({})) {
      if (c.health.pausedAt && c.health.pausedAt.getTime() >= from && notifyChannelUnhealthy(deps.notifier, c)) raised++;
      if (!c.enabled && c.disabledAt && c.disabledAt.getTime() >= from && notifyChannelDisabled(deps.notifier, c)) raised++;
    }
    return raised;
  }

  return {
    poll,
    start() {
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return;
        busy = true;
        poll()
          .catch((err: Error) => deps.log.debug({ err: err.message }, 'ledger watch could not read the ledger'))
          .finally(() => (busy = false));
      }, deps.intervalMs ?? 5000);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
