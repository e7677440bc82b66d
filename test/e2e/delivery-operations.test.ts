// Operating deliveries through the API, against a real worker on Temporal, PostgreSQL and a real webhook receiver:
// bulk replay (admin/operator), one report_distributed event per distribution, statistics over a chosen range.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness';
import { startHttpReceiver, type HttpReceiver } from '../support/peers/http-receiver';
import { call, startReportingSystem, type ReportingSystem } from '../support/reporting-system';
import { fastPolicies } from '../support/reporting';

let sys: ReportingSystem;
let receiver: HttpReceiver;
let keys: { client1: string; client2: string; operator: string; readOnly: string };
const hookIds: Record<string, string> = {};

beforeAll(async () => {
  sys = await startReportingSystem({ testFile: __filename, retry: fastPolicies(), worker: 'in-process' });
  receiver = await startHttpReceiver();
  keys = {
    client1: await sys.key('subscriber', 'client_001'), client2: await sys.key('subscriber', 'client_002'),
    operator: await sys.key('operator'), readOnly: await sys.key('read-only'),
  };
  for (const [subscriber, key] of [['client_001', keys.client1], ['client_002', keys.client2]] as const) {
    const res = await call(sys.baseUrl, key, 'POST', '/api/v1/reporting/subscribe', {
      subscriber_id: subscriber,
      report_types: ['RISK_REPORT', 'ALERT_REPORT'],
      delivery_preferences: { channels: [{ channel_type: 'API_WEBHOOK', config: { url: receiver.url(`/${subscriber}`) } }, 'DASHBOARD_NOTIFICATION'] },
    });
    expect(res.status).toBe(201);
    hookIds[subscriber] = (res.json.subscription as { delivery_preferences: { channels: { channel_id: string; channel_type: string }[] } }).delivery_preferences.channels
      .find((c) => c.channel_type === 'API_WEBHOOK')!.channel_id;
  }
});

afterAll(async () => {
  await receiver?.close();
  await sys?.stop();
});

const deliver = (reportId: string, reportType = 'RISK_REPORT', extra: Record<string, unknown> = {}) =>
  call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliver', {
    report: { report_id: reportId, report_type: reportType, portfolio_id: 'pf_1', content: { content_type: 'text/plain', text: `report ${reportId}` } }, ...extra,
  });

/** Waits until each delivery's row is final and its run has ended (the row is written one workflow task before). */
async function settled(ids: string[]): Promise<Record<string, unknown>[]> {
  return waitFor(`deliveries ${ids.join(', ')} settled`, async () => {
    const rows = await sys.rows('SELECT delivery_id, status, replay_count, subscriber_id FROM dist.delivery_history WHERE delivery_id = ANY($1::text[]) ORDER BY delivery_id', [`{${ids.join(',')}}`]);
    if (rows.length !== ids.length || !rows.every((r) => ['delivered', 'failed', 'cancelled'].includes(String(r.status)))) return null;
    const runs = await Promise.all(ids.map((id) => sys.client.workflow.getHandle(`delivery:${id}`).describe()));
    return runs.every((r) => r.status.name !== 'RUNNING') ? rows : null;
  }, 60_000);
}

describe('bulk replay through the API', () => {
  let failedIds: string[] = [];

  it('webhooks the receiver refuses end failed', async () => {
    receiver.respondWith((r) => (r.path === '/client_001' ? { status: 400, body: 'not now' } : { status: 200, body: 'ok' }));
    const res = await deliver('bulk-r1');
    expect(res.status).toBe(202);
    const res2 = await deliver('bulk-r2');
    const all = [...(res.json.deliveries as { delivery_id: string; channel_id: string }[]), ...(res2.json.deliveries as { delivery_id: string; channel_id: string }[])];
    expect(all).toHaveLength(8);
    const rows = await settled(all.map((d) => d.delivery_id));
    failedIds = all.filter((d) => d.channel_id === hookIds.client_001).map((d) => d.delivery_id).sort();
    expect(rows.filter((r) => r.status === 'failed').map((r) => r.delivery_id)).toEqual(failedIds);
    expect(rows.filter((r) => r.status === 'delivered')).toHaveLength(6);
  });

  it('is refused to subscribers and read-only keys, and a bad since is 400', async () => {
    for (const key of [keys.client1, keys.readOnly]) expect((await call(sys.baseUrl, key, 'POST', '/api/v1/reporting/deliveries/replay', {})).status).toBe(403);
    expect((await call(sys.baseUrl, null, 'POST', '/api/v1/reporting/deliveries/replay', {})).status).toBe(401);
    const bad = await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliveries/replay', { since: 'yesterday-ish' });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'INVALID_SINCE' } } });
    const badStatus = await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliveries/replay', { status: 'sending' });
    expect(badStatus.status).toBe(400);
  });

  it('a dry run lists the failed deliveries and changes nothing', async () => {
    const res = await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliveries/replay', { dry_run: true, since: '1h' });
    expect(res.status).toBe(200);
    expect((res.json.matched as { delivery_id: string }[]).map((d) => d.delivery_id).sort()).toEqual(failedIds);
    expect(res.json.replayed).toEqual([]);
    const rows = await sys.rows('SELECT status, replay_count FROM dist.delivery_history WHERE delivery_id = ANY($1::text[])', [`{${failedIds.join(',')}}`]);
    expect(rows).toEqual([{ status: 'failed', replay_count: 0 }, { status: 'failed', replay_count: 0 }]);
    const other = await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliveries/replay', { dry_run: true, subscriber_id: 'client_002' });
    expect(other.json.matched).toEqual([]);
  });

  it('replays every failed delivery of the subscriber as a new run; the receiver gets each again and they are delivered', async () => {
    receiver.respondWith(() => ({ status: 200, body: 'ok' }));
    const res = await call(sys.baseUrl, sys.adminKey, 'POST', '/api/v1/reporting/deliveries/replay', { subscriber_id: 'client_001', channel: 'API_WEBHOOK', reason: 'receiver fixed' });
    expect(res.status).toBe(202);
    const replayed = res.json.replayed as { delivery_id: string; replay_count: number }[];
    expect(replayed.map((r) => r.delivery_id).sort()).toEqual(failedIds);
    expect(replayed.every((r) => r.replay_count === 1)).toBe(true);
    expect(res.json.refused).toEqual([]);
    const rows = await waitFor('replays delivered', async () => {
      const r = await sys.rows('SELECT delivery_id, status, replay_count FROM dist.delivery_history WHERE delivery_id = ANY($1::text[]) ORDER BY delivery_id', [`{${failedIds.join(',')}}`]);
      return r.every((x) => x.status === 'delivered') ? r : null;
    }, 60_000);
    expect(rows).toEqual(failedIds.map((id) => ({ delivery_id: id, status: 'delivered', replay_count: 1 })));
    for (const id of failedIds) expect(receiver.requests.filter((r) => r.headers['webhook-id'] === id)).toHaveLength(2);
    // Nothing failed is left: a second bulk replay matches nothing.
    const again = await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliveries/replay', {});
    expect(again.json.matched).toEqual([]);
  });
});

interface DistributedEvent {
  event_id: string;
  distribution: { topic: string; target_subscribers: string[]; delivery_channels: string[]; scope: string };
  report_data: { report_id: string };
}

async function distributionEvents(reportId: string): Promise<{ event_id: string; topic: string; payload: DistributedEvent }[]> {
  const rows = await sys.rows<{ event_id: string; topic: string; payload: string }>('SELECT event_id, topic, payload FROM dist.outbox ORDER BY id');
  return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as DistributedEvent })).filter((r) => r.payload.report_data.report_id === reportId);
}

describe('one report_distributed event per distribution', () => {
  it('lists every target subscriber and channel of the report, beside the per-delivery events', async () => {
    const events = await distributionEvents('bulk-r1');
    expect(events).toHaveLength(1);
    expect(events[0].topic).toBe('reporting.risk.delivered');
    expect(events[0].payload.distribution).toEqual({
      topic: 'reporting.risk.delivered', routing_key: 'pf_1.risk.adhoc',
      target_subscribers: ['client_001', 'client_002'], delivery_channels: ['API_WEBHOOK', 'DASHBOARD_NOTIFICATION'], scope: 'distribution',
    });
    expect(events[0].event_id).toBe(events[0].payload.event_id);
    // The per-delivery events: one per delivered delivery, each naming its one subscriber and channel.
    const perDelivery = sys.events.events.filter((e) => (e.payload as DistributedEvent).report_data.report_id === 'bulk-r1');
    expect(perDelivery.length).toBe(4);
    expect(perDelivery.every((e) => (e.payload as DistributedEvent).distribution.scope === 'delivery' && (e.payload as DistributedEvent).distribution.target_subscribers.length === 1)).toBe(true);
  });

  it('names only the targets a narrowed request reaches; a repeated request stores no second event', async () => {
    const narrowed = { target_subscribers: ['client_002'], channels: ['API_WEBHOOK'] };
    expect((await deliver('event-r1', 'ALERT_REPORT', narrowed)).status).toBe(202);
    expect((await deliver('event-r1', 'ALERT_REPORT', narrowed)).json.deliveries).toMatchObject([{ new: false }]);
    const events = await distributionEvents('event-r1');
    expect(events).toHaveLength(1);
    expect(events[0].topic).toBe('reporting.alert.delivered');
    expect(events[0].payload.distribution).toMatchObject({ target_subscribers: ['client_002'], delivery_channels: ['API_WEBHOOK'] });
    // No matching subscription: no distribution, no event.
    expect((await deliver('event-none', 'COMPLIANCE_REPORT')).json.deliveries).toEqual([]);
    expect(await distributionEvents('event-none')).toEqual([]);
  });

  it('an outbox failure fails the request; repeating it stores the event once and starts nothing twice', async () => {
    await sys.rows('ALTER TABLE dist.outbox RENAME TO outbox_away');
    let failed: Awaited<ReturnType<typeof deliver>>;
    try {
      failed = await deliver('event-r2');
    } finally {
      await sys.rows('ALTER TABLE dist.outbox_away RENAME TO outbox');
    }
    expect(failed.status).toBe(500);
    expect(await distributionEvents('event-r2')).toEqual([]);
    const planned = await sys.rows<{ delivery_id: string }>("SELECT delivery_id FROM dist.delivery_history WHERE report_id = 'event-r2' ORDER BY delivery_id");
    expect(planned).toHaveLength(4);
    const again = await deliver('event-r2');
    expect(again.status).toBe(202);
    expect((again.json.deliveries as { delivery_id: string; new: boolean }[]).map((d) => d.new)).toEqual([false, false, false, false]);
    const events = await distributionEvents('event-r2');
    expect(events).toHaveLength(1);
    expect(events[0].payload.distribution.target_subscribers).toEqual(['client_001', 'client_002']);
    expect((await sys.rows("SELECT count(*)::int AS n FROM dist.delivery_history WHERE report_id = 'event-r2'"))[0].n).toBe(4);
    await settled(planned.map((p) => p.delivery_id));
  });
});

interface Counts { reports: number; deliveries: number; delivered: number; failed: number; replays: number; in_progress: number; avg_latency_ms: number | null }
interface StatsBody {
  from: string;
  to: string;
  totals: Counts;
  by_report_type: (Counts & { report_type: string; attempts: { attempted: number; successful: number; failed: number } | null })[];
  by_channel: (Counts & { channel: string; attempts: { attempted: number; successful: number; failed: number } | null })[];
  by_subscriber: (Counts & { subscriber_id: string })[];
}

describe('statistics over a chosen range', () => {
  const stats = async (key: string, query: string) => {
    const res = await call(sys.baseUrl, key, 'GET', `/api/v1/reporting/stats${query}`);
    return { status: res.status, body: res.json as unknown as StatsBody & { error?: { code: string } } };
  };

  it('counts distributions and deliveries by report type, channel and subscriber, with attempts for staff', async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const { status, body } = await stats(keys.operator, `?from=${from}&to=${to}`);
    expect(status).toBe(200);
    // bulk-r1, bulk-r2 (4 each), event-r1 (1), event-r2 (4); all delivered by now, two of them after a replay.
    expect(body.totals).toMatchObject({ reports: 4, deliveries: 13, delivered: 13, failed: 0, in_progress: 0, replays: 2 });
    expect(body.totals.avg_latency_ms).toBeGreaterThan(0);
    expect(body.by_subscriber.map((s) => [s.subscriber_id, s.deliveries, s.replays])).toEqual([['client_001', 6, 2], ['client_002', 7, 0]]);
    const byType = Object.fromEntries(body.by_report_type.map((t) => [t.report_type, t]));
    expect(byType.RISK_REPORT).toMatchObject({ reports: 3, deliveries: 12 });
    expect(byType.ALERT_REPORT).toMatchObject({ reports: 1, deliveries: 1 });
    const hook = body.by_channel.find((c) => c.channel === 'API_WEBHOOK')!;
    expect(hook).toMatchObject({ deliveries: 7, delivered: 7, replays: 2 });
    // Attempt counters: 7 first attempts and 2 replays; the two refusals counted as failed deliveries.
    expect(hook.attempts).toEqual({ attempted: 9, successful: 7, failed: 2, avg_delivery_time_ms: expect.any(Number) });
  });

  it('takes only deliveries created in [from, to)', async () => {
    // Move event-r2's deliveries into a past day, as if they had been handed out then.
    await sys.rows("UPDATE dist.delivery_history SET created_at = '2025-03-10T12:00:00Z' WHERE report_id = 'event-r2'");
    const day = await stats(sys.adminKey, '?from=2025-03-10&to=2025-03-11');
    expect(day.body.totals).toMatchObject({ reports: 1, deliveries: 4, delivered: 4 });
    expect(day.body.by_subscriber.map((s) => s.subscriber_id)).toEqual(['client_001', 'client_002']);
    expect((await stats(sys.adminKey, '?from=2025-03-10T12:00:00Z&to=2025-03-10T12:00:00.001Z')).body.totals.deliveries).toBe(4);
    expect((await stats(sys.adminKey, '?from=2025-03-10&to=2025-03-10T12:00:00Z')).body.totals.deliveries).toBe(0);
    const empty = await stats(sys.adminKey, '?from=2025-01-01&to=2025-01-02');
    expect(empty.body).toMatchObject({ from: '2025-01-01T00:00:00.000Z', to: '2025-01-02T00:00:00.000Z', by_report_type: [], by_channel: [], by_subscriber: [] });
    expect(empty.body.totals).toMatchObject({ reports: 0, deliveries: 0, avg_latency_ms: null });
  });

  it('shows a subscriber only its own deliveries and no attempt counters; refuses bad ranges', async () => {
    const mine = await stats(keys.client2, '?from=2025-03-10&to=2025-03-11');
    expect(mine.status).toBe(200);
    expect(mine.body.by_subscriber.map((s) => s.subscriber_id)).toEqual(['client_002']);
    expect(mine.body.totals.deliveries).toBe(2);
    expect(mine.body.by_channel.every((c) => c.attempts === null)).toBe(true);
    expect((await stats(keys.readOnly, '')).status).toBe(403);
    for (const q of ['?from=tomorrow', '?from=2025-03-11&to=2025-03-10', '?from=2020-01-01&to=2025-01-01', '?from=2025-02-30']) {
      const bad = await stats(keys.operator, q);
      expect(bad.status, q).toBe(400);
      expect(bad.body.error?.code, q).toBe('INVALID_RANGE');
    }
  });
});
