// Side effects of channel health: probe a paused channel's destination (recording the outcome) and wake the deliveries
// waiting on it once it is healthy.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ChannelError, type ChannelType } from '../src/channels';
import type { ChannelContext } from '../src/channels/types';
import type { ProbeResult } from '../src/channels/probe';
import type { Database } from '../src/db/types';
import type { Logger } from '../src/log/logger';
import { announceChannelRecovered } from '../src/notify/events';
import type { Notifier } from '../src/notify/notifier';
import { probeDelayMs, type ChannelHealthSettings } from '../src/reporting/channel-health';
import { wakeWaitingDeliveries } from '../src/reporting/channels';
import { openChannelConfig, type SecretsKey } from '../src/reporting/sealed-config';

export interface ChannelHealthActivityDeps {
  db: Database;
  log: Logger;
  client: Client;
  probe: (type: ChannelType, config: unknown, ctx: ChannelContext, channelId: string) => Promise<ProbeResult>;
  settings: ChannelHealthSettings;
  secretsKey: SecretsKey | null;
  allowPrivateNetworks: boolean;
  trustedCa?: string[];
  notifier?: Notifier;
  /** One probe's connect-and-answer budget. */
  probeTimeoutMs?: number;
}

/** What a probe found: healthy again (`recovered`), already healthy or gone (nothing to probe), or still failing. */
export type ProbeOutcome =
  | { state: 'recovered'; detail: string }
  | { state: 'healthy' }
  | { state: 'gone' }
  | { state: 'failing'; error: string; nextProbeInMs: number };

export function createChannelHealthActivities(deps: ChannelHealthActivityDeps) {
  const store = deps.db.distribution;
  return {
    async probeChannel(input: { channelId: string }): Promise<ProbeOutcome> {
      const log = deps.log.child({ channelId: input.channelId });
      const c = await store.getChannel(input.channelId);
      // A deleted or switched-off channel: its waiting deliveries are woken to fail (or wait no more) on their own.
      if (!c || !c.enabled) return { state: 'gone' };
      if (!c.health.pausedAt) return { state: 'healthy' };
      const ctx: ChannelContext = {
        signal: Context.current().cancellationSignal,
        timeoutMs: deps.probeTimeoutMs ?? 10_000,
        allowPrivateNetworks: deps.allowPrivateNetworks,
        trustedCa: deps.trustedCa,
      };
      try {
        const config = openChannelConfig(c.config, deps.secretsKey, c.channelId);
        const probed = await deps.probe(c.channelType, config, ctx, c.channelId);
        const healed = await store.markChannelHealthy(c.channelId, 'probe');
        if (healed?.recovered) announceChannelRecovered(log, deps.notifier, healed.channel, 'probe');
        log.info({ detail: probed.detail, latencyMs: probed.latencyMs }, 'channel probe succeeded; the channel is healthy again');
        return { state: 'recovered', detail: probed.detail };
      } catch (err) {
        const e = err instanceof ChannelError ? err : new ChannelError('INVALID_CONFIG', (err as Error).message ?? String(err), { permanent: false });
        const nextProbeInMs = probeDelayMs(c.health.probeAttempts + 1, deps.settings);
        const error = `${e.code}: ${e.message}`;
        // null: resumed by an operator while this probe ran; the next look finds it healthy.
        await store.recordProbeFailure(c.channelId, error, nextProbeInMs);
        log.info({ error, nextProbeInMs }, 'channel probe failed; the channel stays paused');
        return { state: 'failing', error, nextProbeInMs };
      }
    },

    async releaseWaitingDeliveries(input: { channelId: string }): Promise<{ woken: number }> {
      return { woken: await wakeWaitingDeliveries(deps.db, deps.client, input.channelId) };
    },
  };
}

export type ChannelHealthActivities = ReturnType<typeof createChannelHealthActivities>;
