// Keeps every notification a notifier raises in the database (ref.operator_notifications) and sends the new ones at
// or above the alert severity through the alert channel. The first process to keep an id sends it: the same event
// raised by an activity and by another process's ledger watch goes out once.
import crypto from 'node:crypto';
import type { ChannelContext } from '../channels/types';
import { MAX_NOTIFICATION_ID, type NotificationStore } from '../db/notifications';
import type { Logger } from '../log/logger';
import { meetsSeverity, sendAlert, type OutboundAlertSettings } from './alert-channel';
import type { Notification, Notifier } from './notifier';

export interface KeeperDeps {
  notifier: Notifier;
  store: NotificationStore;
  log: Logger;
  /** Where notifications also go out; null: kept and shown only. */
  outbound: OutboundAlertSettings | null;
  /** The sender's per-call settings (timeout; private networks for an in-house relay; a test's CA). */
  channelContext?: Partial<Omit<ChannelContext, 'signal'>>;
  /** Replaces the channel send (tests of other flows). */
  send?: (settings: OutboundAlertSettings, n: Notification, ctx: ChannelContext) => Promise<void>;
}

export interface Keeper {
  /** Resolves when every notification raised so far is kept (and sent, where it is sent). */
  flush(): Promise<void>;
  stop(): void;
}

/** An id the table can key on: long ids (a long problem list) keep a readable head and a hash of the whole. */
export function storedIdOf(id: string): string {
  if (id.length <= MAX_NOTIFICATION_ID) return id;
  return `${id.slice(0, MAX_NOTIFICATION_ID - 65)}#${crypto.createHash('sha256').update(id).digest('hex')}`;
}

const keepers = new WeakMap<Notifier, { keeper: Keeper; users: number }>();

/**
 * One keeper per notifier: `refdata dev` wires the worker's and the API's to the same one, and it keeps going until
 * the last of them stops it.
 */
export function keepNotifications(deps: KeeperDeps): Keeper {
  const existing = keepers.get(deps.notifier);
  if (existing) {
    existing.users++;
    return existing.keeper;
  }
  const log = deps.log.child({ component: 'notifications' });
  const pending = new Set<Promise<void>>();
  const send = deps.send ?? sendAlert;

  async function keep(n: Notification): Promise<void> {
    const row = { ...n, id: storedIdOf(n.id) };
    const isNew = await deps.store.saveNotification(row);
    if (!isNew || !deps.outbound || !meetsSeverity(n, deps.outbound.minSeverity)) return;
    const channel = deps.outbound.destination.channel;
    const ctx: ChannelContext = { timeoutMs: 30_000, allowPrivateNetworks: true, ...deps.channelContext, signal: AbortSignal.timeout(60_000) };
    try {
      await send(deps.outbound, n, ctx);
      await deps.store.recordNotificationSent(row.id, { channel, error: null });
    } catch (err) {
      // Recorded on the row and logged once; the notification itself is kept and shown whatever the channel does.
      const message = (err as Error).message ?? String(err);
      log.warn({ notificationId: row.id, channel, err: message }, 'alert not sent through the alert channel');
      await deps.store.recordNotificationSent(row.id, { channel, error: message.slice(0, 2000) });
    }
  }

  const unsubscribe = deps.notifier.subscribe((n) => {
    const p = keep(n)
      .catch((err: unknown) => log.warn({ err, notificationId: n.id }, 'notification not kept in the database'))
      .finally(() => pending.delete(p));
    pending.add(p);
  });

  const keeper: Keeper = {
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    stop() {
      const entry = keepers.get(deps.notifier);
      if (!entry || entry.keeper !== keeper || --entry.users > 0) return;
      unsubscribe();
      keepers.delete(deps.notifier);
    },
  };
  keepers.set(deps.notifier, { keeper, users: 1 });
  return keeper;
}
