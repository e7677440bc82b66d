// The reporting domain's vocabulary: report and subscription types, statuses, and what a delivery carries.
import type { ChannelType, DeliveryMessage } from '../channels/types';

export const reportTypes = [
  'GENERATED_REPORT',
  'SCHEDULED_REPORT',
  'ALERT_REPORT',
  'COMPLIANCE_REPORT',
  'PERFORMANCE_REPORT',
  'RISK_REPORT',
  // Our own nightly files (DESIGN.md flow 3).
  'REFERENCE_DATA',
] as const;
export type ReportType = (typeof reportTypes)[number];

export const subscriptionTypes = ['REAL_TIME', 'SCHEDULED', 'ON_DEMAND', 'TRIGGERED'] as const;
export type SubscriptionType = (typeof subscriptionTypes)[number];

/** What `format_preferences` may name: CSV reports are sent as they are, or converted to JSON or XLSX. */
export const reportFormats = ['CSV', 'JSON', 'XLSX'] as const;
export type ReportFormat = (typeof reportFormats)[number];

export const subscriptionStatuses = ['active', 'paused', 'cancelled'] as const;
export type SubscriptionStatus = (typeof subscriptionStatuses)[number];

/**
 * pending → sending → (retrying → sending)* → delivered | failed | cancelled; a replay starts again at pending.
 * `waiting`: its channel is unhealthy and paused, so the delivery waits (no attempt spent) until the channel recovers.
 */
export const deliveryStatuses = ['pending', 'sending', 'retrying', 'waiting', 'delivered', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** `read-only` (migration 011): dashboards and scrapers; reads the operations side, changes nothing, sees no subscriber's data. */
export const apiRoles = ['admin', 'operator', 'subscriber', 'read-only'] as const;
export type ApiRole = (typeof apiRoles)[number];

/** Priority 1 is urgent (its own task queue); 5 is bulk. */
export const URGENT_PRIORITY = 1;
export const DEFAULT_PRIORITY = 3;

export interface ChannelRef {
  channelId: string;
  channelType: ChannelType;
}

export interface DeliveryPreferences {
  channels: ChannelRef[];
  /** Five-field cron (UTC) of a SCHEDULED subscription: its Temporal Schedule releases the held deliveries then. */
  schedule: string | null;
  formatPreferences: string[];
  notificationSettings: Record<string, unknown>;
  /** TRIGGERED subscriptions: the events that release their held deliveries (src/reporting/trigger-events.ts). */
  triggerEvents?: string[];
}

/** Which reports of a subscribed type a subscription wants; absent fields match everything. */
export interface SubscriptionFilters {
  portfolioIds?: string[];
  /** Every key must equal the report's metadata value (as text). */
  metadata?: Record<string, string>;
}

export interface SubscriptionRecord {
  subscriptionId: string;
  subscriberId: string;
  subscriberType: SubscriptionType;
  reportTypes: ReportType[];
  deliveryPreferences: DeliveryPreferences;
  filters: SubscriptionFilters | null;
  status: SubscriptionStatus;
  /** 1 when created; every change (content or status) adds one (migration 012). */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const channelHealthStatuses = ['healthy', 'unhealthy'] as const;
export type ChannelHealthStatus = (typeof channelHealthStatuses)[number];

/** How a channel's destination has been answering (src/reporting/channel-health.ts); times from the database clock. */
export interface ChannelHealth {
  status: ChannelHealthStatus;
  /** Failed attempts in a row that count against the destination (down, 5xx, timeouts); a success resets it. */
  consecutiveFailures: number;
  lastFailureAt: Date | null;
  lastError: string | null;
  /** The last delivered attempt, to about a second (written at most once a second per channel). */
  lastSuccessAt: Date | null;
  /** Set while the channel is paused: its deliveries wait instead of attempting. */
  pausedAt: Date | null;
  nextProbeAt: Date | null;
  /** Failed probes since the channel was paused (the backoff exponent). */
  probeAttempts: number;
  lastProbeAt: Date | null;
  lastProbeError: string | null;
}

/** A stored channel. `config` is the stored form: secret leaves sealed (src/reporting/sealed-config.ts). */
export interface ChannelRecord extends ChannelRef {
  config: unknown;
  subscriptionId: string | null;
  subscriberId: string | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: Date | null;
  health: ChannelHealth;
  createdAt: Date;
}

/** The report fields the `report_distributed` event carries (the original event's report_data and metadata). */
export interface ReportInfo {
  reportId: string;
  reportType: ReportType;
  portfolioId: string | null;
  reportPeriod: string | null;
  filePath: string | null;
  fileSizeBytes: number | null;
  routingKey: string;
  sourceService: string;
  encryptionRequired: boolean;
  retentionDays: number;
}

/** What a delivery sends, stored with it so that a retry or replay needs only the delivery id. */
export interface DeliveryPayload {
  message: DeliveryMessage;
  report: ReportInfo;
  /** The subscription's format preference when it was planned: CSV files are sent converted to it (src/reporting/report-format.ts). */
  format?: ReportFormat | null;
}

export interface DeliveryRecord {
  deliveryId: string;
  subscriptionId: string;
  subscriberId: string;
  reportId: string;
  reportType: string;
  channel: ChannelType;
  channelId: string;
  priority: number;
  status: DeliveryStatus;
  deliveryTime: Date | null;
  retryCount: number;
  /** JSON text: the last ChannelError (`{code, message, permanent, …}`) or another failure's `{code, message}`. */
  errorDetails: string | null;
  payload: DeliveryPayload;
  workflowId: string;
  runId: string | null;
  replayCount: number;
  /** Accepted (or replay requested) → delivered, by the database clock. */
  latencyMs: number | null;
  requestedAt: Date;
  createdAt: Date;
  updatedAt: Date;
  /** The subscription type that held this delivery until a release (schedule, deliver-now, trigger event); null: started at once. */
  heldFor: SubscriptionType | null;
  /** When a held delivery's run was started. */
  releasedAt: Date | null;
}

export interface ApiKeyRecord {
  keyId: string;
  role: ApiRole;
  subscriberId: string | null;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

/** Who is calling: the API resolves a key to this; services decide what it may see. */
export interface Caller {
  role: ApiRole;
  /** Set for subscriber keys: the only subscriber whose subscriptions and deliveries they see. */
  subscriberId: string | null;
  /** For audit lines: a key id, `bootstrap-admin` or `cli`. */
  keyId: string;
}
