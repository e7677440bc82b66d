// The in-process feed of delivery status changes: activities publish, the WebSocket stream listens (same process only).
import { EventEmitter } from 'node:events';
import type { DeliveryRecord, DeliveryStatus } from './types';

/** What the stream sends for one change of a delivery (snake_case, as the original API speaks). */
export interface DeliveryStatusChange {
  delivery_id: string;
  subscription_id: string;
  subscriber_id: string;
  report_id: string;
  report_type: string;
  channel: string;
  status: DeliveryStatus;
  retry_count: number;
  replay_count: number;
  error_details: string | null;
  delivery_time: string | null;
  updated_at: string;
}

export function statusChangeOf(d: DeliveryRecord): DeliveryStatusChange {
  return {
    delivery_id: d.deliveryId,
    subscription_id: d.subscriptionId,
    subscriber_id: d.subscriberId,
    report_id: d.reportId,
    report_type: d.reportType,
    channel: d.channel,
    status: d.status,
    retry_count: d.retryCount,
    replay_count: d.replayCount,
    error_details: d.errorDetails,
    delivery_time: d.deliveryTime ? d.deliveryTime.toISOString() : null,
    updated_at: d.updatedAt.toISOString(),
  };
}

/** The same change seen twice (notifier and polling) has the same key; a later change has another. */
export function changeKey(c: DeliveryStatusChange): string {
  return `${c.delivery_id}|${c.status}|${c.retry_count}|${c.replay_count}|${c.updated_at}`;
}

export interface DeliveryNotifier {
  publish(change: DeliveryStatusChange): void;
  /** Calls `listener` for every change of the subscription's deliveries; returns the unsubscribe function. */
  subscribe(subscriptionId: string, listener: (change: DeliveryStatusChange) => void): () => void;
}

export function createDeliveryNotifier(): DeliveryNotifier {
  const emitter = new EventEmitter();
  // One listener per open stream; many streams are normal, not a leak.
  emitter.setMaxListeners(0);
  return {
    publish(change) {
      emitter.emit(change.subscription_id, change);
    },
    subscribe(subscriptionId, listener) {
      emitter.on(subscriptionId, listener);
      return () => emitter.off(subscriptionId, listener);
    },
  };
}
