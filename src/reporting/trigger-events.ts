// TRIGGERED subscriptions: the events one may name in `delivery_preferences.trigger_events`, and the release of the
// held deliveries of every active subscription that names an event when it happens. Names follow the audit events.
import type { Logger } from '../log/logger';
import { releaseHeldDeliveries, type ReleaseDeps } from './held-deliveries';

export const triggerEvents = [
  'sync.succeeded', // the daily instrument sync applied its changes
  'sync.failed', // it failed, stopped at its guard, timed out or was cancelled
  'distribution.succeeded', // a (nightly or intraday) distribution run handed its files off
  'distribution.failed',
  'file.loaded', // a dropped file was loaded into its table
  'file.error', // a dropped file was refused or failed
] as const;
export type TriggerEvent = (typeof triggerEvents)[number];

export const isTriggerEvent = (name: string): name is TriggerEvent => (triggerEvents as readonly string[]).includes(name);

/** What activities call when an event happens; absent (tests of other flows) means nothing is triggered. */
export type FireTrigger = (event: TriggerEvent) => Promise<void>;

/**
 * Releases what every active TRIGGERED subscription naming `event` holds; idempotent. Throws on a database or Temporal
 * error (the worker's FireTrigger logs it rather than fail the sync or load that fired it).
 */
export async function releaseForEvent(deps: ReleaseDeps & { log?: Logger }, event: TriggerEvent): Promise<{ subscriptions: number; released: number }> {
  const subs = (await deps.db.distribution.listSubscriptions({ status: 'active', limit: 10_000 }))
    .filter((s) => s.subscriberType === 'TRIGGERED' && (s.deliveryPreferences.triggerEvents ?? []).includes(event));
  let released = 0;
  for (const s of subs) released += (await releaseHeldDeliveries(deps, s.subscriptionId)).released.length;
  if (released > 0) deps.log?.info({ event: 'subscriptions.triggered', trigger: event, subscriptions: subs.length, released }, `${event}: released ${released} held deliveries`);
  return { subscriptions: subs.length, released };
}
