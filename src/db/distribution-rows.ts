// Narrows result rows of the dist tables and ref.api_keys (either dialect) into the port's records, once.
import type { ChannelType } from '../channels/types';
import type { DashboardNotification } from '../channels/dashboard';
import type {
  ApiKeyRecord, ApiRole, ChannelRecord, DeliveryPayload, DeliveryPreferences, DeliveryRecord, DeliveryStatus, ReportType,
  SubscriptionFilters, SubscriptionRecord, SubscriptionStatus, SubscriptionType,
} from '../reporting/types';
import type { ChannelStats, DeliveryStatsRow, StatsDimension, StoredNotification } from './distribution';

type Row = Record<string, unknown>;

/** jsonb arrives parsed (node-postgres); nvarchar JSON arrives as text (SQL Server). */
function json<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}
const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
/** bigint and numeric arrive as text from node-postgres. */
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string | Date));
const bool = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 't';

export function subscriptionFromRow(r: Row): SubscriptionRecord {
  return {
    subscriptionId: String(r.subscription_id),
    subscriberId: String(r.subscriber_id),
    subscriberType: String(r.subscriber_type) as SubscriptionType,
    reportTypes: json<ReportType[]>(r.report_types),
    deliveryPreferences: json<DeliveryPreferences>(r.delivery_preferences),
    filters: r.filters === null || r.filters === undefined ? null : json<SubscriptionFilters>(r.filters),
    status: String(r.status) as SubscriptionStatus,
    version: Number(r.version ?? 1),
    createdAt: date(r.created_at)!,
    updatedAt: date(r.updated_at)!,
  };
}

export function channelFromRow(r: Row): ChannelRecord {
  return {
    channelId: String(r.channel_id),
    channelType: String(r.channel_type) as ChannelType,
    config: json<unknown>(r.channel_config),
    subscriptionId: text(r.subscription_id),
    subscriberId: text(r.subscriber_id),
    enabled: bool(r.enabled),
    disabledReason: text(r.disabled_reason),
    disabledAt: date(r.disabled_at),
    health: {
      status: r.health_status === 'unhealthy' ? 'unhealthy' : 'healthy',
      consecutiveFailures: Number(r.consecutive_failures ?? 0),
      lastFailureAt: date(r.last_failure_at),
      lastError: text(r.last_error),
      lastSuccessAt: date(r.last_success_at),
      pausedAt: date(r.paused_at),
      nextProbeAt: date(r.next_probe_at),
      probeAttempts: Number(r.probe_attempts ?? 0),
      lastProbeAt: date(r.last_probe_at),
      lastProbeError: text(r.last_probe_error),
    },
    createdAt: date(r.created_at)!,
  };
}

export function deliveryFromRow(r: Row): DeliveryRecord {
  return {
    deliveryId: String(r.delivery_id),
    subscriptionId: String(r.subscription_id),
    subscriberId: String(r.subscriber_id),
    reportId: String(r.report_id),
    reportType: String(r.report_type),
    channel: String(r.channel) as ChannelType,
    channelId: String(r.channel_id),
    priority: Number(r.priority),
    status: String(r.status) as DeliveryStatus,
    deliveryTime: date(r.delivery_time),
    retryCount: Number(r.retry_count),
    errorDetails: text(r.error_details),
    payload: json<DeliveryPayload>(r.payload),
    workflowId: String(r.workflow_id),
    runId: text(r.run_id),
    replayCount: Number(r.replay_count),
    latencyMs: num(r.latency_ms),
    requestedAt: date(r.requested_at)!,
    createdAt: date(r.created_at)!,
    updatedAt: date(r.updated_at)!,
    heldFor: (text(r.held_for) as SubscriptionType | null) ?? null,
    releasedAt: date(r.released_at),
  };
}

export function statsFromRow(r: Row): ChannelStats {
  const successful = Number(r.successful ?? 0);
  const total = Number(r.total_ms ?? 0);
  return {
    reportType: String(r.report_type),
    channel: String(r.channel),
    attempted: Number(r.attempted ?? 0),
    successful,
    failed: Number(r.failed ?? 0),
    avgDeliveryTimeMs: successful > 0 ? Math.round((total / successful) * 10) / 10 : null,
  };
}

export function deliveryStatsFromRow(r: Row): DeliveryStatsRow {
  const avg = num(r.avg_latency_ms);
  return {
    dimension: String(r.dimension) as StatsDimension,
    key: text(r.stat_key),
    reports: Number(r.reports ?? 0),
    deliveries: Number(r.deliveries ?? 0),
    delivered: Number(r.delivered ?? 0),
    failed: Number(r.failed ?? 0),
    cancelled: Number(r.cancelled ?? 0),
    inProgress: Number(r.in_progress ?? 0),
    retries: Number(r.retries ?? 0),
    replays: Number(r.replays ?? 0),
    avgLatencyMs: avg === null ? null : Math.round(avg * 10) / 10,
    maxLatencyMs: num(r.max_latency_ms),
  };
}

export function notificationFromRow(r: Row): StoredNotification {
  return {
    notification: json<DashboardNotification>(r.body),
    subscriberId: text(r.subscriber_id),
    subscriptionId: text(r.subscription_id),
    createdAt: date(r.created_at)!,
    readAt: date(r.read_at),
  };
}

export function apiKeyFromRow(r: Row): ApiKeyRecord {
  return {
    keyId: String(r.key_id),
    role: String(r.role) as ApiRole,
    subscriberId: text(r.subscriber_id),
    label: text(r.label),
    createdAt: date(r.created_at)!,
    revokedAt: date(r.revoked_at),
  };
}
