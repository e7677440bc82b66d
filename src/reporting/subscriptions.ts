// Subscription management shared by REST, gRPC and the CLI: subscribe, list, pause / resume / cancel, channel status.
import crypto from 'node:crypto';
import type { Client } from '@temporalio/client';
import { ChannelError, generateWebhookSecret, isChannelType, parseChannelConfig, type ChannelType } from '../channels';
import type { Database } from '../db/types';
import { channelsBySubscription, type NewChannel } from '../db/distribution';
import { mayAccess } from './api-keys';
import { checkDestination } from './destination';
import { badRequest, conflict, forbidden, notFound, ReportingError } from './errors';
import { NoSecretsKeyError, sealChannelConfig, type SecretsKey } from './sealed-config';
import type { Caller, ReportType, SubscriptionRecord, SubscriptionType } from './types';
import { channelView, subscriptionView, type ChannelView, type SubscriptionView } from './views';

export interface SubscriptionDeps {
  db: Database;
  client: Client;
  secretsKey: SecretsKey | null;
  allowPrivateDestinations: boolean;
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
async function prepareChannel(deps: SubscriptionDeps, req: SubscribeRequest, subscriptionId: string, entry: ChannelRequest, generated: SubscribeResponse['generated_secrets']): Promise<NewChannel> {
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
  const generated: SubscribeResponse['generated_secrets'] = [];
  const channels: NewChannel[] = [];
  for (const entry of req.delivery_preferences.channels) channels.push(await prepareChannel(deps, req, subscriptionId, entry, generated));
  const { created, subscription } = await deps.db.distribution.createSubscription(
    {
      subscriptionId,
      subscriberId: req.subscriber_id,
      subscriberType: req.subscriber_type ?? 'REAL_TIME',
      reportTypes: [...new Set(req.report_types)],
      deliveryPreferences: {
        channels: channels.map((c) => ({ channelId: c.channelId, channelType: c.channelType })),
        schedule: req.delivery_preferences.schedule ?? null,
        formatPreferences: req.delivery_preferences.format_preferences ?? [],
        notificationSettings: req.delivery_preferences.notification_settings ?? {},
      },
      filters: req.filters ? { ...(req.filters.portfolio_ids ? { portfolioIds: req.filters.portfolio_ids } : {}), ...(req.filters.metadata ? { metadata: req.filters.metadata } : {}) } : null,
    },
    channels,
  );
  if (!created) throw conflict('SUBSCRIPTION_EXISTS', `subscription ${subscriptionId} already exists`);
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
  if (status === 'cancelled') {
    for (const s of ['pending', 'sending', 'retrying', 'waiting'] as const) {
      for (const d of await deps.db.distribution.listDeliveries({ subscriptionId, status: s, limit: 10_000 })) {
        // A run that already ended is fine: nothing to cancel.
        await deps.client.workflow.getHandle(d.workflowId).cancel().catch(() => undefined);
      }
    }
  }
  return (await withChannels(deps, [updated]))[0];
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
