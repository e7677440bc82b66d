// The ledger watch of an API running apart from the workers raises the same channel notifications the delivery
// activity raises in-process (same ids, so `refdata dev` shows each once): a channel paused, a channel switched off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/types';
import { silentLogger } from '../../src/log/logger';
import { notifyChannelUnhealthy } from '../../src/notify/events';
import { createLedgerWatch } from '../../src/notify/ledger-watch';
import { createNotifier } from '../../src/notify/notifier';
import { databaseTargets } from '../support/db-targets';

const postgres = databaseTargets('chl_').find((t) => t.name === 'postgres')!;

describe('ledger watch: channel health', () => {
  let db: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await postgres.open());
    await db.migrate();
    const channel = (id: string) => ({ channelId: id, channelType: 'API_WEBHOOK' as const, config: { url: 'https://example.com/hook' }, subscriptionId: 'sub_l', subscriberId: 'client_l' });
    await db.distribution.createSubscription({
      subscriptionId: 'sub_l', subscriberId: 'client_l', subscriberType: 'REAL_TIME', reportTypes: ['RISK_REPORT'], filters: null,
      deliveryPreferences: { channels: [{ channelId: 'ch_l1', channelType: 'API_WEBHOOK' }, { channelId: 'ch_l2', channelType: 'API_WEBHOOK' }], schedule: null, formatPreferences: [], notificationSettings: {} },
    }, [channel('ch_l1'), channel('ch_l2')]);
  });
  afterAll(async () => cleanup?.());

  it('raises channel.unhealthy and channel.disabled once each, with the ids the activity uses', async () => {
    const notifier = createNotifier();
    const watch = createLedgerWatch({ db, notifier, log: silentLogger() });
    expect(await watch.poll()).toBe(0);
    const paused = await db.distribution.recordChannelFailure('ch_l1', { error: 'CONNECTION: refused', unhealthyAfter: 1, firstProbeInMs: 30_000 });
    await db.distribution.disableChannel('ch_l2', 'GONE: peer answered HTTP 410');
    expect(await watch.poll()).toBe(2);
    expect(notifier.recent().map((n) => n.kind).sort()).toEqual(['channel.disabled', 'channel.unhealthy']);
    // Raised in-process by the activity as well: the same id, so it is not shown twice.
    expect(notifyChannelUnhealthy(notifier, paused!.channel)).toBeNull();
    expect(await watch.poll()).toBe(0);
  });
});
