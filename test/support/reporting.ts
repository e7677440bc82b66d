// Test doubles for deliveries: an in-memory event publisher, a scripted channel sender, fast retry policies, subscriptions.
import crypto from 'node:crypto';
import { ChannelError, channelTypes, type ChannelRegistry, type ChannelType, type DeliveryMessage, type SendResult } from '../../src/channels';
import type { Database } from '../../src/db/types';
import type { EventPublisher, PublishedEvent } from '../../src/events/types';
import type { DeliveryRetryPolicy } from '../../src/reporting/retry-policy';
import { sealChannelConfig, secretsKeyFrom, type SecretsKey } from '../../src/reporting/sealed-config';

export function memoryEvents(): EventPublisher & { events: PublishedEvent[]; failures: number } {
  const events: PublishedEvent[] = [];
  const bus = {
    events,
    /** The next this-many publishes throw (a broker or outbox outage). */
    failures: 0,
    async publish(e: PublishedEvent) {
      if (bus.failures > 0) {
        bus.failures--;
        throw new Error('event bus unavailable');
      }
      events.push(e);
    },
  };
  return bus;
}

export function fastPolicies(overrides: Partial<DeliveryRetryPolicy> = {}): Record<ChannelType, DeliveryRetryPolicy> {
  const p: DeliveryRetryPolicy = { initialIntervalMs: 50, backoffCoefficient: 2, maximumIntervalMs: 200, deadlineMs: 30_000, attemptTimeoutMs: 1_000, maximumAttempts: 0, ...overrides };
  return Object.fromEntries(channelTypes.map((t) => [t, p])) as Record<ChannelType, DeliveryRetryPolicy>;
}

export const testSecretsKey: SecretsKey = secretsKeyFrom(crypto.createHash('sha256').update('refdata test secrets key').digest('base64'));

/** One scripted outcome: delivered, a channel error, or hanging until the attempt is cancelled or times out. */
export type Outcome = 'ok' | ChannelError | { hangMs: number };

export interface ScriptedSender extends Pick<ChannelRegistry, 'send'> {
  /** Outcomes for a delivery, consumed one per attempt; after the script, every attempt succeeds. */
  script(deliveryId: string, outcomes: Outcome[]): void;
  /** Outcomes for deliveries whose report id starts with the prefix (when no per-delivery script is set). */
  scriptReport(prefix: string, outcomes: () => Outcome[]): void;
  calls: { deliveryId: string; at: number; config: unknown; message: DeliveryMessage }[];
}

export function scriptedSender(): ScriptedSender {
  const scripts = new Map<string, Outcome[]>();
  const byReport: { prefix: string; make: () => Outcome[] }[] = [];
  const calls: ScriptedSender['calls'] = [];
  return {
    calls,
    script(deliveryId, outcomes) {
      scripts.set(deliveryId, [...outcomes]);
    },
    scriptReport(prefix, make) {
      byReport.push({ prefix, make });
    },
    async send(_type, msg, config, ctx): Promise<SendResult> {
      calls.push({ deliveryId: msg.deliveryId, at: Date.now(), config, message: msg });
      if (!scripts.has(msg.deliveryId)) {
        const rule = byReport.find((r) => msg.reportId.startsWith(r.prefix));
        scripts.set(msg.deliveryId, rule ? rule.make() : []);
      }
      const next = scripts.get(msg.deliveryId)!.shift() ?? 'ok';
      if (next === 'ok') return { status: 'delivered', detail: 'scripted ok', remoteId: `remote-${msg.deliveryId}`, latencyMs: 1 };
      if (next instanceof ChannelError) throw next;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(next.hangMs, ctx.timeoutMs));
        ctx.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      throw new ChannelError('TIMEOUT', 'scripted hang', { permanent: false });
    },
  };
}

/** A subscription with one channel, written straight to the store (the API's checks are tested elsewhere). */
export async function addSubscription(
  db: Database,
  opts: { subscriberId: string; channelType?: ChannelType; config?: Record<string, unknown>; reportTypes?: ('RISK_REPORT' | 'ALERT_REPORT' | 'PERFORMANCE_REPORT')[]; key?: SecretsKey },
): Promise<{ subscriptionId: string; channelId: string }> {
  const tag = crypto.randomBytes(4).toString('hex');
  const subscriptionId = `sub_${opts.subscriberId}_${tag}`;
  const channelId = `ch_${opts.subscriberId}_${tag}`;
  const channelType = opts.channelType ?? 'API_WEBHOOK';
  const config = opts.config ?? { url: 'https://receiver.example/hook', secret: `whsec_${crypto.randomBytes(32).toString('base64')}`, format: 'auto' };
  await db.distribution.createSubscription(
    {
      subscriptionId, subscriberId: opts.subscriberId, subscriberType: 'REAL_TIME', reportTypes: opts.reportTypes ?? ['RISK_REPORT'],
      deliveryPreferences: { channels: [{ channelId, channelType }], schedule: null, formatPreferences: [], notificationSettings: {} }, filters: null,
    },
    [{ channelId, channelType, config: sealChannelConfig(channelType, config, opts.key ?? testSecretsKey, channelId), subscriptionId, subscriberId: opts.subscriberId }],
  );
  return { subscriptionId, channelId };
}
