// MOBILE_PUSH: a Web Push message (RFC 8030, payload encrypted per RFC 8291, VAPID per RFC 8292) sent with web-push.
import { Agent } from 'node:https';
import type WebPush from 'web-push';
import { z } from 'zod';
import { raceDeadline, startDeadline } from './deadline';
import { ChannelError, classifyHttpStatus, classifyTransportError, errorMessage } from './errors';
import { caList } from './http';
import { pinnedLookup, resolveUrl } from './network-policy';
import { secret } from './secrets';
import type { ChannelSender, DeliveryMessage, SendResult } from './types';

/** Loaded on first use: a worker that never pushes (a `sync`-only one) does not hold web-push and its crypto. */
const loadWebPush = (): typeof WebPush => require('web-push') as typeof WebPush;

const base64url = z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url');

export const pushConfigSchema = z.object({
  /** The browser's PushSubscription.toJSON(), as the subscriber's page sent it. */
  subscription: z.object({
    endpoint: z.string().regex(/^https:\/\//, 'push endpoints are https URLs'),
    expirationTime: z.number().nullable().optional(),
    keys: z.object({ p256dh: base64url, auth: secret(base64url) }),
  }),
  vapid: z.object({
    /** mailto: or https: contact for the push service's operators. */
    subject: z.string().regex(/^(mailto:|https:\/\/)/, 'must be a mailto: or https: URL'),
    publicKey: base64url,
    privateKey: secret(base64url),
  }),
  /** How long the push service keeps the message for an offline device. */
  ttlSeconds: z.number().int().min(0).max(28 * 24 * 3600).default(24 * 3600),
  urgency: z.enum(['very-low', 'low', 'normal', 'high']).default('normal'),
  /** Messages with the same topic replace each other while undelivered (e.g. one per report type). */
  topic: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).optional(),
});

export type PushConfig = z.infer<typeof pushConfigSchema>;

// RFC 8291: one 4096-byte record minus header (86), padding delimiter (1) and tag (16).
export const PUSH_PAYLOAD_LIMIT = 3993;

/** The JSON the service worker receives: enough to show a notification and open the report. */
export function pushPayload(msg: DeliveryMessage): string {
  const build = (body: string | undefined): string =>
    JSON.stringify({
      title: msg.title,
      ...(body ? { body } : {}),
      data: { deliveryId: msg.deliveryId, reportId: msg.reportId, reportType: msg.reportType, ...(msg.link ? { url: msg.link } : {}) },
    });
  let payload = build(msg.summary);
  // A long summary is shortened rather than failing the delivery; the report itself is one tap away.
  for (let keep = 1000; Buffer.byteLength(payload) > PUSH_PAYLOAD_LIMIT && keep >= 0; keep -= 250) {
    payload = build(keep > 0 && msg.summary ? `${msg.summary.slice(0, keep)}…` : undefined);
  }
  return payload;
}

export const pushSender: ChannelSender<PushConfig> = {
  type: 'MOBILE_PUSH',
  async send(msg, config, ctx): Promise<SendResult> {
    const started = performance.now();
    const what = `push ${msg.deliveryId}`;
    const payload = pushPayload(msg);
    if (Buffer.byteLength(payload) > PUSH_PAYLOAD_LIMIT) {
      throw new ChannelError('TOO_LARGE', `${what}: payload is ${Buffer.byteLength(payload)} bytes even without a summary; shorten the title or ids`, { permanent: true });
    }
    const deadline = startDeadline(ctx);
    const target = await resolveUrl(config.subscription.endpoint, ctx, what).catch((err: unknown) => {
      deadline.dispose();
      throw err;
    });
    // web-push always speaks https and takes no signal: the agent carries the pinned address and extra CAs, and
    // destroying it is how the deadline stops a send in flight.
    const agent = new Agent({ ca: caList(ctx), lookup: pinnedLookup(target), keepAlive: false });
    try {
      const res = await raceDeadline(
        loadWebPush().sendNotification(config.subscription, payload, {
          vapidDetails: config.vapid,
          TTL: config.ttlSeconds,
          urgency: config.urgency,
          ...(config.topic ? { topic: config.topic } : {}),
          agent,
          timeout: ctx.timeoutMs,
        }),
        deadline,
        what,
        () => agent.destroy(),
      );
      const location = res.headers.location;
      return {
        status: 'delivered',
        detail: `push service ${target.url.host} answered HTTP ${res.statusCode} (${target.address})`,
        remoteId: Array.isArray(location) ? location[0] : location,
        latencyMs: Math.round(performance.now() - started),
      };
    } catch (err) {
      throw classifyPushError(err, what);
    } finally {
      deadline.dispose();
      agent.destroy();
    }
  },
};

function classifyPushError(err: unknown, what: string): ChannelError {
  if (err instanceof ChannelError) return err;
  if (err instanceof loadWebPush().WebPushError) {
    const said = typeof err.body === 'string' ? err.body.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
    // RFC 8030 §7.3: 404 and 410 both mean the subscription expired; the device must subscribe again.
    if (err.statusCode === 404 || err.statusCode === 410) {
      return new ChannelError('GONE', `${what}: push service answered HTTP ${err.statusCode}; the subscription has expired, disable it`, {
        permanent: true,
        disable: true,
        status: err.statusCode,
      });
    }
    const classified = classifyHttpStatus(err.statusCode, err.headers['retry-after'], what, said);
    if (classified) return classified;
  }
  if (/socket timeout/i.test(errorMessage(err))) return new ChannelError('TIMEOUT', `${what}: ${errorMessage(err)}`, { permanent: false, cause: err });
  const transport = classifyTransportError(err, what);
  if (transport) return transport;
  // web-push checks keys and options before connecting and rejects with a plain Error: a config problem.
  return new ChannelError('INVALID_CONFIG', `${what}: ${errorMessage(err)}`, { permanent: true, cause: err });
}
