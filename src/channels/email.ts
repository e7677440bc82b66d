// EMAIL: one message over SMTP (nodemailer) with the report files attached, streamed from disk, or linked when too big.
import { isIP } from 'node:net';
import type Nodemailer from 'nodemailer';
import { z } from 'zod';
import { channelEncryptionSchema } from './encryption';
import { checkAttachments, formatBytes, totalBytes } from './attachments';
import { raceDeadline, startDeadline } from './deadline';
import { ChannelError, classifyErrorCode, errorMessage } from './errors';
import { caList } from './http';
import { resolveHost } from './network-policy';
import { secret } from './secrets';
import type { ChannelSender, DeliveryMessage, SendResult } from './types';

/** Loaded on first use: a worker that never sends email (a `sync`-only one) does not hold nodemailer. */
export const loadNodemailer = (): typeof Nodemailer => require('nodemailer') as typeof Nodemailer;

export const emailConfigSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** tls: TLS from the first byte (465); starttls: plain then STARTTLS, refused without it (587); none: no TLS at all. */
  security: z.enum(['tls', 'starttls', 'none']).default('starttls'),
  auth: z.object({ user: z.string().min(1), pass: secret(z.string().min(1)) }).optional(),
  from: z.email(),
  fromName: z.string().regex(/^[^\r\n]*$/).optional(),
  to: z.array(z.email()).min(1),
  cc: z.array(z.email()).default([]),
  /** Placeholders: {reportType} {reportId} {title} {deliveryId} and {metadata.<key>}. */
  subjectTemplate: z.string().min(1).default('[{reportType}] {title}'),
  /** Above this total, files that have a download URL are linked instead of attached. */
  maxAttachmentBytes: z.number().int().min(0).default(10 * 1024 * 1024),
  /** OpenPGP encryption of the files (src/reporting/encrypt-delivery.ts). */
  encryption: channelEncryptionSchema.optional(),
});

export type EmailConfig = z.infer<typeof emailConfigSchema>;

export function renderSubject(template: string, msg: DeliveryMessage): string {
  const subject = template.replace(/\{(metadata\.)?([A-Za-z0-9_]+)\}/g, (whole, meta: string | undefined, key: string) => {
    if (meta) return key in msg.metadata ? String(msg.metadata[key]) : '';
    const known: Record<string, string> = { reportType: msg.reportType, reportId: msg.reportId, title: msg.title, deliveryId: msg.deliveryId };
    return known[key] ?? whole;
  });
  // A header is one line; metadata must not be able to add headers.
  return subject.replace(/[\r\n]+/g, ' ').trim();
}

/**
 * Which files travel as attachments and which as links: the largest go as links until what is left fits the limit
 * (the channel's `maxAttachmentBytes`, lowered by the operator's cap). A file to link without a URL fails the send.
 */
export function planAttachments(msg: DeliveryMessage, config: EmailConfig, what: string, operatorMaxBytes?: number): { attach: typeof msg.attachments; link: typeof msg.attachments } {
  const limit = Math.min(config.maxAttachmentBytes, operatorMaxBytes ?? Infinity);
  if (totalBytes(msg.attachments) <= limit) return { attach: msg.attachments, link: [] };
  const bySize = [...msg.attachments].sort((a, b) => b.bytes - a.bytes);
  const linked = new Set<(typeof msg.attachments)[number]>();
  let attached = totalBytes(msg.attachments);
  for (const a of bySize) {
    if (attached <= limit) break;
    linked.add(a);
    attached -= a.bytes;
  }
  const unlinkable = [...linked].filter((a) => !a.url);
  if (unlinkable.length > 0) {
    throw new ChannelError(
      'TOO_LARGE',
      `${what}: files total ${formatBytes(totalBytes(msg.attachments))}, over the ${formatBytes(limit)} limit, ` +
        `and ${unlinkable.map((a) => a.fileName).join(', ')} has no download URL to send instead; set REFDATA_PUBLIC_URL so the API serves it, or raise the limit`,
      { permanent: true },
    );
  }
  return { attach: msg.attachments.filter((a) => !linked.has(a)), link: msg.attachments.filter((a) => linked.has(a)) };
}

function bodyText(msg: DeliveryMessage, attached: DeliveryMessage['attachments'], linked: DeliveryMessage['attachments']): string {
  const lines = [msg.title, ''];
  if (msg.summary) lines.push(msg.summary, '');
  lines.push(`Report: ${msg.reportId} (${msg.reportType})`);
  for (const [k, v] of Object.entries(msg.metadata)) lines.push(`${k}: ${String(v)}`);
  if (attached.length > 0) lines.push('', 'Attached:', ...attached.map((a) => `  ${a.fileName}  ${formatBytes(a.bytes)}  sha256 ${a.sha256}`));
  if (linked.length > 0) lines.push('', 'Too large to attach; download (the link expires):', ...linked.map((a) => `  ${a.fileName}  ${formatBytes(a.bytes)}  sha256 ${a.sha256}\n  ${a.url ?? ''}`));
  if (msg.link) lines.push('', `Open: ${msg.link}`);
  if (msg.content?.contentType === 'text/plain' || msg.content?.contentType === 'application/json') lines.push('', msg.content.text);
  lines.push('', `Delivery ${msg.deliveryId}`);
  return lines.join('\n');
}

export const emailSender: ChannelSender<EmailConfig> = {
  type: 'EMAIL',
  async send(msg, config, ctx): Promise<SendResult> {
    const started = performance.now();
    const what = `email ${msg.deliveryId}`;
    const { attach, link } = planAttachments(msg, config, what, ctx.attachmentMaxBytes);
    await checkAttachments(attach, what);
    // The same destination policy as webhooks: no loopback/private/link-local/metadata address unless an operator
    // allows private networks; nodemailer then connects to the address checked here (no second lookup to rebind).
    const server = await resolveHost(config.host, ctx, `${what}: SMTP server`);
    const transport = loadNodemailer().createTransport({
      host: server.address,
      port: config.port,
      // Certificates and SNI name the host as configured, not the address we connect to.
      servername: isIP(server.hostname) ? undefined : server.hostname,
      secure: config.security === 'tls',
      requireTLS: config.security === 'starttls',
      ignoreTLS: config.security === 'none',
      auth: config.auth ? { user: config.auth.user, pass: config.auth.pass } : undefined,
      connectionTimeout: ctx.timeoutMs,
      greetingTimeout: ctx.timeoutMs,
      socketTimeout: ctx.timeoutMs,
      tls: { ca: caList(ctx) },
      // Attachments come from our own paths only; never let message content make the sender fetch a URL.
      disableUrlAccess: true,
    });
    const deadline = startDeadline(ctx);
    try {
      const info = await raceDeadline(
        transport.sendMail({
          from: config.fromName ? { name: config.fromName, address: config.from } : config.from,
          to: config.to,
          cc: config.cc,
          subject: renderSubject(config.subjectTemplate, msg),
          // The same Message-ID on every retry lets mail systems drop the duplicate of an attempt that did arrive.
          messageId: `<${msg.deliveryId.replace(/[^A-Za-z0-9._-]/g, '-')}@${config.from.split('@')[1]}>`,
          headers: { 'X-Refdata-Delivery-Id': msg.deliveryId, 'X-Refdata-Report-Id': msg.reportId },
          text: bodyText(msg, attach, link),
          ...(msg.content?.contentType === 'text/html' ? { html: msg.content.text } : {}),
          attachments: attach.map((a) => ({ filename: a.fileName, path: a.path, contentType: a.contentType })),
        }),
        deadline,
        what,
        () => transport.close(),
      );
      const rejected = (info.rejected ?? []).map(String);
      return {
        status: 'delivered',
        detail:
          `accepted by ${config.host}:${config.port} for ${(info.accepted ?? []).length} recipient(s)` +
          (rejected.length > 0 ? `; refused: ${rejected.join(', ')}` : '') +
          (attach.length > 0 ? `, ${attach.length} file(s) attached` : '') +
          (link.length > 0 ? `, ${link.length} file(s) linked` : ''),
        remoteId: queueId(info.response) ?? info.messageId,
        latencyMs: Math.round(performance.now() - started),
      };
    } catch (err) {
      throw classifySmtpError(err, what, `${config.host}:${config.port}`);
    } finally {
      deadline.dispose();
      transport.close();
    }
  },
};

/** "250 2.0.0 Ok: queued as 4BQ…" → the queue id, which the mail server's logs know the message by. */
function queueId(response: string | undefined): string | undefined {
  return response ? /queued as\s+([^\s]+)/i.exec(response)?.[1] : undefined;
}

interface SmtpFailure extends Error {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
}

/** nodemailer's error codes and SMTP reply codes → our classification. Partly refused recipients are not an error. */
export function classifySmtpError(err: unknown, what: string, server: string): ChannelError {
  if (err instanceof ChannelError) return err;
  const e = err as SmtpFailure;
  const reply = e.responseCode;
  const message = `${what}: ${server} ${errorMessage(err)}`;
  const opts = { status: reply, cause: err };
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || reply === 535 || reply === 534 || reply === 530) {
    return new ChannelError('AUTH_FAILED', `${message}; check the SMTP user and password`, { ...opts, permanent: true });
  }
  if (e.code === 'EENVELOPE' && reply !== undefined && reply >= 500) {
    return new ChannelError('INVALID_ADDRESS', `${message}; fix the recipient addresses`, { ...opts, permanent: true });
  }
  if (reply !== undefined && reply >= 400 && reply < 500) return new ChannelError('REMOTE_TEMPORARY', message, { ...opts, permanent: false });
  if (reply !== undefined && reply >= 500) return new ChannelError('REMOTE_REJECTED', message, { ...opts, permanent: true });
  if (e.code === 'ETIMEDOUT') return new ChannelError('TIMEOUT', message, { ...opts, permanent: false });
  // nodemailer replaces a socket error's code (DEPTH_ZERO_SELF_SIGNED_CERT, ECONNREFUSED…) with its own, keeping the original.
  const bySocket = e.originalCode ? classifyErrorCode(e.originalCode, err, `${what}: ${server}`) : undefined;
  if (bySocket) return bySocket;
  if (e.code === 'EFILEACCESS' || e.code === 'ESTREAM') return new ChannelError('FILE_MISSING', message, { ...opts, permanent: true });
  if (e.code === 'EMESSAGE' || e.code === 'EENVELOPE') return new ChannelError('INVALID_MESSAGE', message, { ...opts, permanent: true });
  // ECONNECTION, ESOCKET (ECONNREFUSED, ECONNRESET…), EDNS, EPROTOCOL and anything unknown: the server may come back.
  return new ChannelError('CONNECTION', message, { ...opts, permanent: false });
}
