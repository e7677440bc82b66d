// Workflow `subscriptionRelease`: sends what a SCHEDULED subscription collected, when its Temporal Schedule fires. The
// activity starts each held delivery's own `delivery` run (fixed ids: once each) and marks it released.
import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { SubscriptionReleaseActivities } from '../activities/subscription-release';

export interface SubscriptionReleaseInput {
  subscriptionId: string;
  trigger: 'schedule' | 'on-demand' | 'event';
}

export interface SubscriptionReleaseResult {
  subscriptionId: string;
  released: number;
  /** Why nothing was released, when the subscription is not active. */
  skipped: string | null;
}

// Retried until the database and Temporal answer: a release lost to a restart would leave reports unsent until the next run.
const { releaseSubscriptionDeliveries } = proxyActivities<SubscriptionReleaseActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function subscriptionRelease(input: SubscriptionReleaseInput): Promise<SubscriptionReleaseResult> {
  setCurrentDetails(`releasing the held deliveries of subscription ${input.subscriptionId} (${input.trigger})`);
  const result = await releaseSubscriptionDeliveries({ subscriptionId: input.subscriptionId });
  setCurrentDetails(result.skipped ? `nothing released: ${result.skipped}` : `released ${result.released} deliveries of subscription ${input.subscriptionId}`);
  return { subscriptionId: input.subscriptionId, ...result };
}
