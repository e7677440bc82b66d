// The distribution store against real PostgreSQL (and SQL Server when MSSQL_URL is set).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/types';
import { channelsBySubscription, type NewDelivery } from '../../src/db/distribution';
import type { DeliveryPayload } from '../../src/reporting/types';
import { hashApiKey } from '../../src/reporting/api-keys';
import { databaseTargets } from '../support/db-targets';

const targets = databaseTargets('dst_');

function payload(reportId: string): DeliveryPayload {
  return {
    message: { deliveryId: 'x', createdAt: '2025-06-21T10:00:00.000Z', reportId, reportType: 'RISK_REPORT', title: 't', metadata: { portfolio_id: 'p1' }, attachments: [] },
    report: {
      reportId, reportType: 'RISK_REPORT', portfolioId: 'p1', reportPeriod: '2025-06', filePath: null, fileSizeBytes: null, routingKey: 'p1.risk.2025-06',
      sourceService: 'test', encryptionRequired: false, retentionDays: 90,
    },
  };
}

for (const target of targets) {
  describe.skipIf(target.skip)(`distribution store: ${target.name}`, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    const tag = Math.random().toString(36).slice(2, 8);
    const subId = `sub_${tag}`;
    const chId = `ch_${tag}`;
    const delivery = (n: number): NewDelivery => ({
      deliveryId: `dlv_${tag}_${n}`, subscriptionId: subId, subscriberId: `client_${tag}`, reportId: `r_${tag}_${n}`, reportType: 'RISK_REPORT',
      channel: 'API_WEBHOOK', channelId: chId, priority: 3, payload: payload(`r_${tag}_${n}`), workflowId: `delivery:dlv_${tag}_${n}`,
    });

    beforeAll(async () => {
      ({ db, cleanup } = await target.open());
      await db.migrate();
    });
    afterAll(async () => cleanup?.());

    it('creates a subscription with its channels once; the same id again changes nothing', async () => {
      const sub = {
        subscriptionId: subId, subscriberId: `client_${tag}`, subscriberType: 'REAL_TIME' as const, reportTypes: ['RISK_REPORT' as const, 'ALERT_REPORT' as const],
        deliveryPreferences: { channels: [{ channelId: chId, channelType: 'API_WEBHOOK' as const }], schedule: null, formatPreferences: ['csv'], notificationSettings: {} },
        filters: { portfolioIds: ['p1'] },
      };
      const channel = { channelId: chId, channelType: 'API_WEBHOOK' as const, config: { url: 'https://example.com/hook', secret: 'enc:v1:…' }, subscriptionId: subId, subscriberId: `client_${tag}` };
      const first = await db.distribution.createSubscription(sub, [channel]);
      expect(first.created).toBe(true);
      expect(first.subscription).toMatchObject({ subscriptionId: subId, status: 'active', reportTypes: ['RISK_REPORT', 'ALERT_REPORT'], filters: { portfolioIds: ['p1'] } });
      const again = await db.distribution.createSubscription({ ...sub, subscriberId: 'someone_else' }, []);
      expect(again.created).toBe(false);
      expect(again.subscription.subscriberId).toBe(`client_${tag}`);
      expect(await db.distribution.listChannels({ subscriptionId: subId })).toMatchObject([{ channelId: chId, enabled: true, config: { url: 'https://example.com/hook' } }]);
      expect((await db.distribution.activeSubscriptionsFor('RISK_REPORT')).map((s) => s.subscriptionId)).toContain(subId);
      expect((await db.distribution.activeSubscriptionsFor('COMPLIANCE_REPORT')).map((s) => s.subscriptionId)).not.toContain(subId);
    });

    it('lists the channels of many subscriptions in one call, grouped by subscription', async () => {
      const other = { subscriptionId: `${subId}_b`, subscriberId: `client_${tag}`, subscriberType: 'REAL_TIME' as const, reportTypes: ['RISK_REPORT' as const], deliveryPreferences: { channels: [], schedule: null, formatPreferences: [], notificationSettings: {} }, filters: null };
      const channel = (n: number) => ({ channelId: `${chId}_b${n}`, channelType: 'SLACK_INTEGRATION' as const, config: { webhook_url: 'https://hooks.slack.com/x' }, subscriptionId: other.subscriptionId, subscriberId: `client_${tag}` });
      await db.distribution.createSubscription(other, [channel(2), channel(1)]);
      const ids = (cs: { channelId: string }[]) => cs.map((c) => c.channelId);
      expect(ids(await db.distribution.listChannels({ subscriptionIds: [subId, other.subscriptionId, 'no-such-subscription'] }))).toEqual([chId, `${chId}_b1`, `${chId}_b2`].sort());
      expect(ids(await db.distribution.listChannels({ subscriptionIds: [other.subscriptionId] }))).toEqual([`${chId}_b1`, `${chId}_b2`]);
      expect(await db.distribution.listChannels({ subscriptionIds: [] })).toEqual([]);
      const grouped = await channelsBySubscription(db.distribution, [other.subscriptionId, subId, 'no-such-subscription']);
      expect([...grouped].map(([sub, cs]) => [sub, ids(cs)])).toEqual([[other.subscriptionId, [`${chId}_b1`, `${chId}_b2`]], [subId, [chId]], ['no-such-subscription', []]]);
    });

    it('pausing hides a subscription from matching; resuming re-enables a channel a GONE answer disabled', async () => {
      await db.distribution.disableChannel(chId, 'GONE: 410');
      expect((await db.distribution.getChannel(chId))?.enabled).toBe(false);
      expect((await db.distribution.setSubscriptionStatus(subId, 'paused'))?.status).toBe('paused');
      expect((await db.distribution.activeSubscriptionsFor('RISK_REPORT')).map((s) => s.subscriptionId)).not.toContain(subId);
      expect((await db.distribution.setSubscriptionStatus(subId, 'active'))?.status).toBe('active');
      expect(await db.distribution.getChannel(chId)).toMatchObject({ enabled: true, disabledReason: null });
      expect(await db.distribution.setSubscriptionStatus('nope', 'paused')).toBeNull();
    });

    it('inserts deliveries once (ids as idempotency keys), with the payload kept for replays', async () => {
      const first = await db.distribution.createDeliveries([delivery(1), delivery(2)]);
      expect([...first].sort()).toEqual([`dlv_${tag}_1`, `dlv_${tag}_2`]);
      const second = await db.distribution.createDeliveries([delivery(2), delivery(3)]);
      expect([...second]).toEqual([`dlv_${tag}_3`]);
      const d = await db.distribution.getDelivery(`dlv_${tag}_1`);
      expect(d).toMatchObject({ status: 'pending', retryCount: 0, replayCount: 0, priority: 3, channel: 'API_WEBHOOK', payload: payload(`r_${tag}_1`) });
    });

    it('records every attempt, counts a success once, and keeps the stats per hour × type × channel', async () => {
      const id = `dlv_${tag}_1`;
      const a1 = await db.distribution.beginAttempt(id, 1, 'run-1');
      expect(a1).toMatchObject({ delivery: { status: 'sending', retryCount: 0, runId: 'run-1' }, channel: { channelId: chId }, subscriptionStatus: 'active' });
      expect((await db.distribution.recordFailure(id, 'retrying', '{"code":"HTTP_5XX"}'))?.status).toBe('retrying');
      const a2 = await db.distribution.beginAttempt(id, 2, 'run-1');
      expect(a2?.delivery).toMatchObject({ status: 'sending', retryCount: 1 });
      const done = await db.distribution.recordDelivered(id);
      expect(done).toMatchObject({ status: 'delivered', retryCount: 1 });
      expect(done?.latencyMs).toBeGreaterThanOrEqual(0);
      expect(done?.deliveryTime).toBeInstanceOf(Date);
      // Recorded twice (a retry after a lost answer): counted once, and a new attempt of the same run sends nothing.
      expect((await db.distribution.recordDelivered(id))?.status).toBe('delivered');
      const a3 = await db.distribution.beginAttempt(id, 3, 'run-1');
      expect(a3?.delivery.status).toBe('delivered');
      // A failure after delivery does not undo it.
      expect((await db.distribution.recordFailure(id, 'failed', '{}'))?.status).toBe('delivered');

      const other = `dlv_${tag}_2`;
      await db.distribution.beginAttempt(other, 1, 'run-x');
      await db.distribution.recordFailure(other, 'failed', '{"code":"HTTP_4XX"}');
      await db.distribution.recordFailure(other, 'failed', '{"code":"HTTP_4XX"}');

      const stats = await db.distribution.statsSince(new Date(Date.now() - 3600_000 * 2));
      const mine = stats.find((s) => s.reportType === 'RISK_REPORT' && s.channel === 'API_WEBHOOK');
      // Other suites share nothing here: each target has its own database.
      expect(mine).toMatchObject({ attempted: 3, successful: 1, failed: 1 });
      expect(mine?.avgDeliveryTimeMs).not.toBeNull();
    });

    it('a replay resets the delivery to pending with replay_count + 1', async () => {
      const id = `dlv_${tag}_2`;
      const replayed = await db.distribution.markReplayRequested(id);
      expect(replayed).toMatchObject({ status: 'pending', retryCount: 0, replayCount: 1, errorDetails: null, deliveryTime: null });
      expect(await db.distribution.markReplayRequested('nope')).toBeNull();
    });

    it('counts deliveries created in a range by report type, channel and subscriber, and attempts per hourly bucket in a range', async () => {
      const rows = await db.distribution.deliveryStatsBetween({ from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 60_000) });
      const of = (dimension: string, key: string | null) => rows.find((r) => r.dimension === dimension && r.key === key);
      const expected = { reports: 3, deliveries: 3, delivered: 1, failed: 0, cancelled: 0, inProgress: 2, retries: 1, replays: 1 };
      expect(of('report_type', 'RISK_REPORT')).toMatchObject(expected);
      expect(of('channel', 'API_WEBHOOK')).toMatchObject(expected);
      expect(of('subscriber', `client_${tag}`)).toMatchObject(expected);
      expect(of('total', null)).toMatchObject(expected);
      expect(of('total', null)?.avgLatencyMs).toBe(of('total', null)?.maxLatencyMs);
      const mine = await db.distribution.deliveryStatsBetween({ from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 60_000), subscriberId: 'nobody' });
      expect(mine).toEqual([expect.objectContaining({ dimension: 'total', key: null, deliveries: 0, avgLatencyMs: null })]);
      const past = await db.distribution.deliveryStatsBetween({ from: new Date(Date.now() - 7200_000), to: new Date(Date.now() - 3600_000) });
      expect(past.filter((r) => r.dimension !== 'total')).toEqual([]);
      const attempts = await db.distribution.statsBetween(new Date(Date.now() - 7200_000), new Date(Date.now() + 3600_000));
      expect(attempts.find((s) => s.reportType === 'RISK_REPORT' && s.channel === 'API_WEBHOOK')).toMatchObject({ attempted: 3, successful: 1, failed: 1 });
      expect(await db.distribution.statsBetween(new Date(Date.now() + 3600_000), new Date(Date.now() + 7200_000))).toEqual([]);
    });

    it('updates a subscription with its channels in one step, version + 1, and refuses a stale version', async () => {
      const id = `${subId}_u`;
      const channel = (n: number) => ({ channelId: `${chId}_u${n}`, channelType: 'API_WEBHOOK' as const, config: { url: `https://example.com/${n}` }, subscriptionId: id, subscriberId: `client_${tag}` });
      const base = { subscriptionId: id, subscriberId: `client_${tag}`, subscriberType: 'REAL_TIME' as const, reportTypes: ['RISK_REPORT' as const], filters: null };
      const created = await db.distribution.createSubscription({ ...base, deliveryPreferences: { channels: [{ channelId: `${chId}_u1`, channelType: 'API_WEBHOOK' }], schedule: null, formatPreferences: [], notificationSettings: {} } }, [channel(1)]);
      expect(created.subscription.version).toBe(1);
      const prefs = { channels: [{ channelId: `${chId}_u2`, channelType: 'API_WEBHOOK' as const }], schedule: '0 6 * * *', formatPreferences: ['json'], notificationSettings: {} };
      const updated = await db.distribution.updateSubscription(id, {
        change: { reportTypes: ['ALERT_REPORT'], deliveryPreferences: prefs, filters: { portfolioIds: ['p9'] } }, addChannels: [channel(2)], removeChannelIds: [`${chId}_u1`], expectedVersion: 1,
      });
      expect(updated).toMatchObject({ outcome: 'updated', subscription: { version: 2, reportTypes: ['ALERT_REPORT'], deliveryPreferences: prefs, filters: { portfolioIds: ['p9'] }, subscriberType: 'REAL_TIME' } });
      expect((await db.distribution.listChannels({ subscriptionId: id })).map((c) => c.channelId)).toEqual([`${chId}_u2`]);
      const stale = await db.distribution.updateSubscription(id, { change: { reportTypes: ['RISK_REPORT'] }, addChannels: [channel(3)], removeChannelIds: [`${chId}_u2`], expectedVersion: 1 });
      expect(stale).toMatchObject({ outcome: 'conflict', subscription: { version: 2, reportTypes: ['ALERT_REPORT'] } });
      expect((await db.distribution.listChannels({ subscriptionId: id })).map((c) => c.channelId)).toEqual([`${chId}_u2`]);
      expect(await db.distribution.getSubscription(id)).toMatchObject({ version: 2, reportTypes: ['ALERT_REPORT'] });
      // Filters null clears them; a status change is a change too.
      expect((await db.distribution.updateSubscription(id, { change: { filters: null }, addChannels: [], removeChannelIds: [], expectedVersion: null }))?.subscription).toMatchObject({ version: 3, filters: null });
      expect((await db.distribution.setSubscriptionStatus(id, 'paused'))?.version).toBe(4);
      expect(await db.distribution.updateSubscription('nope', { change: {}, addChannels: [], removeChannelIds: [], expectedVersion: null })).toBeNull();
    });

    it('lists deliveries by subscriber, subscription, status, channel and change time', async () => {
      const since = new Date(Date.now() - 60_000);
      expect((await db.distribution.listDeliveries({ subscriptionId: subId, since, limit: 100 })).length).toBe(3);
      expect((await db.distribution.listDeliveries({ subscriberId: `client_${tag}`, status: 'delivered', limit: 100 })).map((d) => d.deliveryId)).toEqual([`dlv_${tag}_1`]);
      expect(await db.distribution.listDeliveries({ subscriberId: 'nobody', limit: 100 })).toEqual([]);
      expect((await db.distribution.listDeliveries({ channel: 'EMAIL', limit: 100 })).length).toBe(0);
      expect((await db.distribution.listDeliveries({ since: new Date(Date.now() + 60_000), limit: 100 })).length).toBe(0);
    });

    it('stores a dashboard notification once per delivery id, attributed to the delivery\'s subscriber', async () => {
      const n = { id: `dlv_${tag}_1`, createdAt: '2025-06-21T10:00:00.000Z', severity: 'info' as const, audience: ['a'], reportId: 'r', reportType: 'RISK_REPORT', title: 'Risk', files: [], metadata: {} };
      const stored = await db.distribution.upsertNotification(n);
      expect(stored).toMatchObject({ subscriberId: `client_${tag}`, subscriptionId: subId, notification: n });
      await db.distribution.upsertNotification({ ...n, title: 'Risk (again)' });
      const list = await db.distribution.listNotifications({ subscriberId: `client_${tag}`, limit: 10 });
      expect(list.map((x) => x.notification.title)).toEqual(['Risk (again)']);
      expect((await db.distribution.getNotification(n.id))?.notification.title).toBe('Risk (again)');
    });

    it.skipIf(target.lacks('update-output-deleted'))('channel health: failures in a row pause at the threshold (once), a paused channel takes no attempt, probes back off, a success or resume heals', async () => {
      const failure = { error: 'HTTP_5XX: peer answered HTTP 500', unhealthyAfter: 3, firstProbeInMs: 60_000 };
      const f1 = await db.distribution.recordChannelFailure(chId, failure);
      expect(f1).toMatchObject({ becameUnhealthy: false, channel: { health: { status: 'healthy', consecutiveFailures: 1, pausedAt: null, lastError: failure.error } } });
      await db.distribution.recordChannelFailure(chId, failure);
      const f3 = await db.distribution.recordChannelFailure(chId, failure);
      expect(f3).toMatchObject({ becameUnhealthy: true, channel: { health: { status: 'unhealthy', consecutiveFailures: 3, probeAttempts: 0 } } });
      const pausedAt = f3!.channel.health.pausedAt!;
      expect(f3!.channel.health.nextProbeAt!.getTime() - pausedAt.getTime()).toBeGreaterThanOrEqual(59_000);
      // An attempt still in flight fails too: counted, but the pause (and its time) stays.
      const f4 = await db.distribution.recordChannelFailure(chId, failure);
      expect(f4).toMatchObject({ becameUnhealthy: false, channel: { health: { consecutiveFailures: 4, pausedAt } } });

      // A delivery on the paused channel: beginAttempt changes nothing (status, retry count, stats) and shows the pause.
      const id = `dlv_${tag}_3`;
      const before = (await db.distribution.getDelivery(id))!;
      const held = await db.distribution.beginAttempt(id, 4, 'run-h');
      expect(held?.delivery).toMatchObject({ status: before.status, retryCount: before.retryCount, runId: before.runId });
      expect(held?.channel?.health.pausedAt).toEqual(pausedAt);
      expect((await db.distribution.recordFailure(id, 'waiting', '{"code":"CHANNEL_UNHEALTHY"}'))?.status).toBe('waiting');
      expect((await db.distribution.listDeliveries({ channelId: chId, status: 'waiting', limit: 10 })).map((d) => d.deliveryId)).toEqual([id]);

      const probed = await db.distribution.recordProbeFailure(chId, 'CONNECTION: refused', 120_000);
      expect(probed?.health).toMatchObject({ probeAttempts: 1, lastProbeError: 'CONNECTION: refused' });
      expect(probed!.health.nextProbeAt!.getTime() - probed!.health.lastProbeAt!.getTime()).toBeGreaterThanOrEqual(119_000);

      const healed = await db.distribution.markChannelHealthy(chId, 'probe');
      expect(healed).toMatchObject({ recovered: true, channel: { health: { status: 'healthy', consecutiveFailures: 0, pausedAt: null, nextProbeAt: null, probeAttempts: 0, lastProbeError: null } } });
      expect((await db.distribution.markChannelHealthy(chId, 'operator'))?.recovered).toBe(false);
      expect(await db.distribution.recordProbeFailure(chId, 'late', 1_000)).toBeNull();
      expect(await db.distribution.markChannelHealthy('nope', 'operator')).toBeNull();

      // A success resets the count and stamps last_success_at, at most about once a second.
      await db.distribution.recordChannelFailure(chId, failure);
      const ok = await db.distribution.recordChannelSuccess(chId);
      expect(ok).toMatchObject({ recovered: false, channel: { health: { consecutiveFailures: 0 } } });
      expect(ok!.channel.health.lastSuccessAt).toBeInstanceOf(Date);
      expect(await db.distribution.recordChannelSuccess(chId)).toBeNull();
      // 0 never pauses.
      for (let i = 0; i < 5; i++) expect((await db.distribution.recordChannelFailure(chId, { ...failure, unhealthyAfter: 0 }))?.becameUnhealthy).toBe(false);
      expect((await db.distribution.getChannel(chId))?.health.pausedAt).toBeNull();
      await db.distribution.markChannelHealthy(chId, 'operator');
      // With a quiet period: a channel that delivered a moment ago is not paused by failures in a row (a flaky peer
      // that delivers most), however many; one that has not delivered for that long is.
      await db.distribution.recordChannelSuccess(chId);
      for (let i = 0; i < 6; i++) expect((await db.distribution.recordChannelFailure(chId, { ...failure, quietMs: 60_000 }))?.becameUnhealthy).toBe(false);
      expect((await db.distribution.getChannel(chId))?.health).toMatchObject({ status: 'healthy', pausedAt: null, consecutiveFailures: 6 });
      await new Promise((r) => setTimeout(r, 300));
      expect((await db.distribution.recordChannelFailure(chId, { ...failure, quietMs: 200 }))?.becameUnhealthy).toBe(true);
      await db.distribution.markChannelHealthy(chId, 'operator');
    });

    it('updates a channel\'s config and switches it off and on, recording when and why', async () => {
      const off = await db.distribution.updateChannel(chId, { enabled: false, disabledReason: 'switched off by key_x' });
      expect(off).toMatchObject({ enabled: false, disabledReason: 'switched off by key_x' });
      expect(off?.disabledAt).toBeInstanceOf(Date);
      expect(await db.distribution.disableChannel(chId, 'GONE: again')).toBe(false);
      const on = await db.distribution.updateChannel(chId, { config: { url: 'https://example.com/v2', secret: 'enc:v1:…' }, enabled: true });
      expect(on).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null, config: { url: 'https://example.com/v2' } });
      expect((await db.distribution.updateChannel(chId, {}))?.config).toEqual({ url: 'https://example.com/v2', secret: 'enc:v1:…' });
      expect(await db.distribution.disableChannel(chId, 'GONE: 410')).toBe(true);
      expect((await db.distribution.getChannel(chId))?.disabledAt).toBeInstanceOf(Date);
      await db.distribution.updateChannel(chId, { enabled: true });
      expect(await db.distribution.updateChannel('nope', { enabled: true })).toBeNull();
    });

    it('keeps API keys by hash only, finds live ones, and revokes them', async () => {
      const keyId = `key_${tag}`;
      const rec = await db.distribution.createApiKey({ keyId, keyHash: hashApiKey(`secret-${tag}`), role: 'subscriber', subscriberId: `client_${tag}`, label: 'test' });
      expect(rec).toMatchObject({ keyId, role: 'subscriber', subscriberId: `client_${tag}`, revokedAt: null });
      expect((await db.distribution.findApiKeyByHash(hashApiKey(`secret-${tag}`)))?.keyId).toBe(keyId);
      expect((await db.distribution.listApiKeys()).map((k) => k.keyId)).toContain(keyId);
      expect(await db.distribution.revokeApiKey(keyId)).toBe(true);
      expect(await db.distribution.revokeApiKey(keyId)).toBe(false);
      expect(await db.distribution.findApiKeyByHash(hashApiKey(`secret-${tag}`))).toBeNull();
      await expect(db.distribution.createApiKey({ keyId: `${keyId}b`, keyHash: hashApiKey('x'), role: 'subscriber', subscriberId: null, label: null })).rejects.toThrow();
    });

    it('keeps held deliveries until marked released, oldest first, once; cancelled ones are not listed', async () => {
      const held = (n: number): NewDelivery => ({ ...delivery(n), subscriptionId: `${subId}_held`, heldFor: 'SCHEDULED' });
      await db.distribution.createDeliveries([held(101), held(102), held(103), { ...delivery(104), subscriptionId: `${subId}_held` }]);
      expect(await db.distribution.getDelivery(`dlv_${tag}_101`)).toMatchObject({ status: 'pending', heldFor: 'SCHEDULED', releasedAt: null });
      expect(await db.distribution.getDelivery(`dlv_${tag}_104`)).toMatchObject({ heldFor: null, releasedAt: null });
      await db.distribution.recordFailure(`dlv_${tag}_103`, 'cancelled', '{"code":"CANCELLED","message":"x"}');
      const listed = await db.distribution.listHeldDeliveries(`${subId}_held`, 10);
      expect(listed.map((d) => d.deliveryId)).toEqual([`dlv_${tag}_101`, `dlv_${tag}_102`]);
      expect(await db.distribution.markReleased([`dlv_${tag}_101`, `dlv_${tag}_102`])).toBe(2);
      expect(await db.distribution.markReleased([`dlv_${tag}_101`])).toBe(0);
      expect(await db.distribution.listHeldDeliveries(`${subId}_held`, 10)).toEqual([]);
      const released = await db.distribution.getDelivery(`dlv_${tag}_101`);
      expect(released?.releasedAt).toBeInstanceOf(Date);
      expect(released?.status).toBe('pending');
    });

  });
}
