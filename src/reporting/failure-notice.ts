// `notification_settings.on_failure`: who hears that one of a subscription's deliveries failed for good. "operators"
// (the default) raise the operator notification; "subscriber" and any other name get a dashboard notice (dist.notifications)
// addressed to them; an empty list tells nobody.
import type { DashboardNotification } from '../channels/dashboard';
import type { DeliveryRecord } from './types';

export interface FailureRecipients {
  operators: boolean;
  /** Dashboard audiences (the subscriber's id for "subscriber"). */
  audience: string[];
}

export function failureRecipients(settings: Record<string, unknown>, subscriberId: string): FailureRecipients {
  const raw = settings.on_failure;
  const names = Array.isArray(raw) ? raw.filter((n): n is string => typeof n === 'string') : typeof raw === 'string' ? [raw] : ['operators'];
  const audience = [...new Set(names.filter((n) => n !== 'operators').map((n) => (n === 'subscriber' ? subscriberId : n)))];
  return { operators: names.includes('operators'), audience };
}

/**
 * The dashboard notice of a failed delivery. Its id is the delivery's, as a dashboard delivery's own notice is: that ties it
 * to the subscriber (their notification list) and lets a later successful replay of a dashboard delivery replace it.
 */
export function failureNotice(d: DeliveryRecord, audience: string[], reason: string, at: Date): DashboardNotification {
  return {
    id: d.deliveryId,
    createdAt: at.toISOString(),
    severity: 'warning',
    audience,
    reportId: d.reportId,
    reportType: d.reportType,
    title: `Delivery of ${d.reportType} ${d.reportId} over ${d.channel} failed`,
    summary: `${reason}. Fix the channel, then replay delivery ${d.deliveryId}.`,
    files: [],
    metadata: { delivery_id: d.deliveryId, subscription_id: d.subscriptionId, channel: d.channel },
  };
}
