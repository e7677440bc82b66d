// Side effects of a delivery: one attempt through its channel (recorded before and after), the final failure, the event.
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
import type { DeliveryRecord } from '../src/reporting/types';
import { announceDeliveryChange } from '../src/notify/events';

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
}

export interface AttemptResult {
  attempt: number;
  detail: string;
  remoteId: string | null;
  /** This run had delivered already (a retry after a lost answer); nothing was sent again. */
  alreadyDelivered: boolean;
  /** false: the event still has to be published (the workflow then runs publishDeliveredEvent). */
  eventPublished: boolean;
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

  /** Records a failed attempt and says how Temporal should go on: retry (honouring Retry-After) or stop. */
  async function failAttempt(d: DeliveryRecord, err: ChannelError, input: AttemptInput): Promise<never> {
    const details = JSON.stringify(err.toJSON());
    if (err.permanent) {
      announce(await store.recordFailure(d.deliveryId, 'failed', details));
      if (err.disable) {
        await store.disableChannel(d.channelId, `${err.code}: ${err.message}`);
        deps.log.warn({ deliveryId: d.deliveryId, channelId: d.channelId, code: err.code }, 'channel disabled: the destination is gone');
      }
    } else {
      announce(await store.recordFailure(d.deliveryId, 'retrying', details));
    }
    throw ApplicationFailure.create({
      message: err.message,
      type: `Channel${err.code}`,
      nonRetryable: err.permanent,
      details: [err.toJSON()],
      nextRetryDelay: err.permanent ? undefined : nextRetryDelayMs(err.retryAfterMs, input),
    });
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

      let config: unknown;
      try {
        config = openChannelConfig(begun.channel.config, deps.secretsKey, d.channelId);
      } catch (err) {
        // An operator can fix the key and restart the worker within the deadline, so this is retried.
        return failAttempt(d, new ChannelError('INVALID_CONFIG', (err as Error).message, { permanent: false }), input);
      }

      const beat = input.attemptTimeoutMs > 3 * HEARTBEAT_EVERY_MS ? setInterval(() => ctx.heartbeat({ attempt }), HEARTBEAT_EVERY_MS) : null;
      try {
        const sent = await deps.channels.send(d.channel, d.payload.message, config, {
          signal: ctx.cancellationSignal,
          timeoutMs: input.attemptTimeoutMs,
          allowPrivateNetworks: deps.allowPrivateNetworks,
          trustedCa: deps.trustedCa,
        });
        const delivered = await store.recordDelivered(d.deliveryId);
        announce(delivered);
        log.debug({ channel: d.channel, latencyMs: sent.latencyMs }, 'delivered');
        // Publishing here saves an activity (and a workflow task) per delivery; a failure leaves it to the workflow.
        const eventPublished = delivered ? await publish(delivered, input.eventId).then(() => true, (err: unknown) => (log.warn({ err }, 'report_distributed not published yet; the workflow retries it'), false)) : false;
        return { attempt, detail: sent.detail, remoteId: sent.remoteId ?? null, alreadyDelivered: false, eventPublished };
      } catch (err) {
        if (err instanceof ChannelError) return failAttempt(d, err, input);
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
