// Subscription management shared by REST, gRPC and the CLI: subscribe, list, pause / resume / cancel, channel status.
import crypto from 'node:crypto';
import type { Client } from '@temporalio/client';
import { ChannelError, generateWebhookSecret, isChannelType, parseChannelConfig, type ChannelType } from '../channels';
import type { Database } from '../db/types';
import { channelsBySubscription, type NewChannel, type SubscriptionChange } from '../db/distribution';
import { mayAccess } from './api-keys';
import { checkDestination } from './destination';
import { badRequest, conflict, forbidden, notFound, ReportingError } from './errors';
import { NoSecretsKeyError, sealChannelConfig, type SecretsKey } from './sealed-config';
import type { Caller, DeliveryPreferences, ReportType, SubscriptionRecord, SubscriptionType } from './types';
import type { DeliveryRetryPolicy } from './retry-policy';
import { releaseHeldDeliveries } from './held-deliveries';
import { unknownFormats } from './report-format';
import { CRON_PATTERN, syncSubscriptionSchedule } from './subscription-schedule';
import { isTriggerEvent, triggerEvents } from './trigger-events';
import { deliveryView, type DeliveryView } from './views';
import { channelView, subscriptionView, type ChannelView, type SubscriptionView } from './views';

export interface SubscriptionDeps {
  db: Database;
  client: Client;
  secretsKey: SecretsKey | null;
  allowPrivateDestinations: boolean;
  /** Retry policies per channel, for the deliveries a deliver-now or a change to REAL_TIME releases. */
  retry?: Record<ChannelType, DeliveryRetryPolicy>;
}

export type ChannelRequest = ChannelType | { channel_type: ChannelType; config?: Record<string, unknown> };

export interface SubscribeRequest {
  subscription_id?: string;
  subscriber_id: string;
  subscriber_type?: SubscriptionType;
  report_types: ReportType[];
  delivery_preferences: {
    channels: ChannelRequest[];
    schedule?: string | null;
    format_preferences?: string[];
    notification_settings?: Record<string, unknown>;
    trigger_events?: string[];
  };
  filters?: { portfolio_ids?: string[]; metadata?: Record<string, string> } | null;
}

export interface SubscribeResponse {
  subscription: SubscriptionView;
  /** Webhook signing secrets refdata generated, shown this once (the API never returns secrets again). */
  generated_secrets: { channel_id: string; secret: string }[];
}

export type SubscriptionAction = 'pause' | 'resume' | 'cancel';

const newId = (prefix: string) => `${prefix}_${crypto.randomBytes(8).toString('hex')}`;

/** Parses one requested channel: defaults filled in (a webhook secret, the dashboard audience), destination checked, secrets sealed. */
async function prepareChannel(deps: SubscriptionDeps, req: Pick<SubscribeRequest, 'subscriber_id'>, subscriptionId: string, entry: ChannelRequest, generated: SubscribeResponse['generated_secrets']): Promise<NewChannel> {
  const type = typeof entry === 'string' ? entry : entry.channel_type;
  if (!isChannelType(type)) throw badRequest('INVALID_CHANNEL', `unknown channel type ${String(type)}`);
  const raw: Record<string, unknown> = { ...(typeof entry === 'string' ? {} : (entry.config ?? {})) };
  const channelId = newId('ch');
  if (type === 'API_WEBHOOK' && raw.secret === undefined) {
    raw.secret = generateWebhookSecret();
    generated.push({ channel_id: channelId, secret: raw.secret as string });
  }
  if (type === 'DASHBOARD_NOTIFICATION' && raw.audience === undefined) raw.audience = [req.subscriber_id];
  let config: unknown;
  try {
    config = parseChannelConfig(type, raw);
  } catch (err) {
    if (err instanceof ChannelError) throw badRequest('INVALID_CHANNEL_CONFIG', err.message);
    throw err;
  }
  await checkDestination(type, config, deps.allowPrivateDestinations);
  let sealed: unknown;
  try {
    sealed = sealChannelConfig(type, config, deps.secretsKey, channelId);
  } catch (err) {
    if (err instanceof NoSecretsKeyError) throw new ReportingError('NO_SECRETS_KEY', err.message, 503);
    throw err;
  }
  return { channelId, channelType: type, config: sealed, subscriptionId, subscriberId: req.subscriber_id };
}

export async function subscribe(deps: SubscriptionDeps, caller: Caller, req: SubscribeRequest): Promise<SubscribeResponse> {
  if (!mayAccess(caller, req.subscriber_id)) throw forbidden(`a subscriber key subscribes only its own subscriber (${caller.subscriberId})`);
  if (req.delivery_preferences.channels.length === 0) throw badRequest('NO_CHANNELS', 'delivery_preferences.channels must name at least one channel');
  const subscriptionId = req.subscription_id ?? newId('sub');
  const subscriberType = req.subscriber_type ?? 'REAL_TIME';
  const p = req.delivery_preferences;
  const triggers = p.trigger_events ?? [];
  checkPreferences(subscriberType, { schedule: p.schedule ?? null, formatPreferences: p.format_preferences ?? [], triggerEvents: triggers, notificationSettings: p.notification_settings });
  const generated: SubscribeResponse['generated_secrets'] = [];
  const channels: NewChannel[] = [];
  for (const entry of req.delivery_preferences.channels) channels.push(await prepareChannel(deps, req, subscriptionId, entry, generated));
  const planned = {
    subscriptionId,
    subscriberId: req.subscriber_id,
    subscriberType,
    reportTypes: [...new Set(req.report_types)],
    deliveryPreferences: {
      channels: channels.map((c) => ({ channelId: c.channelId, channelType: c.channelType })),
      schedule: p.schedule ?? null,
      formatPreferences: p.format_preferences ?? [],
      notificationSettings: p.notification_settings ?? {},
      ...(triggers.length > 0 ? { triggerEvents: [...new Set(triggers)] } : {}),
    },
    filters: filtersOf(req.filters),
  };
  // The schedule first: a cron Temporal refuses is a 400 before anything is stored.
  if (subscriberType === 'SCHEDULED') await syncSchedule(deps, { ...planned, status: 'active', version: 1, createdAt: new Date(), updatedAt: new Date() });
  const { created, subscription } = await deps.db.distribution.createSubscription(planned, channels);
  if (!created) {
    // Someone else's subscription of that id keeps its own schedule.
    await syncSchedule(deps, subscription);
    throw conflict('SUBSCRIPTION_EXISTS', `subscription ${subscriptionId} already exists`);
  }
  return { subscription: subscriptionView(subscription, await deps.db.distribution.listChannels({ subscriptionId })), generated_secrets: generated };
}

async function withChannels(deps: Pick<SubscriptionDeps, 'db'>, subs: SubscriptionRecord[]): Promise<SubscriptionView[]> {
  const channelsOf = await channelsBySubscription(deps.db.distribution, subs.map((s) => s.subscriptionId));
  return subs.map((s) => subscriptionView(s, channelsOf.get(s.subscriptionId) ?? []));
}

/** A subscriber key asking for someone else's subscriptions gets 404, as if there were none. */
export async function listSubscriptions(deps: Pick<SubscriptionDeps, 'db'>, caller: Caller, subscriberId: string): Promise<SubscriptionView[]> {
  if (!mayAccess(caller, subscriberId)) throw notFound(`subscriber ${subscriberId}`);
  return withChannels(deps, await deps.db.distribution.listSubscriptions({ subscriberId, limit: 1000 }));
}

export async function getOwnSubscription(deps: Pick<SubscriptionDeps, 'db'>, caller: Caller, subscriptionId: string): Promise<SubscriptionRecord> {
  const sub = await deps.db.distribution.getSubscription(subscriptionId);
  if (!sub || !mayAccess(caller, sub.subscriberId)) throw notFound(`subscription ${subscriptionId}`);
  return sub;
}

/**
 * Pause stops new deliveries (running ones wait, retrying, for a resume within their deadline); resume re-enables
 * channels a GONE answer switched off; cancel is final and cancels the subscription's unfinished deliveries.
 */
export async function changeSubscription(deps: SubscriptionDeps, caller: Caller, subscriptionId: string, action: SubscriptionAction): Promise<SubscriptionView> {
  const sub = await getOwnSubscription(deps, caller, subscriptionId);
  if (sub.status === 'cancelled' && action !== 'cancel') throw conflict('SUBSCRIPTION_CANCELLED', `subscription ${subscriptionId} is cancelled; subscribe again instead`);
  const status = action === 'pause' ? 'paused' : action === 'resume' ? 'active' : 'cancelled';
  const updated = await deps.db.distribution.setSubscriptionStatus(subscriptionId, status);
  if (!updated) throw notFound(`subscription ${subscriptionId}`);
  // Paused with the subscription, removed when it is cancelled.
  await syncSchedule(deps, updated);
  if (status === 'cancelled') {
    // Held deliveries have no run to cancel: they end here, never sent.
    for (const d of await deps.db.distribution.listHeldDeliveries(subscriptionId, 10_000)) {
      await deps.db.distribution.recordFailure(d.deliveryId, 'cancelled', JSON.stringify({ code: 'CANCELLED', message: `subscription ${subscriptionId} was cancelled before this held delivery was released` }));
    }
    for (const s of ['pending', 'sending', 'retrying', 'waiting'] as const) {
      for (const d of await deps.db.distribution.listDeliveries({ subscriptionId, status: s, limit: 10_000 })) {
        // A run that already ended is fine: nothing to cancel.
        await deps.client.workflow.getHandle(d.workflowId).cancel().catch(() => undefined);
      }
    }
  }
  return (await withChannels(deps, [updated]))[0];
}

/** A channel the subscription keeps as it is (change its config with PATCH /channels/{id}). */
export type KeptChannel = { channel_id: string };

/** PATCH of a subscription's content: the fields given replace the stored ones; channels lists the whole new set. */
export interface SubscriptionUpdateRequest {
  subscriber_type?: SubscriptionType;
  report_types?: ReportType[];
  delivery_preferences?: {
    channels?: (ChannelRequest | KeptChannel)[];
    schedule?: string | null;
    format_preferences?: string[];
    notification_settings?: Record<string, unknown>;
    trigger_events?: string[];
  };
  filters?: SubscribeRequest['filters'];
  expected_version?: number;
}

export interface SubscriptionUpdateResponse extends SubscriptionView {
  /** Secrets refdata generated for new webhook channels, shown this once. */
  generated_secrets: SubscribeResponse['generated_secrets'];
}

const isKept = (e: ChannelRequest | KeptChannel): e is KeptChannel => typeof e === 'object' && 'channel_id' in e;

/**
 * Replaces a subscription's report types, filters, preferences and/or channels, version + 1; the next delivery uses
 * the new content (running deliveries keep what they were planned with). `expectedVersion` (If-Match or the body's
 * expected_version) turns a concurrent change into 409 instead of an overwrite.
 */
export async function updateSubscription(deps: SubscriptionDeps, caller: Caller, subscriptionId: string, req: SubscriptionUpdateRequest, ifMatch: number | null = null): Promise<SubscriptionUpdateResponse> {
  if (ifMatch !== null && req.expected_version !== undefined && ifMatch !== req.expected_version) {
    throw badRequest('VERSION_MISMATCH', `If-Match names version ${ifMatch} but expected_version is ${req.expected_version}; send one`);
  }
  const expectedVersion = ifMatch ?? req.expected_version ?? null;
  const sub = await getOwnSubscription(deps, caller, subscriptionId);
  if (sub.status === 'cancelled') throw conflict('SUBSCRIPTION_CANCELLED', `subscription ${subscriptionId} is cancelled; subscribe again instead`);
  if (expectedVersion !== null && sub.version !== expectedVersion) throw versionConflict(subscriptionId, expectedVersion, sub.version);
  const p = req.delivery_preferences ?? {};
  const generated: SubscribeResponse['generated_secrets'] = [];
  let channels = sub.deliveryPreferences.channels;
  const addChannels: NewChannel[] = [];
  let removeChannelIds: string[] = [];
  if (p.channels !== undefined) {
    if (p.channels.length === 0) throw badRequest('NO_CHANNELS', 'delivery_preferences.channels must name at least one channel');
    const owned = new Set(sub.deliveryPreferences.channels.map((c) => c.channelId));
    const kept = p.channels.filter(isKept).map((e) => e.channel_id);
    const unknown = kept.filter((id) => !owned.has(id));
    if (unknown.length > 0) throw badRequest('UNKNOWN_CHANNEL', `channel(s) ${unknown.join(', ')} are not channels of subscription ${subscriptionId}`);
    for (const entry of p.channels) if (!isKept(entry)) addChannels.push(await prepareChannel(deps, { subscriber_id: sub.subscriberId }, subscriptionId, entry, generated));
    removeChannelIds = [...owned].filter((id) => !kept.includes(id));
    const keptRefs = sub.deliveryPreferences.channels.filter((c) => kept.includes(c.channelId));
    channels = [...keptRefs, ...addChannels.map((c) => ({ channelId: c.channelId, channelType: c.channelType }))];
  }
  const change: SubscriptionChange = {};
  if (req.subscriber_type !== undefined) change.subscriberType = req.subscriber_type;
  if (req.report_types !== undefined) change.reportTypes = [...new Set(req.report_types)];
  if (req.filters !== undefined) change.filters = filtersOf(req.filters);
  if (req.delivery_preferences !== undefined) {
    const old = sub.deliveryPreferences;
    const triggers = p.trigger_events ?? old.triggerEvents ?? [];
    change.deliveryPreferences = {
      channels,
      schedule: p.schedule === undefined ? old.schedule : p.schedule,
      formatPreferences: p.format_preferences ?? old.formatPreferences,
      notificationSettings: p.notification_settings ?? old.notificationSettings,
      ...(triggers.length > 0 ? { triggerEvents: [...new Set(triggers)] } : {}),
    };
  }
  const next: SubscriptionRecord = { ...sub, ...change, deliveryPreferences: change.deliveryPreferences ?? sub.deliveryPreferences };
  checkPreferences(next.subscriberType, next.deliveryPreferences);
  // The schedule first (a refused cron is a 400 with nothing stored); put back as stored if the update does not land.
  const scheduled = sub.subscriberType === 'SCHEDULED' || next.subscriberType === 'SCHEDULED';
  if (scheduled) await syncSchedule(deps, next);
  // The version read above is the one the change was built on: a concurrent change in between is a conflict too.
  const result = await deps.db.distribution.updateSubscription(subscriptionId, { change, addChannels, removeChannelIds, expectedVersion: sub.version });
  if (!result || result.outcome === 'conflict') {
    const stored = result?.subscription ?? (await deps.db.distribution.getSubscription(subscriptionId));
    if (scheduled && stored) await syncSchedule(deps, stored);
    if (!result) throw notFound(`subscription ${subscriptionId}`);
    throw versionConflict(subscriptionId, expectedVersion ?? sub.version, result.subscription.version);
  }
  // Now REAL_TIME: what it held goes out at once, as its new reports will.
  if (next.subscriberType === 'REAL_TIME' && sub.subscriberType !== 'REAL_TIME' && deps.retry) {
    await releaseHeldDeliveries({ db: deps.db, client: deps.client, retry: deps.retry }, subscriptionId);
  }
  return { ...(await withChannels(deps, [result.subscription]))[0], generated_secrets: generated };
}

/** What the type needs: SCHEDULED a five-field cron, TRIGGERED at least one known event; known formats for everyone. */
function checkPreferences(type: SubscriptionType, p: Pick<DeliveryPreferences, 'schedule' | 'formatPreferences' | 'triggerEvents'> & { notificationSettings?: Record<string, unknown> }): void {
  const onFailure = p.notificationSettings?.on_failure;
  if (onFailure !== undefined && !(Array.isArray(onFailure) && onFailure.every((n) => typeof n === 'string' && n.length > 0 && n.length <= 100))) {
    throw badRequest('INVALID_NOTIFICATION_SETTINGS', 'notification_settings.on_failure must be a list of names: "operators", "subscriber" and/or dashboard audiences');
  }
  if (type === 'SCHEDULED' && !p.schedule) throw badRequest('SCHEDULE_REQUIRED', 'a SCHEDULED subscription needs delivery_preferences.schedule, a five-field cron in UTC such as "0 8 * * 1-5"');
  if (p.schedule && !CRON_PATTERN.test(p.schedule.trim())) throw badRequest('INVALID_SCHEDULE', `schedule ${JSON.stringify(p.schedule)} is not a five-field cron such as "0 8 * * 1-5"`);
  const unknownFormat = unknownFormats(p.formatPreferences);
  if (unknownFormat.length > 0) throw badRequest('INVALID_FORMAT', `format_preferences ${unknownFormat.join(', ')} unknown; refdata sends CSV, JSON or XLSX (converted from CSV reports), or PDF as produced`);
  const events = p.triggerEvents ?? [];
  const unknownEvent = events.filter((e) => !isTriggerEvent(e));
  if (unknownEvent.length > 0) throw badRequest('INVALID_TRIGGER_EVENT', `trigger_events ${unknownEvent.join(', ')} unknown; one of ${triggerEvents.join(', ')}`);
  if (type === 'TRIGGERED' && events.length === 0) throw badRequest('TRIGGER_EVENTS_REQUIRED', `a TRIGGERED subscription needs delivery_preferences.trigger_events (${triggerEvents.join(', ')})`);
}

/** Temporal refuses a cron it cannot read (a field out of range; the client reports it as a TypeError): the caller's 400, not our 500. */
async function syncSchedule(deps: Pick<SubscriptionDeps, 'client'>, sub: SubscriptionRecord): Promise<void> {
  try {
    await syncSubscriptionSchedule(deps.client, sub);
  } catch (err) {
    const grpcCode = (err as { cause?: { code?: unknown }; code?: unknown }).cause?.code ?? (err as { code?: unknown }).code;
    if (err instanceof TypeError || grpcCode === 3) throw badRequest('INVALID_SCHEDULE', `Temporal refused schedule ${JSON.stringify(sub.deliveryPreferences.schedule)}: ${(err as Error).message}`);
    throw err;
  }
}

export interface DeliverNowResponse {
  subscription_id: string;
  released: DeliveryView[];
}

/**
 * ON_DEMAND (and any held subscription): starts every delivery it holds now. Nothing held: nothing sent (the answer
 * lists no deliveries); a report already delivered is replayed through the delivery's own replay.
 */
export async function deliverNow(deps: SubscriptionDeps, caller: Caller, subscriptionId: string): Promise<DeliverNowResponse> {
  const sub = await getOwnSubscription(deps, caller, subscriptionId);
  if (sub.status !== 'active') throw conflict(sub.status === 'paused' ? 'SUBSCRIPTION_PAUSED' : 'SUBSCRIPTION_CANCELLED', `subscription ${subscriptionId} is ${sub.status}; resume it first`);
  if (!deps.retry) throw new Error('deliver-now needs the delivery retry policies');
  const { released } = await releaseHeldDeliveries({ db: deps.db, client: deps.client, retry: deps.retry }, subscriptionId);
  const views: DeliveryView[] = [];
  for (const id of released) {
    const d = await deps.db.distribution.getDelivery(id);
    if (d) views.push(deliveryView(d));
  }
  return { subscription_id: subscriptionId, released: views };
}

function versionConflict(subscriptionId: string, expected: number, current: number): ReportingError {
  return new ReportingError('VERSION_CONFLICT', `subscription ${subscriptionId} is at version ${current}, not ${expected}: read it again and re-apply your change`, 409);
}

function filtersOf(f: SubscribeRequest['filters']): SubscriptionRecord['filters'] {
  return f ? { ...(f.portfolio_ids ? { portfolioIds: f.portfolio_ids } : {}), ...(f.metadata ? { metadata: f.metadata } : {}) } : null;
}

export interface ChannelStatusView {
  channel_types: { channel_type: string; channels: number; enabled: number; unhealthy: number; last_24h: { attempted: number; successful: number; failed: number; avg_delivery_time_ms: number | null } }[];
  channels: (ChannelView & { subscription_id: string | null; subscriber_id: string | null })[];
}

/** Channels by type with the last 24 hours' stats; a subscriber key sees only its own channels (and no global stats). */
export async function channelStatus(deps: Pick<SubscriptionDeps, 'db'>, caller: Caller): Promise<ChannelStatusView> {
  const channels = await deps.db.distribution.listChannels(caller.role === 'subscriber' ? { subscriberId: caller.subscriberId ?? '' } : {});
  const stats = caller.role === 'subscriber' ? [] : await deps.db.distribution.statsSince(new Date(Date.now() - 24 * 3600_000));
  const types = [...new Set([...channels.map((c) => c.channelType as string), ...stats.map((s) => s.channel)])].sort();
  return {
    channel_types: types.map((type) => {
      const mine = channels.filter((c) => c.channelType === type);
      const rows = stats.filter((s) => s.channel === type);
      const successful = rows.reduce((n, r) => n + r.successful, 0);
      const weighted = rows.reduce((n, r) => n + (r.avgDeliveryTimeMs ?? 0) * r.successful, 0);
      return {
        channel_type: type,
        channels: mine.length,
        enabled: mine.filter((c) => c.enabled).length,
        unhealthy: mine.filter((c) => c.health.pausedAt !== null).length,
        last_24h: {
          attempted: rows.reduce((n, r) => n + r.attempted, 0),
          successful,
          failed: rows.reduce((n, r) => n + r.failed, 0),
          avg_delivery_time_ms: successful > 0 ? Math.round((weighted / successful) * 10) / 10 : null,
        },
      };
    }),
    channels: channels.map((c) => ({ ...channelView(c), subscription_id: c.subscriptionId, subscriber_id: c.subscriberId })),
  };
}
