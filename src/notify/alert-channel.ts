// The operators' alert channel: where notifications also go out (email or a Slack incoming webhook), read from
// REFDATA_ALERT_CHANNEL and validated once by the channels' own schemas; sent through the same senders as deliveries.
import { emailConfigSchema, emailSender, type EmailConfig } from '../channels/email';
import { slackConfigSchema, slackSender, type SlackConfig } from '../channels/slack';
import type { ChannelContext, DeliveryMessage } from '../channels/types';
import type { Notification, Severity } from './notifier';

export type AlertDestination = { channel: 'EMAIL'; config: EmailConfig } | { channel: 'SLACK_INTEGRATION'; config: SlackConfig };

export interface OutboundAlertSettings {
  destination: AlertDestination;
  /** Notifications below this severity are kept and shown, not sent. */
  minSeverity: Severity;
}

export const severities: readonly Severity[] = ['info', 'warning', 'critical'];

export interface AlertChannelEnv {
  channel?: string;
  smtpUrl?: string;
  from?: string;
  minSeverity: Severity;
}

/**
 * `slack:<incoming-webhook URL>` or `email:<address>[,<address>…]` (then REFDATA_ALERT_SMTP_URL, e.g.
 * `smtp://user:pass@mail.example.com:587`, `smtps://…:465`, `?security=none` for a relay without TLS, and
 * REFDATA_ALERT_EMAIL_FROM). Returns the settings, or the problems, each naming its variable (never a secret's value).
 */
export function parseAlertChannel(env: AlertChannelEnv): { settings: OutboundAlertSettings | null; problems: string[] } {
  if (!env.channel) return { settings: null, problems: [] };
  const m = /^(slack|email):(.+)$/i.exec(env.channel.trim());
  if (!m) return { settings: null, problems: ['REFDATA_ALERT_CHANNEL: must be slack:<incoming-webhook https URL> or email:<address>[,<address>…]'] };
  const kind = m[1]!.toLowerCase();
  if (kind === 'slack') {
    const url = m[2]!.trim();
    if (!/^https:\/\/[^\s/]+\/\S*$/.test(url) || !URL.canParse(url)) return { settings: null, problems: ['REFDATA_ALERT_CHANNEL: the Slack incoming-webhook URL must be an https:// URL'] };
    return { settings: { destination: { channel: 'SLACK_INTEGRATION', config: slackConfigSchema.parse({ webhookUrl: url }) }, minSeverity: env.minSeverity }, problems: [] };
  }
  const problems: string[] = [];
  const to = m[2]!.split(',').map((a) => a.trim()).filter(Boolean);
  const smtp = parseSmtpUrl(env.smtpUrl);
  if ('problem' in smtp) problems.push(smtp.problem);
  if (!env.from) problems.push('REFDATA_ALERT_EMAIL_FROM: required with REFDATA_ALERT_CHANNEL=email:…');
  if (problems.length > 0 || 'problem' in smtp) return { settings: null, problems };
  const parsed = emailConfigSchema.safeParse({ ...smtp, from: env.from, to, fromName: 'refdata alerts', subjectTemplate: '{title}' });
  if (!parsed.success) {
    // Paths only: a message must not carry the SMTP password.
    const fields = parsed.error.issues.map((i) => String(i.path[0] ?? ''));
    return {
      settings: null,
      problems: fields.map((f) => (f === 'to' ? 'REFDATA_ALERT_CHANNEL: each email: recipient must be an email address' : f === 'from' ? 'REFDATA_ALERT_EMAIL_FROM: must be an email address' : `REFDATA_ALERT_SMTP_URL: invalid ${f}`)),
    };
  }
  return { settings: { destination: { channel: 'EMAIL', config: parsed.data }, minSeverity: env.minSeverity }, problems: [] };
}

function parseSmtpUrl(raw: string | undefined): { host: string; port: number; security: EmailConfig['security']; auth?: { user: string; pass: string } } | { problem: string } {
  const bad = { problem: 'REFDATA_ALERT_SMTP_URL: required with REFDATA_ALERT_CHANNEL=email:…, as smtp://[user:pass@]host[:port] or smtps://… (add ?security=none for a relay without TLS)' };
  if (!raw || !URL.canParse(raw)) return bad;
  const u = new URL(raw);
  if ((u.protocol !== 'smtp:' && u.protocol !== 'smtps:') || !u.hostname) return bad;
  const tls = u.protocol === 'smtps:';
  const security = u.searchParams.get('security') ?? (tls ? 'tls' : 'starttls');
  if (security !== 'tls' && security !== 'starttls' && security !== 'none') return { problem: 'REFDATA_ALERT_SMTP_URL: security must be tls, starttls or none' };
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : tls ? 465 : 587,
    security,
    ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
  };
}

/** A notification as a message the email and Slack senders take: its id is the Message-ID, so a resend is one mail. */
export function alertMessage(n: Notification): DeliveryMessage {
  const refs = Object.fromEntries(Object.entries(n.refs).slice(0, 8));
  return {
    deliveryId: `alert-${n.id}`.slice(0, 200),
    createdAt: n.at,
    reportId: n.kind,
    reportType: `ALERT ${n.severity.toUpperCase()}`,
    title: n.title,
    summary: n.message,
    metadata: { kind: n.kind, severity: n.severity, raised_at: n.at, ...refs, ...(n.workflowId ? { workflow_id: n.workflowId } : {}) },
    attachments: [],
  };
}

export function meetsSeverity(n: Pick<Notification, 'severity'>, min: Severity): boolean {
  return severities.indexOf(n.severity) >= severities.indexOf(min);
}

/** Sends one notification through the configured channel; throws the channel's ChannelError when it fails. */
export async function sendAlert(settings: OutboundAlertSettings, n: Notification, ctx: ChannelContext): Promise<void> {
  const msg = alertMessage(n);
  if (settings.destination.channel === 'EMAIL') await emailSender.send(msg, settings.destination.config, ctx);
  else await slackSender.send(msg, settings.destination.config, ctx);
}
