// The Temporal Schedule of a SCHEDULED subscription: created, updated, paused and removed with the subscription, it
// starts `subscriptionRelease`, which sends what the subscription collected since the last run.
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { subscriptionReleaseWorkflowId, subscriptionScheduleId, taskQueues } from '../ids';
import { applySchedules, OWN_PAUSE_PREFIX, type ScheduleSpecEntry } from '../temporal/schedules';
import type { SubscriptionRecord } from './types';
import type { SubscriptionReleaseInput } from '../../workflows/subscription-release';

/** A five-field cron, as the other schedules take (src/config.ts); Temporal checks the fields themselves. */
export const CRON_PATTERN = /^\S+(\s+\S+){4}$/;

/** The schedule this subscription should have, or null when it should have none (not SCHEDULED, or cancelled). */
export function subscriptionScheduleSpec(sub: SubscriptionRecord): ScheduleSpecEntry | null {
  const cron = sub.deliveryPreferences.schedule;
  if (sub.subscriberType !== 'SCHEDULED' || sub.status === 'cancelled' || !cron) return null;
  const input: SubscriptionReleaseInput = { subscriptionId: sub.subscriptionId, trigger: 'schedule' };
  return {
    scheduleId: subscriptionScheduleId(sub.subscriptionId),
    cron,
    timeZone: 'UTC',
    workflowType: 'subscriptionRelease',
    workflowId: subscriptionReleaseWorkflowId(sub.subscriptionId),
    taskQueue: taskQueues.delivery,
    args: [input],
    summary: `Scheduled delivery of subscription ${sub.subscriptionId} (${sub.subscriberId}): sends the reports it collected`,
    pausedReason: sub.status === 'paused' ? `${OWN_PAUSE_PREFIX}subscription ${sub.subscriptionId} is paused` : undefined,
  };
}

export type ScheduleSync = 'created' | 'updated' | 'removed' | 'none';

/** Brings the subscription's schedule in line with it; idempotent, so a repeated call (or a retry) changes nothing more. */
export async function syncSubscriptionSchedule(client: Client, sub: SubscriptionRecord): Promise<ScheduleSync> {
  const spec = subscriptionScheduleSpec(sub);
  if (spec) return (await applySchedules(client, [spec]))[0].action;
  try {
    await client.schedule.getHandle(subscriptionScheduleId(sub.subscriptionId)).delete();
    return 'removed';
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return 'none';
    throw err;
  }
}
