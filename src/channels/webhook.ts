// API_WEBHOOK: a signed POST (Standard Webhooks) of JSON, or of the report files as multipart/form-data streamed from disk.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { channelEncryptionSchema } from './encryption';
import { checkAttachments } from './attachments';
import { startDeadline } from './deadline';
import { ChannelError, classifyHttpStatus } from './errors';
import { answerSnippet, headerValue, postOnce, type HttpAnswer, type HttpPost } from './http';
import { multipartBody } from './multipart';
import { secret } from './secrets';
import type { ChannelSender, DeliveryMessage, SendResult } from './types';

// Headers the channel sets itself; a subscriber's extra headers may not replace them.
const reservedHeaders = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature', 'webhook-manifest', 'content-type', 'content-length', 'host', 'transfer-encoding']);

/** A signing secret: `whsec_` + base64 of 24–64 random bytes (the Standard Webhooks format). */
export const webhookSecretSchema = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by base64')
  .refine((s) => {
    const n = Buffer.from(s.slice('whsec_'.length), 'base64').length;
    return n >= 24 && n <= 64;
  }, 'must hold 24 to 64 bytes of key');

export const webhookConfigSchema = z.object({
  url: z.string().min(1),
  secret: secret(webhookSecretSchema),
  /** auto: multipart when the delivery has files, JSON otherwise. */
  format: z.enum(['auto', 'json', 'multipart']).default('auto'),
  /** Extra headers, e.g. an Authorization the receiver also wants; values are secrets. */
  headers: secret(
    z
      .record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string().regex(/^[^\r\n]*$/))
      .refine((h) => Object.keys(h).every((k) => !reservedHeaders.has(k.toLowerCase())), 'must not set webhook-*, content-* or host headers'),
  ).optional(),
  /** OpenPGP encryption of the files (src/reporting/encrypt-delivery.ts). */
  encryption: channelEncryptionSchema.optional(),
});

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

/** A new signing secret for a subscription (32 random bytes). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Multipart deliveries carry the signed manifest base64-encoded in this header while it fits; see docs/channels.md. */
export const MANIFEST_HEADER = 'webhook-manifest';
/** ... and always as the body's first part, a form field of this name (application/json), whatever the number of files. */
export const MANIFEST_FIELD = 'manifest';

/**
 * The JSON every receiver gets: the body in JSON mode, the signed manifest in multipart mode. No per-attempt values,
 * so a retry sends the same bytes; the attempt time travels in `webhook-timestamp`.
 */
export function webhookPayload(msg: DeliveryMessage, includeContent: boolean): string {
  return JSON.stringify({
    type: 'report.distributed',
    timestamp: msg.createdAt,
    data: {
      deliveryId: msg.deliveryId,
      reportId: msg.reportId,
      reportType: msg.reportType,
      title: msg.title,
      ...(msg.summary === undefined ? {} : { summary: msg.summary }),
      metadata: msg.metadata,
      ...(msg.link === undefined ? {} : { link: msg.link }),
      attachments: msg.attachments.map((a) => ({
        fileName: a.fileName,
        contentType: a.contentType,
        bytes: a.bytes,
        sha256: a.sha256,
        ...(a.url === undefined ? {} : { url: a.url }),
      })),
      ...(includeContent && msg.content ? { content: msg.content } : {}),
    },
  });
}

// A header bigger than this risks the receiver's header limit (8 KiB is common): past it the manifest travels in the
// body only (its first part), so the number of files is not capped by a header.
export const MANIFEST_HEADER_LIMIT = 6 * 1024;

export const webhookSender: ChannelSender<WebhookConfig> = {
  type: 'API_WEBHOOK',
  async send(msg, config, ctx): Promise<SendResult> {
    const started = performance.now();
    const what = `webhook ${msg.deliveryId}`;
    const multipart = config.format === 'multipart' || (config.format === 'auto' && msg.attachments.length > 0);
    if (multipart) {
      if (msg.attachments.length === 0) throw new ChannelError('INVALID_MESSAGE', `${what}: multipart format needs at least one file`, { permanent: true });
      await checkAttachments(msg.attachments, what);
    }
    const request = signedRequest(msg, config, (ctx.now ?? (() => new Date()))(), multipart);
    const deadline = startDeadline(ctx);
    try {
      const answer = await postOnce(request, ctx, deadline, what);
      throwUnlessDelivered(answer, what);
      return {
        status: 'delivered',
        detail: `HTTP ${answer.status} from ${safeUrl(config.url)} (${answer.address})${multipart ? `, ${msg.attachments.length} file(s) as multipart` : ', JSON'}`,
        remoteId: headerValue(answer.headers, 'x-request-id') ?? headerValue(answer.headers, 'request-id'),
        latencyMs: Math.round(performance.now() - started),
      };
    } finally {
      deadline.dispose();
    }
  },
};

/** The POST for one attempt: JSON body, or multipart files after the signed JSON (also in the manifest header while it fits). */
function signedRequest(msg: DeliveryMessage, config: WebhookConfig, attemptAt: Date, multipart: boolean): HttpPost {
  const signed = webhookPayload(msg, !multipart);
  const headers: Record<string, string> = {
    ...(config.headers ?? {}),
    'webhook-id': msg.deliveryId,
    'webhook-timestamp': String(Math.floor(attemptAt.getTime() / 1000)),
    'webhook-signature': new Webhook(config.secret).sign(msg.deliveryId, attemptAt, signed),
    'user-agent': 'refdata-webhooks/1',
  };
  if (!multipart) return { url: config.url, headers: { ...headers, 'content-type': 'application/json' }, body: signed };
  const manifest = Buffer.from(signed, 'utf8').toString('base64');
  // Receivers written for the header keep working while it fits; the body part is the one place with no size cap.
  if (manifest.length <= MANIFEST_HEADER_LIMIT) headers[MANIFEST_HEADER] = manifest;
  const mp = multipartBody(msg.attachments.map((a) => ({ field: 'file', ...a })), [{ field: MANIFEST_FIELD, contentType: 'application/json', text: signed }]);
  return {
    url: config.url,
    headers: { ...headers, 'content-type': mp.contentType, 'content-length': String(mp.contentLength) },
    body: mp.body,
  };
}

function throwUnlessDelivered(answer: HttpAnswer, what: string): void {
  if (answer.status >= 200 && answer.status < 300) return;
  // Svix's convention: the receiver tells us this message will never be accepted, whatever the status.
  if (headerValue(answer.headers, 'webhook-delivery')?.trim().toLowerCase() === 'abort-message') {
    throw new ChannelError('RECEIVER_ABORTED', `${what}: receiver answered HTTP ${answer.status} with webhook-delivery: abort-message`, {
      permanent: true,
      status: answer.status,
    });
  }
  const err = classifyHttpStatus(answer.status, answer.headers['retry-after'], what, answerSnippet(answer));
  if (err) throw err;
}

/** The URL for messages: origin and path only, since query strings often carry tokens. */
export function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
