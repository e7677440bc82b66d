// The distribution store: subscriptions, channels, deliveries, stats, dashboard notifications and API keys.
// Intentions only; each dialect owns its SQL. Timestamps come from the database clock.
import type { ChannelType } from '../channels/types';
import type { DashboardNotification } from '../channels/dashboard';
import type {
  ApiKeyRecord, ApiRole, ChannelRecord, DeliveryPayload, DeliveryRecord, DeliveryStatus, SubscriptionRecord, SubscriptionStatus, SubscriptionType,
} from '../reporting/types';

/**
 * Stats rows per hour × type × channel are split this many ways, so concurrent deliveries do not all wait for one
 * row lock; a delivery always counts into the same shard, and readers sum the shards.
 */
export const STATS_SHARDS = 16;

export function statsShardOf(deliveryId: string): number {
  let h = 0;
  for (let i = 0; i < deliveryId.length; i++) h = (h * 31 + deliveryId.charCodeAt(i)) >>> 0;
  return h % STATS_SHARDS;
}

export type NewSubscription = Omit<SubscriptionRecord, 'createdAt' | 'updatedAt' | 'status' | 'version'>;

/** A subscription's new content: the fields given replace the stored ones (filters: null clears them). */
export type SubscriptionChange = Partial<Pick<SubscriptionRecord, 'subscriberType' | 'reportTypes' | 'deliveryPreferences' | 'filters'>>;

export interface SubscriptionUpdate {
  change: SubscriptionChange;
  /** New channels of the subscription, inserted with the change. */
  addChannels: NewChannel[];
  /** Channels removed from the subscription (deleted; a delivery still running on one fails as its channel is gone). */
  removeChannelIds: string[];
  /** Apply only if the stored version is this one; null applies to whatever is stored. */
  expectedVersion: number | null;
}

export type SubscriptionUpdateResult =
  | { outcome: 'updated'; subscription: SubscriptionRecord }
  /** The stored version was not the expected one; nothing changed. */
  | { outcome: 'conflict'; subscription: SubscriptionRecord };
export type NewChannel = Omit<ChannelRecord, 'createdAt' | 'enabled' | 'disabledReason' | 'disabledAt' | 'health'>;

export interface ChannelFilter {
  subscriberId?: string;
  subscriptionId?: string;
  subscriptionIds?: readonly string[];
}

export interface NewDelivery {
  deliveryId: string;
  subscriptionId: string;
  subscriberId: string;
  reportId: string;
  reportType: string;
  channel: ChannelType;
  channelId: string;
  priority: number;
  payload: DeliveryPayload;
  workflowId: string;
  /** Set for a SCHEDULED, ON_DEMAND or TRIGGERED subscription: the row waits for a release instead of starting (migration 014). */
  heldFor?: SubscriptionType | null;
}

export interface DeliveryFilter {
  subscriberId?: string;
  subscriptionId?: string;
  channelId?: string;
  status?: DeliveryStatus;
  channel?: ChannelType;
  /** Last changed at or after. */
  since?: Date;
  limit: number;
}

export interface ChannelChange {
  /** The stored form (secrets sealed). */
  config?: unknown;
  enabled?: boolean;
  /** Recorded when `enabled: false` switches the channel off. */
  disabledReason?: string;
}

export interface ChannelFailure {
  /** `CODE: message` of the attempt's error. */
  error: string;
  /** Consecutive failures that make the channel unhealthy and paused; 0 = never. */
  unhealthyAfter: number;
  firstProbeInMs: number;
  /** …and only when the channel's last success is at least this old (or it never delivered); default 0. */
  quietMs?: number;
}

/**
 * What an attempt needs, read in the same transaction that records the attempt. An attempt on a paused channel changes
 * nothing (no status, retry count or stats): the caller sees `channel.health.pausedAt` and holds the delivery.
 */
export interface AttemptContext {
  delivery: DeliveryRecord;
  channel: ChannelRecord | null;
  subscriptionStatus: SubscriptionStatus | null;
}

export interface ChannelStats {
  reportType: string;
  channel: string;
  attempted: number;
  successful: number;
  failed: number;
  avgDeliveryTimeMs: number | null;
}

/** Deliveries created in [from, to), optionally one subscriber's only. */
export interface StatsRange {
  from: Date;
  to: Date;
  subscriberId?: string;
}

export const statsDimensions = ['report_type', 'channel', 'subscriber', 'total'] as const;
export type StatsDimension = (typeof statsDimensions)[number];

/** Deliveries of a range grouped by one dimension (`key` null for the total), from dist.delivery_history. */
export interface DeliveryStatsRow {
  dimension: StatsDimension;
  key: string | null;
  /** Distinct report ids: the distributions these deliveries belong to. */
  reports: number;
  deliveries: number;
  delivered: number;
  failed: number;
  cancelled: number;
  /** pending, sending, retrying or waiting. */
  inProgress: number;
  /** Sum of retry_count (attempts after the first, of each delivery's last run). */
  retries: number;
  replays: number;
  /** Accepted (or replay requested) → delivered, over the delivered ones. */
  avgLatencyMs: number | null;
  maxLatencyMs: number | null;
}

export interface StoredNotification {
  notification: DashboardNotification;
  subscriberId: string | null;
  subscriptionId: string | null;
  createdAt: Date;
  readAt: Date | null;
}

export interface DistributionStore {
  /** Inserts the subscription and its channels together; an existing subscription id changes nothing (created false). */
  createSubscription(sub: NewSubscription, channels: NewChannel[]): Promise<{ created: boolean; subscription: SubscriptionRecord }>;
  getSubscription(subscriptionId: string): Promise<SubscriptionRecord | null>;
  listSubscriptions(filter: { subscriberId?: string; status?: SubscriptionStatus; limit: number }): Promise<SubscriptionRecord[]>;
  /** Active subscriptions that list the report type; the caller applies the remaining filters. */
  activeSubscriptionsFor(reportType: string): Promise<SubscriptionRecord[]>;
  /**
   * Changes content and channels together, version + 1, in one transaction; null when the subscription does not exist.
   * A cancelled subscription is not changed (the caller refuses it first; the store does not check).
   */
  updateSubscription(subscriptionId: string, update: SubscriptionUpdate): Promise<SubscriptionUpdateResult | null>;
  /** null when the subscription does not exist; version + 1. Resuming also re-enables its channels that a GONE answer switched off. */
  setSubscriptionStatus(subscriptionId: string, status: SubscriptionStatus): Promise<SubscriptionRecord | null>;

  getChannel(channelId: string): Promise<ChannelRecord | null>;
  /** Filters combine with AND; `subscriptionIds` fetches the channels of many subscriptions at once ([] matches none). */
  listChannels(filter: ChannelFilter): Promise<ChannelRecord[]>;
  /** Switches a channel off (the destination is gone); idempotent. Returns whether this call switched it off. */
  disableChannel(channelId: string, reason: string): Promise<boolean>;
  /** A new (stored, sealed) config and/or enabled flag; re-enabling clears the disabled reason. null for an unknown channel. */
  updateChannel(channelId: string, change: ChannelChange): Promise<ChannelRecord | null>;

  /**
   * An attempt failed in a way that counts against the destination: one more consecutive failure; at
   * `unhealthyAfter` (0 = never) the channel becomes unhealthy and paused, first probe `firstProbeInMs` from now.
   */
  recordChannelFailure(channelId: string, failure: ChannelFailure): Promise<{ channel: ChannelRecord; becameUnhealthy: boolean } | null>;
  /**
   * An attempt delivered: failures reset, healthy, unpaused, last success now. Writes only when that changes something
   * or the recorded last success is a second old (so a busy channel's row is not a hot spot); null when nothing was written.
   */
  recordChannelSuccess(channelId: string): Promise<{ channel: ChannelRecord; recovered: boolean } | null>;
  /** A probe succeeded (`probe`) or an operator resumed the channel (`operator`): healthy, unpaused, counters reset. */
  markChannelHealthy(channelId: string, via: 'probe' | 'operator'): Promise<{ channel: ChannelRecord; recovered: boolean } | null>;
  /** A probe failed while the channel is paused: the next one `nextProbeInMs` from now. null when not paused (or unknown). */
  recordProbeFailure(channelId: string, error: string, nextProbeInMs: number): Promise<ChannelRecord | null>;

  /** Inserts the deliveries that do not exist yet; returns the ids it inserted (the rest already existed). */
  createDeliveries(deliveries: NewDelivery[]): Promise<Set<string>>;
  getDelivery(deliveryId: string): Promise<DeliveryRecord | null>;
  listDeliveries(filter: DeliveryFilter): Promise<DeliveryRecord[]>;
  /**
   * One attempt begins: status sending, retry_count = attempt - 1, the run id, and one attempt counted in the stats;
   * returns what the attempt needs (delivery, channel, subscription status) or null for an unknown delivery.
   */
  beginAttempt(deliveryId: string, attempt: number, runId: string): Promise<AttemptContext | null>;
  /** The attempt delivered: status delivered, time and latency; counted once per run even if recorded twice. */
  recordDelivered(deliveryId: string): Promise<DeliveryRecord | null>;
  /**
   * The attempt failed: `retrying` (another attempt follows), `waiting` (its channel is paused) or a final `failed` /
   * `cancelled`. A final failure is counted in the stats once; a delivery already delivered is left alone.
   */
  recordFailure(deliveryId: string, status: Extract<DeliveryStatus, 'retrying' | 'waiting' | 'failed' | 'cancelled'>, errorDetails: string): Promise<DeliveryRecord | null>;
  /** A replay was requested: pending again, retry count 0, replay_count + 1, requested now. */
  markReplayRequested(deliveryId: string): Promise<DeliveryRecord | null>;
  /**
   * Held deliveries of a subscription not marked released yet (oldest first), except cancelled ones. One whose run a
   * release started before it was cut short may have moved on (even delivered): the next release marks it without sending again.
   */
  listHeldDeliveries(subscriptionId: string, limit: number): Promise<DeliveryRecord[]>;
  /** Marks held deliveries released (their runs were started); returns how many were not released before. */
  markReleased(deliveryIds: readonly string[]): Promise<number>;

  /** Sums per report type × channel over the hourly buckets that start at or after `since`. */
  statsSince(since: Date): Promise<ChannelStats[]>;
  /** The same over the hourly buckets that start in [from, to). */
  statsBetween(from: Date, to: Date): Promise<ChannelStats[]>;
  /** Deliveries created in the range, by report type, by channel, by subscriber and in total (one row each). */
  deliveryStatsBetween(range: StatsRange): Promise<DeliveryStatsRow[]>;

  /** Stores (or re-stores, same id) a dashboard notification, attributed to its delivery's subscriber. */
  upsertNotification(notification: DashboardNotification): Promise<StoredNotification>;
  getNotification(id: string): Promise<StoredNotification | null>;
  listNotifications(filter: { subscriberId?: string; limit: number }): Promise<StoredNotification[]>;

  createApiKey(key: { keyId: string; keyHash: string; role: ApiRole; subscriberId: string | null; label: string | null }): Promise<ApiKeyRecord>;
  /** The live (not revoked) key with this SHA-256 hex. */
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** false when no live key has this id. */
  revokeApiKey(keyId: string): Promise<boolean>;
}

/** The channels of these subscriptions, fetched in one query and grouped by subscription (each in channel_id order). */
export async function channelsBySubscription(store: Pick<DistributionStore, 'listChannels'>, subscriptionIds: readonly string[]): Promise<Map<string, ChannelRecord[]>> {
  const grouped = new Map<string, ChannelRecord[]>(subscriptionIds.map((id) => [id, []]));
  for (const c of await store.listChannels({ subscriptionIds })) if (c.subscriptionId !== null) grouped.get(c.subscriptionId)?.push(c);
  return grouped;
}
