// Side effects of a subscription's release: start the runs of its held deliveries (src/reporting/held-deliveries.ts).
import type { Client } from '@temporalio/client';
import type { ChannelType } from '../src/channels/types';
import type { Database } from '../src/db/types';
import type { Logger } from '../src/log/logger';
import { releaseHeldDeliveries } from '../src/reporting/held-deliveries';
import type { DeliveryRetryPolicy } from '../src/reporting/retry-policy';

export interface SubscriptionReleaseActivityDeps {
  db: Database;
  log: Logger;
  client: Client;
  retry: Record<ChannelType, DeliveryRetryPolicy>;
}

export function createSubscriptionReleaseActivities(deps: SubscriptionReleaseActivityDeps) {
  return {
    async releaseSubscriptionDeliveries(input: { subscriptionId: string }): Promise<{ released: number; skipped: string | null }> {
      const sub = await deps.db.distribution.getSubscription(input.subscriptionId);
      // A paused subscription's schedule is paused too; a run already under way when it was paused sends nothing.
      if (!sub || sub.status !== 'active') return { released: 0, skipped: `subscription ${input.subscriptionId} is ${sub?.status ?? 'gone'}` };
      const { released } = await releaseHeldDeliveries(deps, input.subscriptionId);
      deps.log.info({ event: 'subscription.released', subscriptionId: input.subscriptionId, released: released.length }, `subscription ${input.subscriptionId}: released ${released.length} held deliveries`);
      return { released: released.length, skipped: null };
    },
  };
}

export type SubscriptionReleaseActivities = ReturnType<typeof createSubscriptionReleaseActivities>;
