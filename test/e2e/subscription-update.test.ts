// PATCH of a subscription's content over real HTTP, a real worker on Temporal, PostgreSQL and a real webhook
// receiver: versioned (If-Match / expected_version → 409), owner only, all or nothing, effective for the next delivery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness';
import { startHttpReceiver, type HttpReceiver } from '../support/peers/http-receiver';
import { call, startReportingSystem, type ReportingSystem } from '../support/reporting-system';
import { fastPolicies } from '../support/reporting';

let sys: ReportingSystem;
let receiver: HttpReceiver;
let keys: { owner: string; other: string; operator: string };

beforeAll(async () => {
  sys = await startReportingSystem({ testFile: __filename, retry: fastPolicies(), worker: 'in-process' });
  receiver = await startHttpReceiver();
  keys = { owner: await sys.key('subscriber', 'client_001'), other: await sys.key('subscriber', 'client_002'), operator: await sys.key('operator') };
});

afterAll(async () => {
  await receiver?.close();
  await sys?.stop();
});

interface SubView {
  subscription_id: string;
  version: number;
  report_types: string[];
  filters: unknown;
  delivery_preferences: { channels: { channel_id: string; channel_type: string; config: Record<string, unknown> }[]; format_preferences: string[]; schedule: string | null };
  generated_secrets?: { channel_id: string; secret: string }[];
}

const deliver = (reportId: string, reportType: string, portfolio: string) =>
  call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliver', {
    report: { report_id: reportId, report_type: reportType, portfolio_id: portfolio, content: { content_type: 'text/plain', text: `report ${reportId}` } },
  });

async function patch(body: unknown, headers: Record<string, string> = {}, key = keys.owner) {
  const res = await fetch(`${sys.baseUrl}/api/v1/reporting/subscriptions/${subscriptionId}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, etag: res.headers.get('etag'), json: (await res.json()) as SubView & { error?: { code: string; message: string } } };
}

let subscriptionId = '';
let oldChannel = '';

describe('updating a subscription', () => {
  it('starts at version 1 and delivers to its first webhook', async () => {
    const res = await call(sys.baseUrl, keys.owner, 'POST', '/api/v1/reporting/subscribe', {
      subscriber_id: 'client_001',
      report_types: ['PERFORMANCE_REPORT'],
      delivery_preferences: { channels: [{ channel_type: 'API_WEBHOOK', config: { url: receiver.url('/old') } }], format_preferences: ['csv'] },
      filters: { portfolio_ids: ['p1'] },
    });
    expect(res.status).toBe(201);
    const sub = (res.json as { subscription: SubView }).subscription;
    subscriptionId = sub.subscription_id;
    oldChannel = sub.delivery_preferences.channels[0].channel_id;
    expect(sub.version).toBe(1);
    const first = await deliver('upd-r1', 'PERFORMANCE_REPORT', 'p1');
    expect((first.json.deliveries as unknown[]).length).toBe(1);
    await waitFor('the first report at /old', async () => receiver.requests.some((r) => r.path === '/old'), 30_000);
  });

  it('refuses another subscriber (404) and a stale If-Match (409), changing nothing', async () => {
    const before = await sys.rows('SELECT version, report_types, filters, delivery_preferences FROM dist.report_subscriptions WHERE subscription_id = $1', [subscriptionId]);
    const channelsBefore = await sys.rows('SELECT channel_id, channel_config FROM dist.delivery_channels WHERE subscription_id = $1 ORDER BY channel_id', [subscriptionId]);

    const foreign = await patch({ report_types: ['RISK_REPORT'] }, {}, keys.other);
    expect(foreign.status).toBe(404);
    const stale = await patch({ report_types: ['RISK_REPORT'], delivery_preferences: { channels: ['DASHBOARD_NOTIFICATION'] } }, { 'if-match': '"7"' });
    expect(stale.status).toBe(409);
    expect(stale.json.error).toMatchObject({ code: 'VERSION_CONFLICT' });
    expect(stale.json.error!.message).toContain('version 1, not 7');
    const staleBody = await patch({ report_types: ['RISK_REPORT'], expected_version: 2 });
    expect(staleBody.status).toBe(409);
    const both = await patch({ report_types: ['RISK_REPORT'], expected_version: 1 }, { 'if-match': '"2"' });
    expect(both).toMatchObject({ status: 400, json: { error: { code: 'VERSION_MISMATCH' } } });
    const nothing = await patch({ expected_version: 1 });
    expect(nothing).toMatchObject({ status: 400, json: { error: { code: 'NO_CHANGES' } } });
    const mixed = await patch({ action: 'pause', report_types: ['RISK_REPORT'] });
    expect(mixed).toMatchObject({ status: 400, json: { error: { code: 'ACTION_WITH_CHANGES' } } });
    // One bad channel in the new set: nothing of the set is stored.
    const badChannel = await patch({ delivery_preferences: { channels: ['DASHBOARD_NOTIFICATION', { channel_type: 'API_WEBHOOK', config: { url: 'ftp://example.com/x' } }] } });
    expect(badChannel.status).toBe(400);
    const unknown = await patch({ delivery_preferences: { channels: [{ channel_id: 'ch_not_mine' }] } });
    expect(unknown).toMatchObject({ status: 400, json: { error: { code: 'UNKNOWN_CHANNEL' } } });

    expect(await sys.rows('SELECT version, report_types, filters, delivery_preferences FROM dist.report_subscriptions WHERE subscription_id = $1', [subscriptionId])).toEqual(before);
    expect(await sys.rows('SELECT channel_id, channel_config FROM dist.delivery_channels WHERE subscription_id = $1 ORDER BY channel_id', [subscriptionId])).toEqual(channelsBefore);
    expect(before[0].version).toBe(1);
  });

  it('a failure inside the update transaction leaves the subscription and its channels as they were', async () => {
    // A real fault in the database: inserting any channel fails while the trigger exists.
    await sys.rows(`CREATE FUNCTION dist.refuse_channel() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected channel insert failure'; END $$`);
    await sys.rows('CREATE TRIGGER refuse_channel BEFORE INSERT ON dist.delivery_channels FOR EACH ROW EXECUTE FUNCTION dist.refuse_channel()');
    try {
      const res = await patch({ report_types: ['RISK_REPORT'], delivery_preferences: { channels: ['DASHBOARD_NOTIFICATION'] } }, { 'if-match': '"1"' });
      expect(res.status).toBe(500);
    } finally {
      await sys.rows('DROP TRIGGER refuse_channel ON dist.delivery_channels');
      await sys.rows('DROP FUNCTION dist.refuse_channel()');
    }
    const [row] = await sys.rows<{ version: number; report_types: string[] }>('SELECT version, report_types FROM dist.report_subscriptions WHERE subscription_id = $1', [subscriptionId]);
    expect(row).toEqual({ version: 1, report_types: ['PERFORMANCE_REPORT'] });
    const channels = await sys.rows<{ channel_id: string }>('SELECT channel_id FROM dist.delivery_channels WHERE subscription_id = $1', [subscriptionId]);
    expect(channels.map((c) => c.channel_id)).toEqual([oldChannel]);
  });

  it('replaces report types, filters, preferences and channels at the expected version (version 2, ETag)', async () => {
    const res = await patch({
      report_types: ['RISK_REPORT', 'PERFORMANCE_REPORT'],
      filters: { portfolio_ids: ['p2'] },
      delivery_preferences: { channels: [{ channel_type: 'API_WEBHOOK', config: { url: receiver.url('/new') } }], format_preferences: ['json'], schedule: '0 6 * * *' },
    }, { 'if-match': '"1"' });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.etag).toBe('"2"');
    expect(res.json.version).toBe(2);
    expect(res.json.generated_secrets).toHaveLength(1);
    expect(res.json.generated_secrets![0].secret).toMatch(/^whsec_/);
    const newChannel = res.json.delivery_preferences.channels[0];
    expect(newChannel.channel_id).not.toBe(oldChannel);
    expect(newChannel.config).toMatchObject({ url: receiver.url('/new'), secret: '***' });

    const [row] = await sys.rows<{ version: number; report_types: string[]; filters: unknown; delivery_preferences: { channels: { channelId: string }[]; formatPreferences: string[]; schedule: string } }>(
      'SELECT version, report_types, filters, delivery_preferences FROM dist.report_subscriptions WHERE subscription_id = $1', [subscriptionId],
    );
    expect(row.version).toBe(2);
    expect(row.report_types).toEqual(['RISK_REPORT', 'PERFORMANCE_REPORT']);
    expect(row.filters).toEqual({ portfolioIds: ['p2'] });
    expect(row.delivery_preferences.channels.map((c) => c.channelId)).toEqual([newChannel.channel_id]);
    expect(row.delivery_preferences.formatPreferences).toEqual(['json']);
    expect(row.delivery_preferences.schedule).toBe('0 6 * * *');
    const channels = await sys.rows<{ channel_id: string; channel_type: string }>('SELECT channel_id, channel_type FROM dist.delivery_channels WHERE subscription_id = $1', [subscriptionId]);
    expect(channels).toEqual([{ channel_id: newChannel.channel_id, channel_type: 'API_WEBHOOK' }]);

    // The same If-Match again is now stale: the first writer won.
    expect((await patch({ report_types: ['ALERT_REPORT'] }, { 'if-match': '"1"' })).status).toBe(409);
  });

  it('the next delivery uses the new content: old filter and channel no longer match, the new ones do', async () => {
    const before = receiver.requests.length;
    const oldMatch = await deliver('upd-r2', 'PERFORMANCE_REPORT', 'p1');
    expect(oldMatch.json.deliveries).toEqual([]);
    const newMatch = await deliver('upd-r3', 'RISK_REPORT', 'p2');
    const deliveries = newMatch.json.deliveries as { delivery_id: string; channel_id: string }[];
    expect(deliveries).toHaveLength(1);
    const req = await waitFor('the report at /new', async () => receiver.requests.find((r) => r.path === '/new'), 30_000);
    expect(req.headers['webhook-id']).toBe(deliveries[0].delivery_id);
    expect(receiver.requests.slice(before).filter((r) => r.path === '/old')).toEqual([]);
    const [row] = await sys.rows<{ status: string; channel_id: string }>('SELECT status, channel_id FROM dist.delivery_history WHERE delivery_id = $1', [deliveries[0].delivery_id]);
    expect(row.channel_id).toBe(deliveries[0].channel_id);
    await waitFor('delivered', async () => (await sys.rows<{ status: string }>('SELECT status FROM dist.delivery_history WHERE delivery_id = $1', [deliveries[0].delivery_id]))[0].status === 'delivered', 30_000);
  });

  it('keeps a channel by id, adds another, and every change (status too) adds one to the version', async () => {
    const current = (await call(sys.baseUrl, keys.owner, 'GET', '/api/v1/reporting/subscriptions/client_001')).json.subscriptions as SubView[];
    const kept = current[0].delivery_preferences.channels[0].channel_id;
    const res = await patch({ delivery_preferences: { channels: [{ channel_id: kept }, 'DASHBOARD_NOTIFICATION'] }, expected_version: 2 });
    expect(res.status).toBe(200);
    expect(res.json.version).toBe(3);
    expect(res.json.delivery_preferences.channels.map((c) => c.channel_type)).toEqual(['API_WEBHOOK', 'DASHBOARD_NOTIFICATION']);
    expect(res.json.delivery_preferences.channels[0].channel_id).toBe(kept);
    expect(res.json.delivery_preferences.format_preferences).toEqual(['json']);
    const paused = await patch({ action: 'pause' });
    expect(paused).toMatchObject({ status: 200, etag: '"4"', json: { status: 'paused', version: 4 } });
    const [row] = await sys.rows<{ version: number; status: string }>('SELECT version, status FROM dist.report_subscriptions WHERE subscription_id = $1', [subscriptionId]);
    expect(row).toEqual({ version: 4, status: 'paused' });
    await patch({ action: 'cancel' });
    expect((await patch({ report_types: ['RISK_REPORT'] })).json.error).toMatchObject({ code: 'SUBSCRIPTION_CANCELLED' });
  });
});
