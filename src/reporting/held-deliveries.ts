// What a subscription's type does with a report that matches it: REAL_TIME starts the delivery at once; SCHEDULED,
// ON_DEMAND and TRIGGERED keep it (status pending, held_for set) until its schedule, a deliver-now call or one of its
// trigger events releases it. A release starts each held delivery's own `delivery` run, so each goes out once.
import type { Client } from '@temporalio/client';
import type { ChannelType } from '../channels/types';
import type { Database } from '../db/types';
import type { DeliveryRetryPolicy } from './retry-policy';
import { deliveryInputOf, startFirstRun } from './start-delivery';
import type { SubscriptionRecord, SubscriptionType } from './types';

export function holdsDeliveries(type: SubscriptionType): boolean {
  return type !== 'REAL_TIME';
}

/** held_for of a new delivery for this subscription: its type when it holds, null when it starts at once. */
export function heldForOf(sub: Pick<SubscriptionRecord, 'subscriberType'>): SubscriptionType | null {
  return holdsDeliveries(sub.subscriberType) ? sub.subscriberType : null;
}

export interface ReleaseDeps {
  db: Pick<Database, 'distribution'>;
  client: Client;
  retry: Record<ChannelType, DeliveryRetryPolicy>;
}

/** Rows per pass: a subscription that collected many reports is released a page at a time. */
const RELEASE_PAGE = 500;

/**
 * Starts the run of every held, unreleased delivery of the subscription, then marks them released. Safe to repeat: a
 * release cut short (worker restart) starts the same runs again, which the fixed delivery workflow ids keep to one each.
 */
export async function releaseHeldDeliveries(deps: ReleaseDeps, subscriptionId: string): Promise<{ released: string[] }> {
  const released: string[] = [];
  for (;;) {
    const held = await deps.db.distribution.listHeldDeliveries(subscriptionId, RELEASE_PAGE);
    if (held.length === 0) break;
    // Only those still pending: one a cut-short release started has gone on by itself and is only marked here.
    for (const d of held) if (d.status === 'pending') await startFirstRun(deps.client, deliveryInputOf(d, deps.retry[d.channel]));
    await deps.db.distribution.markReleased(held.map((d) => d.deliveryId));
    released.push(...held.map((d) => d.deliveryId));
    if (held.length < RELEASE_PAGE) break;
  }
  return { released };
}
