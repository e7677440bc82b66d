// Side effects of a delivery: one attempt through its channel (recorded before and after), the final failure, the event.
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ChannelError, type ChannelRegistry } from '../src/channels';
import type { Database } from '../src/db/types';
import type { EventPublisher } from '../src/events/types';
import type { FailureType } from '../src/errors';
import type { Logger } from '../src/log/logger';
import { deliveredTopic, reportDistributedEvent } from '../src/reporting/event';
import { statusChangeOf, type DeliveryNotifier } from '../src/reporting/notifier';
import { nextRetryDelayMs } from '../src/reporting/retry-policy';
import { openChannelConfig, type SecretsKey } from '../src/reporting/sealed-config';
import { protectMessage } from '../src/reporting/encrypt-delivery';
import { withDownloadLinks, type DownloadLinkSettings } from '../src/reporting/download-links';
import { convertMessage } from '../src/reporting/report-format';
import type { ChannelRecord, DeliveryRecord } from '../src/reporting/types';
import { announceChannelDisabled, announceChannelRecovered, announceChannelUnhealthy, announceDeliveryChange } from '../src/notify/events';
import type { Notifier } from '../src/notify/notifier';
import { countsAgainstChannel, defaultChannelHealthSettings, waitingReason, type ChannelHealthSettings } from '../src/reporting/channel-health';

export interface DeliveryActivityDeps {
  db: Database;
  log: Logger;
  channels: Pick<ChannelRegistry, 'send'>;
  /** Opens sealed channel secrets; null when this process has none (a config with secrets then cannot be sent). */
  secretsKey: SecretsKey | null;
  /** Operator setting: destinations on loopback/private networks allowed (tests, closed networks). */
  allowPrivateNetworks: boolean;
  events: EventPublisher;
  /** The in-process feed the API's WebSocket stream listens to, when API and worker share a process. */
  notifier?: DeliveryNotifier;
  /** Topic of `report_distributed` for a report type (default `reporting.<type>.delivered`). */
  topicFor?: (reportType: string) => string;
  trustedCa?: string[];
  clock?: () => Date;
  /** When a failing channel is paused (default: 5 in a row, probes from 30 s up to 15 min). */
  channelHealth?: ChannelHealthSettings;
  /** Operator notifications (dashboard): a channel paused, recovered or switched off. */
  alerts?: Notifier;
  /** Starts the probe run of a paused channel unless one runs (src/reporting/channels.ts); absent in tests of other flows. */
  ensureProbe?: (channelId: string, firstProbeInMs: number) => Promise<void>;
  /** Signed links for email files over the attachment limit (REFDATA_PUBLIC_URL set); null or absent: none. */
  downloadLinks?: DownloadLinkSettings | null;
  /** REFDATA_EMAIL_ATTACH_MAX_BYTES: the operator's cap on what one email attaches. */
  emailAttachMaxBytes?: number;
  /** Where encrypted copies of files are written for deliveries that require encryption (default: the system's temp dir). */
  encryptedDir?: string;
  /** Where copies converted to a subscription's format (JSON, XLSX) are written (default: the system's temp dir). */
  convertedDir?: string;
}

export interface AttemptInput {
  deliveryId: string;
  /** The `report_distributed` event id, from the workflow: the same on every attempt, so consumers deduplicate. */
  eventId: string;
  attemptTimeoutMs: number;
  /** Clamp for a peer's Retry-After. */
  maximumIntervalMs: number;
  /** Attempts this run made before this activity (its local first attempt): attempt numbers go on from there. */
  attemptsBefore?: number;
  /**
   * The workflow waits for a paused channel (AttemptResult.held) instead of retrying. Runs of code from before channel
   * health do not set it: for them a paused channel is a retryable failure, as a paused subscription is.
   */
  holdWhenPaused?: boolean;
}

export interface AttemptResult {
  attempt: number;
  detail: string;
  remoteId: string | null;
  /** This run had delivered already (a retry after a lost answer); nothing was sent again. */
  alreadyDelivered: boolean;
  /** false: the event still has to be published (the workflow then runs publishDeliveredEvent). */
  eventPublished: boolean;
  /**
   * Nothing was delivered: the channel is unhealthy and paused, so the delivery (status `waiting`) waits for it — for the
   * channelRecovered signal, or `recheckAfterMs` — without spending an attempt. `attempt` is then the attempts made.
   */
  held?: { channelId: string; reason: string; recheckAfterMs: number };
}

export interface FinishFailedInput {
  deliveryId: string;
  status: 'failed' | 'cancelled';
  code: string;
  message: string;
}

/** Beyond this, a stuck attempt should be noticed by heartbeat rather than by its (long) start-to-close timeout. */
const HEARTBEAT_EVERY_MS = 10_000;

const failure = (message: string, type: FailureType, details: unknown) => ApplicationFailure.nonRetryable(message, type, details);

export function createDeliveryActivities(deps: DeliveryActivityDeps) {
  const store = deps.db.distribution;
  const now = deps.clock ?? (() => new Date());
  const announce = (d: DeliveryRecord | null) => {
    if (!d) return;
    deps.notifier?.publish(statusChangeOf(d));
    // The audit event and the deliveries metric (once per status, however often it is written).
    announceDeliveryChange(deps.log, d);
  };

  const health = deps.channelHealth ?? defaultChannelHealthSettings;

  /** The channel is paused: the delivery waits (status `waiting`), or, for a run that cannot wait, the attempt is retried. */
  async function hold(d: DeliveryRecord, channel: ChannelRecord, input: AttemptInput, attemptsMade: number, lastError?: ChannelError): Promise<AttemptResult> {
    const reason = waitingReason(channel);
    if (!input.holdWhenPaused) {
      const paused = new ChannelError('REMOTE_TEMPORARY', reason, { permanent: false });
      announce(await store.recordFailure(d.deliveryId, 'retrying', JSON.stringify(paused.toJSON())));
      throw retryLater(paused, input);
    }
    const details = { code: 'CHANNEL_UNHEALTHY', message: reason, channelId: channel.channelId, ...(lastError ? { lastError: lastError.toJSON() } : {}) };
    announce(await store.recordFailure(d.deliveryId, 'waiting', JSON.stringify(details)));
    // The pause may predate this worker (or the start may have failed): every hold makes sure someone probes.
    await deps.ensureProbe?.(channel.channelId, health.probeInitialMs).catch((err: unknown) => deps.log.warn({ err, channelId: channel.channelId }, 'could not start the channel probe; waiting deliveries re-check on their own'));
    return { attempt: attemptsMade, detail: reason, remoteId: null, alreadyDelivered: false, eventPublished: false, held: { channelId: channel.channelId, reason, recheckAfterMs: health.probeMaxMs } };
  }

  function retryLater(err: ChannelError, input: AttemptInput): ApplicationFailure {
    return ApplicationFailure.create({
      message: err.message,
      type: `Channel${err.code}`,
      nonRetryable: err.permanent,
      details: [err.toJSON()],
      nextRetryDelay: err.permanent ? undefined : nextRetryDelayMs(err.retryAfterMs, input),
    });
  }

  /** A failure the destination is to blame for counts against its channel; the one that reaches the threshold pauses it. */
  async function countChannelFailure(d: DeliveryRecord, err: ChannelError): Promise<ChannelRecord | null> {
    if (!countsAgainstChannel(d.channel, err.code)) return null;
    const counted = await store.recordChannelFailure(d.channelId, { error: `${err.code}: ${err.message}`, unhealthyAfter: health.unhealthyAfter, firstProbeInMs: health.probeInitialMs, quietMs: health.quietMs ?? 0 });
    if (!counted) return null;
    if (counted.becameUnhealthy) {
      announceChannelUnhealthy(deps.log, deps.alerts, counted.channel);
      deps.log.warn({ channelId: d.channelId, channel: d.channel, failures: counted.channel.health.consecutiveFailures }, 'channel unhealthy: paused, its deliveries wait while it is probed');
    }
    return counted.channel;
  }

  /**
   * Records a failed attempt and says how Temporal should go on: retry (honouring Retry-After), stop, or — when this
   * failure paused the channel — wait for it (`held`). `fromChannel`: the channel itself failed (not our bookkeeping).
   */
  async function failAttempt(d: DeliveryRecord, err: ChannelError, input: AttemptInput, attempt = 0, fromChannel = false): Promise<AttemptResult> {
    const details = JSON.stringify(err.toJSON());
    const channel = fromChannel ? await countChannelFailure(d, err) : null;
    if (err.permanent) {
      announce(await store.recordFailure(d.deliveryId, 'failed', details));
      if (err.disable && (await store.disableChannel(d.channelId, `${err.code}: ${err.message}`))) {
        deps.log.warn({ deliveryId: d.deliveryId, channelId: d.channelId, code: err.code }, 'channel disabled: the destination is gone');
        const off = await store.getChannel(d.channelId);
        if (off) announceChannelDisabled(deps.log, deps.alerts, off);
      }
    } else if (channel?.health.pausedAt && input.holdWhenPaused) {
      return hold(d, channel, input, attempt, err);
    } else {
      announce(await store.recordFailure(d.deliveryId, 'retrying', details));
    }
    throw retryLater(err, input);
  }

  /** A delivered attempt resets the channel's failures; written only when needed (or once a second, for last_success_at). */
  async function countChannelSuccess(c: ChannelRecord, attemptStartedAt: Date): Promise<void> {
    const h = c.health;
    const stale = !h.lastSuccessAt || attemptStartedAt.getTime() - h.lastSuccessAt.getTime() >= 1000;
    if (h.consecutiveFailures === 0 && h.status === 'healthy' && !h.pausedAt && !stale) return;
    try {
      const changed = await store.recordChannelSuccess(c.channelId);
      if (changed?.recovered) announceChannelRecovered(deps.log, deps.alerts, changed.channel, 'delivery');
    } catch (err) {
      // Health bookkeeping must not fail a delivered attempt.
      deps.log.warn({ err, channelId: c.channelId }, 'could not record the channel\'s success');
    }
  }

  async function publish(d: DeliveryRecord, eventId: string): Promise<string> {
    const topic = (deps.topicFor ?? deliveredTopic)(d.reportType);
    const payload = reportDistributedEvent(d, eventId, topic, d.deliveryTime ?? now());
    await deps.events.publish({ topic, key: d.payload.report.routingKey, eventId, payload });
    return topic;
  }

  return {
    async attemptDelivery(input: AttemptInput): Promise<AttemptResult> {
      const ctx = Context.current();
      const { workflowExecution } = ctx.info;
      const attempt = (input.attemptsBefore ?? 0) + ctx.info.attempt;
      const log = deps.log.child({ deliveryId: input.deliveryId, attempt });
      // Always set for an activity of a workflow (the only kind refdata runs).
      const begun = await store.beginAttempt(input.deliveryId, attempt, workflowExecution?.runId ?? 'unknown');
      if (!begun) throw failure(`delivery ${input.deliveryId} does not exist in dist.delivery_history`, 'InvalidSubscription', null);
      const d = begun.delivery;
      if (d.status === 'delivered') return { attempt, detail: 'already delivered by this run', remoteId: null, alreadyDelivered: true, eventPublished: false };
      announce(d);

      if (begun.subscriptionStatus === 'cancelled' || begun.subscriptionStatus === null) {
        throw failure(`subscription ${d.subscriptionId} is cancelled; delivery ${d.deliveryId} stops`, 'SubscriptionCancelled', null);
      }
      if (begun.subscriptionStatus === 'paused') {
        // Retried by policy: resuming the subscription within the deadline lets the delivery go out.
        const paused = new ChannelError('REMOTE_TEMPORARY', `subscription ${d.subscriptionId} is paused; the delivery waits for it to resume`, { permanent: false });
        return failAttempt(d, paused, input);
      }
      if (!begun.channel || !begun.channel.enabled) {
        const why = begun.channel?.disabledReason ?? 'the channel no longer exists';
        throw failure(`channel ${d.channelId} is disabled (${why}); resume the subscription after fixing the destination, then replay`, 'ChannelDisabled', null);
      }
      // beginAttempt left the row alone: no attempt is made on a paused channel.
      if (begun.channel.health.pausedAt) return hold(d, begun.channel, input, attempt - 1);

      let config: unknown;
      try {
        config = openChannelConfig(begun.channel.config, deps.secretsKey, d.channelId);
      } catch (err) {
        // An operator can fix the key and restart the worker within the deadline, so this is retried.
        return failAttempt(d, new ChannelError('INVALID_CONFIG', (err as Error).message, { permanent: false }), input);
      }

      const beat = input.attemptTimeoutMs > 3 * HEARTBEAT_EVERY_MS ? setInterval(() => ctx.heartbeat({ attempt }), HEARTBEAT_EVERY_MS) : null;
      try {
        // Large email files become signed links first (the route serves only the files the delivery recorded, so a
        // link always names the original), then the subscription's format (a CSV report as JSON or XLSX), then
        // encryption of what is sent.
        const linked = d.channel === 'EMAIL' && deps.downloadLinks
          ? { ...d.payload.message, attachments: withDownloadLinks(deps.downloadLinks, d.deliveryId, d.payload.message.attachments, now()) }
          : d.payload.message;
        const converted = await convertMessage({
          deliveryId: d.deliveryId, message: linked, format: d.payload.format, dir: deps.convertedDir ?? path.join(os.tmpdir(), 'refdata-converted'),
          onCopy: (f) => deps.db.retention.recordDeliveryFile({ path: f.path, kind: 'report-copy', reportId: d.payload.report.reportId, deliveryId: d.deliveryId, bytes: f.bytes }),
        });
        const message = await protectMessage({
          deliveryId: d.deliveryId, channel: d.channel, channelId: d.channelId, message: converted, reportRequires: d.payload.report.encryptionRequired,
          config, dir: deps.encryptedDir ?? path.join(os.tmpdir(), 'refdata-encrypted'),
          onCopy: (f) => deps.db.retention.recordDeliveryFile({ path: f.path, kind: 'encrypted-copy', reportId: d.payload.report.reportId, deliveryId: d.deliveryId, bytes: f.bytes }),
        });
        const sent = await deps.channels.send(d.channel, message, config, {
          signal: ctx.cancellationSignal,
          timeoutMs: input.attemptTimeoutMs,
          allowPrivateNetworks: deps.allowPrivateNetworks,
          trustedCa: deps.trustedCa,
          attachmentMaxBytes: deps.emailAttachMaxBytes,
        });
        const delivered = await store.recordDelivered(d.deliveryId);
        announce(delivered);
        await countChannelSuccess(begun.channel, d.updatedAt);
        log.debug({ channel: d.channel, latencyMs: sent.latencyMs }, 'delivered');
        // Publishing here saves an activity (and a workflow task) per delivery; a failure leaves it to the workflow.
        const eventPublished = delivered ? await publish(delivered, input.eventId).then(() => true, (err: unknown) => (log.warn({ err }, 'report_distributed not published yet; the workflow retries it'), false)) : false;
        return { attempt, detail: sent.detail, remoteId: sent.remoteId ?? null, alreadyDelivered: false, eventPublished };
      } catch (err) {
        if (err instanceof ChannelError) return failAttempt(d, err, input, attempt, true);
        // Not a channel's verdict (a bug, the database): record it and let Temporal retry.
        const unknown = new ChannelError('CONNECTION', `unexpected error: ${(err as Error).message ?? String(err)}`, { permanent: false, cause: err });
        log.warn({ err }, 'delivery attempt failed unexpectedly');
        return failAttempt(d, unknown, input);
      } finally {
        if (beat) clearInterval(beat);
      }
    },

    /** The run ends without delivering: final status, unless an attempt already recorded one. */
    async finishFailedDelivery(input: FinishFailedInput): Promise<void> {
      const current = await store.getDelivery(input.deliveryId);
      if (!current) return;
      let previous: unknown = null;
      try {
        previous = current.errorDetails ? JSON.parse(current.errorDetails) : null;
      } catch {
        previous = current.errorDetails;
      }
      // The last attempt's own error says more than "deadline exceeded"; keep it beside the final reason.
      const details = JSON.stringify({ code: input.code, message: input.message, ...(previous && (previous as { code?: string }).code !== input.code ? { lastError: previous } : {}) });
      announce(await store.recordFailure(input.deliveryId, input.status, details));
    },

    /** `report_distributed` for a delivered delivery; the event id comes from the workflow, so a retry publishes the same event. */
    async publishDeliveredEvent(input: { deliveryId: string; eventId: string }): Promise<{ topic: string }> {
      const d = await store.getDelivery(input.deliveryId);
      if (!d) throw failure(`delivery ${input.deliveryId} does not exist`, 'InvalidSubscription', null);
      return { topic: await publish(d, input.eventId) };
    },
  };
}

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;
