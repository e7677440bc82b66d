// Operating deliveries through the API, against a real worker on Temporal, PostgreSQL and a real webhook receiver:
// bulk replay (admin/operator), one report_distributed event per distribution, statistics over a chosen range.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness';
import { startHttpReceiver, type HttpReceiver } from '../support/peers/http-receiver';
import { call, startReportingSystem, type ReportingSystem } from '../support/reporting-system';
import { fastPolicies } from '../support/reporting';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { SqlValue } from '../../src/db/postgres/executor';

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

async function sql<T extends Record<string, unknown>>(text: string, params: SqlValue[] = []): Promise<T[]> {
  const pg = createNodePgExecutor(sys.dbUrl);
  try {
    return await pg.query<T>(text, params);
  } finally {
    await pg.close();
  }
}

const deliver = (reportId: string, reportType = 'RISK_REPORT', extra: Record<string, unknown> = {}) =>
  call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliver', {
    report: { report_id: reportId, report_type: reportType, portfolio_id: 'pf_1', content: { content_type: 'text/plain', text: `report ${reportId}` } }, ...extra,
  });

async function settled(ids: string[]): Promise<Record<string, unknown>[]> {
  return waitFor(`deliveries ${ids.join(', ')} settled`, async () => {
    const rows = await sql('SELECT delivery_id, status, replay_count, subscriber_id FROM dist.delivery_history WHERE delivery_id = ANY($1::text[]) ORDER BY delivery_id', [`{${ids.join(',')}}`]);
    return rows.length === ids.length && rows.every((r) => ['delivered', 'failed', 'cancelled'].includes(String(r.status))) ? rows : null;
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
    const rows = await sql('SELECT status, replay_count FROM dist.delivery_history WHERE delivery_id = ANY($1::text[])', [`{${failedIds.join(',')}}`]);
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
      const r = await sql('SELECT delivery_id, status, replay_count FROM dist.delivery_history WHERE delivery_id = ANY($1::text[]) ORDER BY delivery_id', [`{${failedIds.join(',')}}`]);
      return r.every((x) => x.status === 'delivered') ? r : null;
    }, 60_000);
    expect(rows).toEqual(failedIds.map((id) => ({ delivery_id: id, status: 'delivered', replay_count: 1 })));
    for (const id of failedIds) expect(receiver.requests.filter((r) => r.headers['webhook-id'] === id)).toHaveLength(2);
    // Nothing failed is left: a second bulk replay matches nothing.
    const again = await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliveries/replay', {});
    expect(again.json.matched).toEqual([]);
  });
});
