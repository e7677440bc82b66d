// /api/v1/reporting: subscriptions, deliveries (fan-out, status, replay), channel status and the live stream.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Client } from '@temporalio/client';
import type { ChannelType } from '../channels/types';
import type { Config } from '../config';
import { createOutboxPublisher } from '../events/outbox-publisher';
import type { EventPublisher } from '../events/types';
import { deliveredTopic } from '../reporting/event';
import type { Database } from '../db/types';
import { deliver, deliveryStatus, replayDelivery, replayMatching, type DeliverRequest } from '../reporting/deliveries';
import { parseSince } from '../since';
import { deliveryStats, MAX_STATS_RANGE_DAYS, statsRangeOf } from '../reporting/stats';
import type { DeliveryStatus } from '../reporting/types';
import { badRequest, ReportingError } from '../reporting/errors';
import { patchChannel, resumeChannel, type ChannelPatch } from '../reporting/channels';
import type { Notifier } from '../notify/notifier';
import type { DeliveryNotifier } from '../reporting/notifier';
import type { DeliveryRetryPolicy } from '../reporting/retry-policy';
import type { SecretsKey } from '../reporting/sealed-config';
import {
  changeSubscription, channelStatus, deliverNow, listSubscriptions, subscribe, updateSubscription, type SubscribeRequest, type SubscriptionAction, type SubscriptionUpdateRequest,
} from '../reporting/subscriptions';
import { callerOf, requireRole } from './auth';
import { reportingStreamRoute } from './reporting-stream';
import {
  ChannelResponse, ChannelStatusResponse, DeliverNowResponse, PatchChannelBody, PatchSubscriptionBody, PatchSubscriptionResponse, ResumeChannelResponse, DeliverBody, DeliverResponse, DeliveryStatusView,
  BulkReplayBody, BulkReplayResponse, ReplayBody, ReplayResponse, StatsQuery, StatsResponse, SubscribeBody, SubscribeResponse, SubscriptionView,
} from './reporting-schemas';
import { ErrorBody } from './schemas';

export interface ReportingApiOptions {
  secretsKey: SecretsKey | null;
  allowPrivateDestinations: boolean;
  reportRoots: readonly string[];
  retry: Record<ChannelType, DeliveryRetryPolicy>;
  streamPollMs: number;
  /** The worker's status feed when it runs in this process; without it the stream polls delivery_history only. */
  feed?: DeliveryNotifier;
  /**
   * A client on the NativeConnection of a delivery Worker in this process (RunningWorker.connection): deliveries and
   * replays start through it with eager workflow start (src/reporting/start-delivery.ts).
   */
  deliveryClient?: Client;
  /** Where each distribution's `report_distributed` event goes; default: the database's outbox (any relay publishes it). */
  events?: EventPublisher;
  /** Topic of `report_distributed` for a report type (KAFKA_TOPIC_DELIVERED). */
  topicFor?: (reportType: string) => string;
}

export function reportingOptionsFrom(
  config: Pick<Config, 'reporting'> & Partial<Pick<Config, 'events'>>, secretsKey: SecretsKey | null, feed?: DeliveryNotifier, deliveryClient?: Client,
): ReportingApiOptions {
  const r = config.reporting;
  const template = config.events?.topics.deliveredTemplate;
  return {
    secretsKey, allowPrivateDestinations: r.allowPrivateDestinations, reportRoots: r.reportRoots, retry: r.retry, streamPollMs: r.streamPollMs, feed, deliveryClient,
    topicFor: (reportType) => deliveredTopic(reportType, template),
  };
}

export interface ReportingPluginDeps {
  db: Database;
  client: Client;
  adminKey?: string;
  options: ReportingApiOptions;
  /** Operator notifications of this process (channel resumed). */
  notifier?: Notifier;
}

// Not `read-only`: it sees no subscriber's data.
const everyone = ['admin', 'operator', 'subscriber'] as const;
const staff = ['admin', 'operator'] as const;
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };

/** Service refusals become `{error:{code,message}}` with their status; anything else is the server's fault. */
async function answer<T>(reply: FastifyReply, status: number, work: () => Promise<T>) {
  try {
    return reply.code(status).send(await work());
  } catch (err) {
    if (err instanceof ReportingError) return reply.code(err.httpStatus).send({ error: { code: err.code, message: err.message } });
    throw err;
  }
}

/** If-Match as the ETag gave it ("3", W/"3" or 3); `*` or none: any version. */
function versionOf(header: string | undefined): number | null {
  if (header === undefined || header.trim() === '*') return null;
  const m = /^\s*(?:W\/)?"?([1-9][0-9]{0,9})"?\s*$/.exec(header);
  if (!m) throw badRequest('INVALID_IF_MATCH', `If-Match ${JSON.stringify(header.slice(0, 40))} is not a subscription version such as "3"`);
  return Number(m[1]);
}

export const reportingPlugin = (deps: ReportingPluginDeps): FastifyPluginAsync => async (app) => {
  const auth = { adminKey: deps.adminKey, keys: deps.db.distribution };
  const o = deps.options;
  const subs = { db: deps.db, client: deps.client, secretsKey: o.secretsKey, allowPrivateDestinations: o.allowPrivateDestinations, retry: o.retry };
  const dels = {
    db: deps.db, client: o.deliveryClient ?? deps.client, eagerStart: o.deliveryClient !== undefined, reportRoots: o.reportRoots, retry: o.retry,
    events: o.events ?? createOutboxPublisher(deps.db.outbox), topicFor: o.topicFor,
  };
  const security = [{ bearer: [] }];

  app.post('/api/v1/reporting/subscribe', {
    preHandler: requireRole(auth, everyone),
    schema: {
      tags: ['reporting'],
      summary: 'Subscribe to report types over one or more channels; webhook secrets refdata generates are returned once',
      description: 'A subscriber key may only subscribe its own subscriber_id. Destinations must be http(s) and public unless the operator allows private networks.',
      security,
      body: SubscribeBody,
      response: { 201: SubscribeResponse, ...errors },
    },
  }, async (req, reply) => answer(reply, 201, () => subscribe(subs, callerOf(req), req.body as SubscribeRequest)));

  app.get('/api/v1/reporting/subscriptions/:subscriber_id', {
    preHandler: requireRole(auth, everyone),
    schema: {
      tags: ['reporting'],
      summary: 'A subscriber\'s subscriptions with their channels (secrets shown as "***")',
      security,
      params: Type.Object({ subscriber_id: Type.String({ minLength: 1, maxLength: 100 }) }),
      response: { 200: Type.Object({ subscriber_id: Type.String(), subscriptions: Type.Array(SubscriptionView) }), ...errors },
    },
  }, async (req, reply) => {
    const { subscriber_id } = req.params as { subscriber_id: string };
    return answer(reply, 200, async () => ({ subscriber_id, subscriptions: await listSubscriptions(subs, callerOf(req), subscriber_id) }));
  });

  app.patch('/api/v1/reporting/subscriptions/:subscription_id', {
    preHandler: requireRole(auth, everyone),
    schema: {
      tags: ['reporting'],
      summary: 'Change a subscription (report types, filters, preferences, channels; versioned) or pause, resume or cancel it',
      description: 'Content: the fields given replace the stored ones, version + 1, and the next delivery uses them (running deliveries keep what they were planned with). '
        + 'If-Match: "<version>" or expected_version applies the change only at that version, else 409 VERSION_CONFLICT. '
        + 'delivery_preferences.channels is the whole new set: {"channel_id"} keeps a channel, a type or {channel_type, config} adds one, channels not listed are removed. '
        + 'action (alone): pause: no new deliveries, running ones wait (retrying) for a resume within their deadline. resume: also re-enables channels a 410 switched off. cancel: final; unfinished deliveries are cancelled.',
      security,
      params: Type.Object({ subscription_id: Type.String({ minLength: 1, maxLength: 100 }) }),
      headers: Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 40, description: 'the version to change, as the ETag gave it ("3")' })) }),
      body: PatchSubscriptionBody,
      response: { 200: PatchSubscriptionResponse, ...errors },
    },
  }, async (req, reply) => {
    const { subscription_id } = req.params as { subscription_id: string };
    const { action, ...content } = req.body as SubscriptionUpdateRequest & { action?: SubscriptionAction };
    return answer(reply, 200, async () => {
      const ifMatch = versionOf(req.headers['if-match']);
      const { expected_version: _v, ...changes } = content;
      if (action !== undefined && Object.keys(changes).length > 0) throw badRequest('ACTION_WITH_CHANGES', 'send an action or new content, not both');
      // A version alone changes nothing, so it must not count as a change (version + 1).
      if (action === undefined && Object.keys(changes).length === 0) throw badRequest('NO_CHANGES', 'send an action or at least one field to change');
      const view = action !== undefined
        ? await changeSubscription(subs, callerOf(req), subscription_id, action)
        : await updateSubscription(subs, callerOf(req), subscription_id, content, ifMatch);
      reply.header('etag', `"${view.version}"`);
      return view;
    });
  });

  app.delete('/api/v1/reporting/subscriptions/:subscription_id', {
    preHandler: requireRole(auth, everyone),
    schema: {
      tags: ['reporting'],
      summary: 'Cancel a subscription (same as PATCH {"action":"cancel"})',
      security,
      params: Type.Object({ subscription_id: Type.String({ minLength: 1, maxLength: 100 }) }),
      response: { 200: SubscriptionView, ...errors },
    },
  }, async (req, reply) => {
    const { subscription_id } = req.params as { subscription_id: string };
    return answer(reply, 200, () => changeSubscription(subs, callerOf(req), subscription_id, 'cancel'));
  });

  app.post('/api/v1/reporting/subscriptions/:subscription_id/deliver-now', {
    preHandler: requireRole(auth, everyone),
    schema: {
      tags: ['reporting'],
      summary: 'Send what a subscription holds now (ON_DEMAND; also SCHEDULED or TRIGGERED ahead of time): each held delivery starts its run, once',
      description: 'Deliveries of ON_DEMAND, SCHEDULED and TRIGGERED subscriptions wait (status pending, held_for set) until released. '
        + 'This releases every held one of the subscription and lists them; none held: an empty list. 409 when the subscription is paused or cancelled.',
      security,
      params: Type.Object({ subscription_id: Type.String({ minLength: 1, maxLength: 100 }) }),
      response: { 202: DeliverNowResponse, ...errors },
    },
  }, async (req, reply) => answer(reply, 202, () => deliverNow(subs, callerOf(req), (req.params as { subscription_id: string }).subscription_id)));

  app.post('/api/v1/reporting/deliver', {
    preHandler: requireRole(auth, staff),
    schema: {
      tags: ['reporting'],
      summary: 'Hand a report to every matching active subscription × channel: one durable delivery workflow each',
      description: 'Idempotent per report_id × subscription × channel: repeating the request returns the same delivery ids (new: false).',
      security,
      body: DeliverBody,
      response: { 202: DeliverResponse, ...errors },
    },
  }, async (req, reply) => answer(reply, 202, () => deliver(dels, req.body as DeliverRequest)));

  app.get('/api/v1/reporting/delivery/:delivery_id/status', {
    preHandler: requireRole(auth, everyone),
    schema: {
      tags: ['reporting'],
      summary: 'A delivery\'s status, attempts and last error',
      security,
      params: Type.Object({ delivery_id: Type.String({ minLength: 1, maxLength: 100 }) }),
      response: { 200: DeliveryStatusView, ...errors },
    },
  }, async (req, reply) => answer(reply, 200, () => deliveryStatus(dels, callerOf(req), (req.params as { delivery_id: string }).delivery_id)));

  app.post('/api/v1/reporting/delivery/:delivery_id/replay', {
    preHandler: requireRole(auth, everyone),
    schema: {
      tags: ['reporting'],
      summary: 'Replay a delivery: a new run of the same workflow id (same webhook-id, so receivers deduplicate)',
      security,
      params: Type.Object({ delivery_id: Type.String({ minLength: 1, maxLength: 100 }) }),
      body: Type.Optional(ReplayBody),
      response: { 202: ReplayResponse, ...errors },
    },
  }, async (req, reply) => {
    const reason = (req.body as { reason?: string } | null | undefined)?.reason ?? null;
    return answer(reply, 202, () => replayDelivery(dels, callerOf(req), (req.params as { delivery_id: string }).delivery_id, reason));
  });

  app.post('/api/v1/reporting/deliveries/replay', {
    preHandler: requireRole(auth, staff),
    schema: {
      tags: ['reporting'],
      summary: 'Bulk replay (as `refdata deliveries replay`): every delivery in a status (default failed) changed since a time, each as a new run of its delivery id',
      description: 'Filters: status, since (30m, 24h, 7d or an ISO time; default 24h), channel, subscriber_id, limit. dry_run lists them and changes nothing. Deliveries still running are refused (listed in `refused`), not replayed.',
      security,
      body: Type.Optional(BulkReplayBody),
      response: { 200: BulkReplayResponse, 202: BulkReplayResponse, ...errors },
    },
  }, async (req, reply) => {
    const b = (req.body ?? {}) as { status?: DeliveryStatus; since?: string; channel?: ChannelType; subscriber_id?: string; limit?: number; dry_run?: boolean; reason?: string };
    const dryRun = b.dry_run ?? false;
    return answer(reply, dryRun ? 200 : 202, async () => {
      let since: Date;
      try {
        since = parseSince(b.since ?? '24h');
      } catch {
        throw badRequest('INVALID_SINCE', `since ${JSON.stringify(b.since)}: give a duration like 30m, 24h, 7d, or an ISO time like 2025-06-21T10:00:00Z`);
      }
      const filter = { status: b.status ?? 'failed', since, channel: b.channel, subscriberId: b.subscriber_id, limit: b.limit ?? 1000 };
      const out = await replayMatching(dels, callerOf(req), filter, dryRun, b.reason ?? `bulk replay from the API by ${callerOf(req).keyId}`);
      return { dry_run: dryRun, since: since.toISOString(), ...out };
    });
  });

  app.get('/api/v1/reporting/stats', {
    preHandler: requireRole(auth, everyone),
    schema: {
      tags: ['reporting'],
      summary: 'Distribution and delivery statistics over a chosen period, by report type, channel and subscriber',
      description: `Deliveries created in [from, to) from dist.delivery_history; for admin and operator also the attempt counters of dist.distribution_stats (hourly buckets that start in the range). A subscriber key sees only its own deliveries. 400 INVALID_RANGE: not an ISO date/time, from not before to, or longer than ${MAX_STATS_RANGE_DAYS} days.`,
      security,
      querystring: StatsQuery,
      response: { 200: StatsResponse, ...errors },
    },
  }, async (req, reply) => answer(reply, 200, () => deliveryStats({ db: deps.db }, callerOf(req), statsRangeOf(req.query as { from?: string; to?: string }))));

  app.get('/api/v1/reporting/channels', {
    preHandler: requireRole(auth, everyone),
    schema: {
      tags: ['reporting'],
      summary: 'Channels by type (count, enabled, last 24 h attempts/successes/failures/average time) and each channel (secrets redacted)',
      security,
      response: { 200: ChannelStatusResponse, ...errors },
    },
  }, async (req, reply) => answer(reply, 200, () => channelStatus(subs, callerOf(req))));

  const channelParams = Type.Object({ channel_id: Type.String({ minLength: 1, maxLength: 100 }) });
  const channelDeps = (log: Parameters<typeof resumeChannel>[0]['log']) => ({ ...subs, log, notifier: deps.notifier });

  app.post('/api/v1/reporting/channels/:channel_id/resume', {
    preHandler: requireRole(auth, staff),
    schema: {
      tags: ['reporting'],
      summary: 'Resume a channel by hand: healthy and unpaused at once, its waiting deliveries send now',
      description: 'For a channel paused as unhealthy (docs/channels.md, "Channel health") whose destination an operator knows is back, or whose probe cannot tell. Resuming a healthy channel only resets its failure count.',
      security,
      params: channelParams,
      response: { 200: ResumeChannelResponse, ...errors },
    },
  }, async (req, reply) => answer(reply, 200, () => resumeChannel(channelDeps(req.log), callerOf(req), (req.params as { channel_id: string }).channel_id)));

  app.patch('/api/v1/reporting/channels/:channel_id', {
    preHandler: requireRole(auth, ['admin', 'subscriber'] as const),
    schema: {
      tags: ['reporting'],
      summary: 'Change a channel\'s config and/or re-enable it (admin, or the subscriber that owns it); secrets are sealed and never returned',
      description: 'config fields are merged over the stored config and validated like a new channel\'s (destination policy included); "***" keeps a stored secret, null removes an optional field. enabled: true re-enables a channel a 410 (GONE) switched off.',
      security,
      params: channelParams,
      body: PatchChannelBody,
      response: { 200: ChannelResponse, ...errors },
    },
  }, async (req, reply) => answer(reply, 200, () => patchChannel(channelDeps(req.log), callerOf(req), (req.params as { channel_id: string }).channel_id, req.body as ChannelPatch)));

  reportingStreamRoute(app, { db: deps.db, adminKey: deps.adminKey, feed: o.feed, pollMs: o.streamPollMs });
};
