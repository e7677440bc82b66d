// Channels as operators and subscribers manage them: list with health, resume a paused channel, edit a config; and the
// Temporal side of channel health (start the probe run, wake the deliveries waiting on a channel). REST, CLI and the
// channel-health activities share it.
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { ChannelError, isChannelType, parseChannelConfig, REDACTED, type ChannelType } from '../channels';
import type { Database } from '../db/types';
import { channelProbeWorkflowId, taskQueues } from '../ids';
import { audit, type AuditLogger } from '../log/audit';
import { announceChannelRecovered } from '../notify/events';
import type { Notifier } from '../notify/notifier';
import { probeNowSignal, type ChannelProbeInput } from '../../workflows/channel-probe';
import { channelRecoveredSignal } from '../../workflows/delivery';
import { mayAccess } from './api-keys';
import { checkDestination } from './destination';
import { badRequest, forbidden, notFound, ReportingError } from './errors';
import { NoSecretsKeyError, openChannelConfig, sealChannelConfig, type SecretsKey } from './sealed-config';
import type { Caller, ChannelRecord } from './types';
import { channelView, type ChannelView } from './views';

/** Starts the probe run of a paused channel unless one is running (its id is the lock). */
export async function ensureChannelProbe(client: Client, channelId: string, firstProbeInMs: number): Promise<void> {
  const input: ChannelProbeInput = { channelId, firstProbeInMs };
  await client.workflow.start('channelProbe', {
    workflowId: channelProbeWorkflowId(channelId),
    taskQueue: taskQueues.delivery,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: `probes paused channel ${channelId} with backoff until it answers`,
  });
}

/** Signals every delivery run waiting on the channel to try again now; a run that has ended meanwhile is skipped. */
export async function wakeWaitingDeliveries(db: Pick<Database, 'distribution'>, client: Client, channelId: string): Promise<number> {
  let woken = 0;
  for (const d of await db.distribution.listDeliveries({ channelId, status: 'waiting', limit: 10_000 })) {
    try {
      await client.workflow.getHandle(d.workflowId).signal(channelRecoveredSignal);
      woken++;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return woken;
}

export interface ChannelServiceDeps {
  db: Database;
  client: Client;
  secretsKey: SecretsKey | null;
  allowPrivateDestinations: boolean;
  log: AuditLogger;
  /** Operator notifications of this process (dashboard). */
  notifier?: Notifier;
}

export type ChannelDetailView = ChannelView & { subscription_id: string | null; subscriber_id: string | null };

export function channelDetailView(c: ChannelRecord): ChannelDetailView {
  return { ...channelView(c), subscription_id: c.subscriptionId, subscriber_id: c.subscriberId };
}

async function ownChannel(deps: Pick<ChannelServiceDeps, 'db'>, caller: Caller, channelId: string): Promise<ChannelRecord> {
  const c = await deps.db.distribution.getChannel(channelId);
  // Someone else's channel looks like no channel at all to a subscriber key.
  if (!c || !mayAccess(caller, c.subscriberId ?? '')) throw notFound(`channel ${channelId}`);
  return c;
}

/**
 * An operator resumes a channel by hand: healthy and unpaused at once (failure count reset), its probe run told to
 * stop, and its waiting deliveries woken to send again now.
 */
export async function resumeChannel(deps: ChannelServiceDeps, caller: Caller, channelId: string): Promise<ChannelDetailView & { woken: number }> {
  const before = await ownChannel(deps, caller, channelId);
  const changed = await deps.db.distribution.markChannelHealthy(channelId, 'operator');
  if (!changed) throw notFound(`channel ${channelId}`);
  // A notification only when it was paused; the operator's action is in the audit trail either way.
  if (changed.recovered) announceChannelRecovered(deps.log, deps.notifier, changed.channel, 'operator', caller.keyId);
  else audit(deps.log, 'channel.resumed', { channelId, channel: changed.channel.channelType, subscriptionId: changed.channel.subscriptionId ?? undefined, via: 'operator', by: caller.keyId });
  if (before.health.pausedAt) await deps.client.workflow.getHandle(channelProbeWorkflowId(channelId)).signal(probeNowSignal).catch(() => undefined);
  const woken = await wakeWaitingDeliveries(deps.db, deps.client, channelId);
  return { ...channelDetailView(changed.channel), woken };
}

export interface ChannelPatch {
  /** Fields to change, merged over the stored config; `null` removes an optional field; "***" keeps a secret as stored. */
  config?: Record<string, unknown>;
  /** true re-enables a channel a GONE answer (or a person) switched off; false switches it off. */
  enabled?: boolean;
}

/** Merge-patch of one level: a nested object replaces the stored one, except that "***" leaves keep their stored value. */
function mergeConfig(stored: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const keep = (next: unknown, prev: unknown): unknown => {
    if (next === REDACTED) return prev;
    if (next && typeof next === 'object' && !Array.isArray(next) && prev && typeof prev === 'object' && !Array.isArray(prev)) {
      return Object.fromEntries(Object.entries(next).map(([k, v]) => [k, keep(v, (prev as Record<string, unknown>)[k])]));
    }
    return next;
  };
  const out: Record<string, unknown> = { ...stored };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = keep(v, stored[k]);
  }
  return out;
}

/**
 * Changes a channel's config (validated like a new one, destination checked, secrets sealed, never echoed) and/or
 * switches it on or off. Admin keys and the subscriber that owns the channel may; anyone else gets 404 or 403.
 */
export async function patchChannel(deps: ChannelServiceDeps, caller: Caller, channelId: string, patch: ChannelPatch): Promise<ChannelDetailView> {
  if (caller.role === 'operator') throw forbidden('an operator key may resume channels but not edit them; use an admin key or the subscriber\'s own');
  const c = await ownChannel(deps, caller, channelId);
  if (patch.config === undefined && patch.enabled === undefined) throw badRequest('EMPTY_PATCH', 'give config and/or enabled');
  const type: ChannelType = c.channelType;
  if (!isChannelType(type)) throw badRequest('INVALID_CHANNEL', `channel ${channelId} has an unknown type ${String(type)}`);
  let sealed: unknown;
  if (patch.config !== undefined) {
    let current: Record<string, unknown>;
    try {
      current = openChannelConfig(c.config, deps.secretsKey, channelId) as Record<string, unknown>;
    } catch (err) {
      throw new ReportingError('NO_SECRETS_KEY', `cannot open channel ${channelId}'s stored secrets to merge the change: ${(err as Error).message}`, 503);
    }
    let config: unknown;
    try {
      config = parseChannelConfig(type, mergeConfig(current, patch.config));
    } catch (err) {
      if (err instanceof ChannelError) throw badRequest('INVALID_CHANNEL_CONFIG', err.message);
      throw err;
    }
    await checkDestination(type, config, deps.allowPrivateDestinations);
    try {
      sealed = sealChannelConfig(type, config, deps.secretsKey, channelId);
    } catch (err) {
      if (err instanceof NoSecretsKeyError) throw new ReportingError('NO_SECRETS_KEY', err.message, 503);
      throw err;
    }
  }
  const updated = await deps.db.distribution.updateChannel(channelId, {
    ...(sealed === undefined ? {} : { config: sealed }),
    ...(patch.enabled === undefined ? {} : { enabled: patch.enabled, disabledReason: `switched off by ${caller.keyId}` }),
  });
  if (!updated) throw notFound(`channel ${channelId}`);
  const fields = patch.config ? Object.keys(patch.config).sort() : [];
  // Field names only: values may be secrets.
  audit(deps.log, 'channel.updated', { channelId, channel: type, subscriptionId: c.subscriptionId ?? undefined, by: caller.keyId, fields, enabled: patch.enabled });
  // A new config deserves a probe now rather than at the next backoff step.
  if (sealed !== undefined && updated.health.pausedAt) await deps.client.workflow.getHandle(channelProbeWorkflowId(channelId)).signal(probeNowSignal).catch(() => undefined);
  return channelDetailView(updated);
}
