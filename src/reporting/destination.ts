// Checks a new channel's destination when it is subscribed (http/https only, no private addresses unless allowed), as the channel does again at send time.
import { ChannelError, type ChannelConfig, type ChannelType } from '../channels';
import { resolveHost, resolveUrl } from '../channels/network-policy';
import type { ChannelContext } from '../channels/types';
import { badRequest } from './errors';

/** The URL or host a channel connects to (EMAIL: its SMTP server); DASHBOARD stays inside refdata. */
function destinationOf(type: ChannelType, config: unknown): { url: string } | { host: string } | null {
  switch (type) {
    case 'API_WEBHOOK':
      return { url: (config as ChannelConfig<'API_WEBHOOK'>).url };
    case 'SLACK_INTEGRATION':
      return { url: (config as ChannelConfig<'SLACK_INTEGRATION'>).webhookUrl };
    case 'MOBILE_PUSH':
      return { url: (config as ChannelConfig<'MOBILE_PUSH'>).subscription.endpoint };
    case 'SFTP':
      return { host: (config as ChannelConfig<'SFTP'>).host };
    case 'EMAIL':
      return { host: (config as ChannelConfig<'EMAIL'>).host };
    case 'DASHBOARD_NOTIFICATION':
      return null;
  }
}

/**
 * Refuses a destination the policy refuses (scheme, credentials in the URL, private address). A name that does not
 * resolve right now is accepted: DNS may catch up, and the send-time check still applies.
 */
export async function checkDestination(type: ChannelType, config: unknown, allowPrivateNetworks: boolean): Promise<void> {
  const target = destinationOf(type, config);
  if (!target) return;
  const ctx: ChannelContext = { signal: AbortSignal.timeout(5_000), timeoutMs: 5_000, allowPrivateNetworks };
  const what = `${type} destination`;
  try {
    if ('url' in target) await resolveUrl(target.url, ctx, what);
    else await resolveHost(target.host, ctx, what);
  } catch (err) {
    if (err instanceof ChannelError && err.code === 'DESTINATION_REFUSED') throw badRequest('DESTINATION_REFUSED', err.message);
    if (!(err instanceof ChannelError)) throw err;
  }
}
