// What the API (REST, WebSocket, gRPC) shows of subscriptions, channels and deliveries: snake_case, secrets redacted.
import { redactChannelConfig, type ChannelConfig, type ChannelType } from '../channels';
import { channelHealthView, type ChannelHealthView } from './channel-health';
import type { ChannelRecord, DeliveryRecord, SubscriptionRecord } from './types';

export interface ChannelView {
  channel_id: string;
  channel_type: ChannelType;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
  /** Secrets appear as "***" (sealed values are never opened for display). */
  config: unknown;
  health: ChannelHealthView;
}

export interface SubscriptionView {
  subscription_id: string;
  subscriber_id: string;
  subscriber_type: string;
  report_types: string[];
  delivery_preferences: { channels: ChannelView[]; schedule: string | null; format_preferences: string[]; notification_settings: Record<string, unknown>; trigger_events?: string[] };
  filters: { portfolio_ids?: string[]; metadata?: Record<string, string> } | null;
  status: string;
  /** Adds one with every change; send it back as If-Match or expected_version to update safely. */
  version: number;
  created_at: string;
  updated_at: string;
}

export interface DeliveryView {
  delivery_id: string;
  subscription_id: string;
  subscriber_id: string;
  report_id: string;
  report_type: string;
  channel: string;
  channel_id: string;
  status: string;
  delivery_time: string | null;
  retry_count: number;
  error_details: string | null;
  priority: number;
  replay_count: number;
  latency_ms: number | null;
  workflow_id: string;
  run_id: string | null;
  created_at: string;
  updated_at: string;
  held_for: string | null;
  released_at: string | null;
}

export function channelView(c: ChannelRecord): ChannelView {
  return {
    channel_id: c.channelId,
    channel_type: c.channelType,
    enabled: c.enabled,
    disabled_reason: c.disabledReason,
    disabled_at: c.disabledAt ? c.disabledAt.toISOString() : null,
    config: redactChannelConfig(c.channelType, c.config as ChannelConfig<typeof c.channelType>),
    health: channelHealthView(c),
  };
}

export function subscriptionView(s: SubscriptionRecord, channels: ChannelRecord[]): SubscriptionView {
  const byId = new Map(channels.map((c) => [c.channelId, c]));
  const p = s.deliveryPreferences;
  return {
    subscription_id: s.subscriptionId,
    subscriber_id: s.subscriberId,
    subscriber_type: s.subscriberType,
    report_types: s.reportTypes,
    delivery_preferences: {
      channels: p.channels.flatMap((ref) => {
        const c = byId.get(ref.channelId);
        return c ? [channelView(c)] : [];
      }),
      schedule: p.schedule,
      format_preferences: p.formatPreferences,
      notification_settings: p.notificationSettings,
      ...(p.triggerEvents ? { trigger_events: p.triggerEvents } : {}),
    },
    filters: s.filters ? { ...(s.filters.portfolioIds ? { portfolio_ids: s.filters.portfolioIds } : {}), ...(s.filters.metadata ? { metadata: s.filters.metadata } : {}) } : null,
    status: s.status,
    version: s.version,
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
  };
}

export function deliveryView(d: DeliveryRecord): DeliveryView {
  return {
    delivery_id: d.deliveryId,
    subscription_id: d.subscriptionId,
    subscriber_id: d.subscriberId,
    report_id: d.reportId,
    report_type: d.reportType,
    channel: d.channel,
    channel_id: d.channelId,
    status: d.status,
    delivery_time: d.deliveryTime ? d.deliveryTime.toISOString() : null,
    retry_count: d.retryCount,
    error_details: d.errorDetails,
    priority: d.priority,
    replay_count: d.replayCount,
    latency_ms: d.latencyMs,
    workflow_id: d.workflowId,
    run_id: d.runId,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
    held_for: d.heldFor,
    released_at: d.releasedAt ? d.releasedAt.toISOString() : null,
  };
}
