// SLACK_INTEGRATION: a message (text + Block Kit blocks) posted to a Slack incoming-webhook URL.
import { z } from 'zod';
import { formatBytes } from './attachments';
import { startDeadline } from './deadline';
import { ChannelError, type ChannelErrorCode, classifyHttpStatus } from './errors';
import { answerSnippet, postOnce } from './http';
import { secret } from './secrets';
import type { ChannelSender, DeliveryMessage, SendResult } from './types';

export const slackConfigSchema = z.object({
  /** https://hooks.slack.com/services/T…/B…/…: whoever holds it can post, so it is a secret. */
  webhookUrl: secret(z.string().min(1)),
});

export type SlackConfig = z.infer<typeof slackConfigSchema>;

// Slack answers incoming webhooks with a plain-text error name; these decide more than the status alone would.
// https://api.slack.com/messaging/webhooks#handling_errors
const slackErrors: Record<string, { code: ChannelErrorCode; permanent: boolean; disable?: boolean; hint: string }> = {
  no_service: { code: 'GONE', permanent: true, disable: true, hint: 'the webhook was removed or disabled in Slack; create a new one' },
  no_team: { code: 'GONE', permanent: true, disable: true, hint: 'the Slack workspace no longer exists' },
  channel_is_archived: { code: 'GONE', permanent: true, disable: true, hint: 'the Slack channel is archived' },
  invalid_token: { code: 'AUTH_FAILED', permanent: true, hint: 'the webhook token was revoked; create a new webhook' },
  action_prohibited: { code: 'REMOTE_REJECTED', permanent: true, hint: 'a Slack admin restricts posting to this channel' },
  posting_to_general_channel_denied: { code: 'REMOTE_REJECTED', permanent: true, hint: 'only admins may post to #general' },
  channel_not_found: { code: 'HTTP_4XX', permanent: true, hint: 'the channel was deleted or the app removed from it' },
  invalid_payload: { code: 'HTTP_4XX', permanent: true, hint: 'our message was malformed; report this as a bug' },
  invalid_blocks: { code: 'HTTP_4XX', permanent: true, hint: 'our blocks were rejected; report this as a bug' },
  no_text: { code: 'HTTP_4XX', permanent: true, hint: 'our message had no text; report this as a bug' },
  too_many_attachments: { code: 'HTTP_4XX', permanent: true, hint: 'our message was too big; report this as a bug' },
};

export const slackSender: ChannelSender<SlackConfig> = {
  type: 'SLACK_INTEGRATION',
  async send(msg, config, ctx): Promise<SendResult> {
    const started = performance.now();
    const what = `slack ${msg.deliveryId}`;
    const deadline = startDeadline(ctx);
    try {
      const answer = await postOnce(
        { url: config.webhookUrl, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(slackMessage(msg)) },
        ctx,
        deadline,
        what,
      );
      if (answer.status < 200 || answer.status >= 300) {
        const said = answer.text.trim();
        const known = slackErrors[said];
        if (known && answer.status !== 429 && answer.status < 500) {
          throw new ChannelError(known.code, `${what}: Slack answered HTTP ${answer.status} ${said}: ${known.hint}`, {
            permanent: known.permanent,
            disable: known.disable,
            status: answer.status,
          });
        }
        const err = classifyHttpStatus(answer.status, answer.headers['retry-after'], what, answerSnippet(answer));
        if (err) throw err;
      }
      // Only the host: the path of an incoming-webhook URL is the credential.
      return {
        status: 'delivered',
        detail: `Slack answered HTTP ${answer.status} ${answerSnippet(answer)} (${new URL(config.webhookUrl).host})`,
        latencyMs: Math.round(performance.now() - started),
      };
    } finally {
      deadline.dispose();
    }
  },
};

type Block = Record<string, unknown>;

/** The message: `text` is what notifications and old clients show; blocks are what people read in the channel. */
export function slackMessage(msg: DeliveryMessage): { text: string; blocks: Block[] } {
  const text = truncate(`${msg.reportType} ${msg.reportId}: ${msg.title}`, 3000);
  const fields = [
    field('Report type', msg.reportType),
    field('Report id', `\`${msg.reportId}\``),
    ...Object.entries(msg.metadata)
      .slice(0, 8) // Slack allows 10 fields per section
      .map(([k, v]) => field(k, String(v))),
  ];
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(msg.title, 150), emoji: false } },
    { type: 'section', fields },
  ];
  if (msg.summary) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(escapeMrkdwn(msg.summary), 3000) } });
  if (msg.attachments.length > 0) {
    const lines = msg.attachments.slice(0, 20).map((a) => {
      const name = a.url ? `<${a.url}|${escapeMrkdwn(a.fileName)}>` : `\`${escapeMrkdwn(a.fileName)}\``;
      return `• ${name} (${formatBytes(a.bytes)}, sha256 \`${a.sha256.slice(0, 12)}…\`)`;
    });
    if (msg.attachments.length > 20) lines.push(`… and ${msg.attachments.length - 20} more`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*Files*\n${lines.join('\n')}`, 3000) } });
  }
  if (msg.link) {
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open report' }, url: msg.link, action_id: 'open_report' }],
    });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `delivery \`${escapeMrkdwn(msg.deliveryId)}\`` }] });
  return { text, blocks };
}

function field(label: string, value: string): Block {
  return { type: 'mrkdwn', text: truncate(`*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value)}`, 2000) };
}

/** Slack's three control characters; everything else is shown as written. */
function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
