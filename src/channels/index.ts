// The channels' front door: config schemas by type, parsing and redaction, and the registry the delivery activity sends through.
import type { z } from 'zod';
import { createDashboardSender, dashboardConfigSchema, type NotificationSink } from './dashboard';
import { emailConfigSchema, emailSender } from './email';
import { ChannelError } from './errors';
import { pushConfigSchema, pushSender } from './push';
import { redactWithSchema } from './secrets';
import { sftpConfigSchema, sftpSender } from './sftp';
import { slackConfigSchema, slackSender } from './slack';
import { channelTypes, type ChannelContext, type ChannelSender, type ChannelType, type DeliveryMessage, type SendResult } from './types';
import { webhookConfigSchema, webhookSender } from './webhook';

export * from './types';
export { ChannelError, channelErrorCodes, isChannelError, type ChannelErrorCode } from './errors';
export { REDACTED, hasSecretFields, secretFields } from './secrets';
export { isPrivateAddress } from './network-policy';
export type { DashboardNotification, NotificationSink } from './dashboard';
export { generateWebhookSecret, MANIFEST_FIELD, MANIFEST_HEADER } from './webhook';
export { encryptForRecipient, type EncryptedFile } from './encryption';

/** One zod schema per channel; fields registered in `secretFields` are secrets. */
export const channelConfigSchemas = {
  API_WEBHOOK: webhookConfigSchema,
  SFTP: sftpConfigSchema,
  EMAIL: emailConfigSchema,
  SLACK_INTEGRATION: slackConfigSchema,
  DASHBOARD_NOTIFICATION: dashboardConfigSchema,
  MOBILE_PUSH: pushConfigSchema,
} as const satisfies Record<ChannelType, z.ZodType>;

export type ChannelConfigs = { [T in ChannelType]: z.output<(typeof channelConfigSchemas)[T]> };
export type ChannelConfig<T extends ChannelType> = ChannelConfigs[T];

export function isChannelType(value: unknown): value is ChannelType {
  return typeof value === 'string' && (channelTypes as readonly string[]).includes(value);
}

/**
 * Validates a stored or submitted config once, at the trust boundary. Throws ChannelError `INVALID_CONFIG` (permanent)
 * whose message lists every problem by path, e.g. `auth.password: Too small`; the API returns it as a 400.
 */
export function parseChannelConfig<T extends ChannelType>(type: T, raw: unknown): ChannelConfig<T> {
  const schema: z.ZodType = channelConfigSchemas[type];
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    // Messages name paths, never values: the value of a secret field must not reach a log or an API answer.
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new ChannelError('INVALID_CONFIG', `${type} config is invalid: ${problems}`, { permanent: true });
  }
  return parsed.data as ChannelConfig<T>;
}

/** The config with every secret replaced by "***", for API answers and logs. Keys stay, so callers see what is set. */
export function redactChannelConfig<T extends ChannelType>(type: T, config: ChannelConfig<T>): ChannelConfig<T> {
  // Secrets are strings (or records of strings), and "***" is a string, so the shape keeps its type.
  return redactWithSchema(channelConfigSchemas[type], config) as ChannelConfig<T>;
}

export interface ChannelDeps {
  /** Where DASHBOARD_NOTIFICATION deliveries go (database + WebSocket stream). */
  notificationSink: NotificationSink;
}

export interface ChannelRegistry {
  senderFor<T extends ChannelType>(type: T): ChannelSender<ChannelConfig<T>>;
  /** parseChannelConfig, then senderFor(type).send: what the delivery activity calls with a config read from the store. */
  send(type: ChannelType, msg: DeliveryMessage, rawConfig: unknown, ctx: ChannelContext): Promise<SendResult>;
}

export function createChannelRegistry(deps: ChannelDeps): ChannelRegistry {
  const senders: { [T in ChannelType]: ChannelSender<ChannelConfig<T>> } = {
    API_WEBHOOK: webhookSender,
    SFTP: sftpSender,
    EMAIL: emailSender,
    SLACK_INTEGRATION: slackSender,
    DASHBOARD_NOTIFICATION: createDashboardSender(deps.notificationSink),
    MOBILE_PUSH: pushSender,
  };
  function senderFor<T extends ChannelType>(type: T): ChannelSender<ChannelConfig<T>> {
    const sender = senders[type];
    if (!sender) throw new ChannelError('INVALID_CONFIG', `unknown channel type ${String(type)}`, { permanent: true });
    return sender;
  }
  return {
    senderFor,
    async send(type, msg, rawConfig, ctx) {
      if (!isChannelType(type)) throw new ChannelError('INVALID_CONFIG', `unknown channel type ${String(type)}`, { permanent: true });
      return sendTyped(type, msg, rawConfig, ctx);
    },
  };
  async function sendTyped<T extends ChannelType>(type: T, msg: DeliveryMessage, rawConfig: unknown, ctx: ChannelContext): Promise<SendResult> {
    return senderFor(type).send(msg, parseChannelConfig(type, rawConfig), ctx);
  }
}
