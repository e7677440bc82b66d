// Reporting end to end: subscribe a webhook to a real local receiver, deliver, follow it on the WebSocket stream,
// read its status, replay it; subscriber keys see only their own; secrets never come back.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Webhook } from 'standardwebhooks';
import { buildApi } from '../../src/api/server';
import { reportingOptionsFrom } from '../../src/api/reporting';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log/logger';
import { waitFor } from './harness';
import { parseMultipart, startHttpReceiver, type HttpReceiver } from '../support/peers/http-receiver';
import { call, startReportingSystem, type ReportingSystem } from '../support/reporting-system';
import { fastPolicies, testSecretsKey } from '../support/reporting';

let sys: ReportingSystem;
let receiver: HttpReceiver;
let keys: { client1: string; client2: string; operator: string };

beforeAll(async () => {
  sys = await startReportingSystem({ testFile: __filename, retry: fastPolicies(), worker: 'in-process' });
  receiver = await startHttpReceiver();
  keys = { client1: await sys.key('subscriber', 'client_001'), client2: await sys.key('subscriber', 'client_002'), operator: await sys.key('operator') };
});

afterAll(async () => {
  await receiver?.close();
  await sys?.stop();
});

interface StreamMessage { type: string; delivery_id?: string; status?: string; replay_count?: number; channel?: string; notification?: { title: string } }

function openStream(key: string, subscriptionId: string): Promise<{ messages: StreamMessage[]; close(): void }> {
  const messages: StreamMessage[] = [];
  const ws = new WebSocket(`${sys.baseUrl.replace('http', 'ws')}/api/v1/reporting/stream?subscription_id=${subscriptionId}&report_types=PERFORMANCE_REPORT`, { headers: { authorization: `Bearer ${key}` } });
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as StreamMessage));
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', async () => {
      await waitFor('subscribed', async () => messages.some((m) => m.type === 'subscribed'), 5_000).catch(reject);
      resolve({ messages, close: () => ws.close() });
    });
  });
}

describe('reporting API', () => {
  let subscriptionId: string;
  let secret: string;
  let webhookDelivery: string;

  it('subscribes a webhook and a dashboard channel; the generated secret is shown once and redacted after', async () => {
    const res = await call(sys.baseUrl, keys.client1, 'POST', '/api/v1/reporting/subscribe', {
      subscriber_id: 'client_001',
      report_types: ['PERFORMANCE_REPORT'],
      delivery_preferences: { channels: [{ channel_type: 'API_WEBHOOK', config: { url: receiver.url('/hook'), headers: { 'x-api-key': 'receiver-secret' } } }, 'DASHBOARD_NOTIFICATION'], format_preferences: ['csv'] },
      filters: { portfolio_ids: ['portfolio_001'] },
    });
    expect(res.status).toBe(201);
    const body = res.json as { subscription: { subscription_id: string; delivery_preferences: { channels: { channel_type: string; config: Record<string, unknown> }[] } }; generated_secrets: { secret: string }[] };
    subscriptionId = body.subscription.subscription_id;
    expect(body.generated_secrets).toHaveLength(1);
    secret = body.generated_secrets[0].secret;
    expect(secret).toMatch(/^whsec_/);
    const webhook = body.subscription.delivery_preferences.channels.find((c) => c.channel_type === 'API_WEBHOOK')!;
    expect(webhook.config).toMatchObject({ url: receiver.url('/hook'), secret: '***', headers: { 'x-api-key': '***' } });
    expect(JSON.stringify(res.json)).not.toContain('receiver-secret');
  });

  it('keeps channel secrets sealed at rest (AES-256-GCM), never in clear in the database', async () => {
    const rows = await sys.rows<{ channel_config: Record<string, unknown> }>("SELECT channel_config FROM dist.delivery_channels WHERE channel_type = 'API_WEBHOOK'");
    expect(String(rows[0].channel_config.secret)).toMatch(/^enc:v1:/);
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(JSON.stringify(rows)).not.toContain('receiver-secret');
  });

  it('refuses what a key may not do: other subscribers (403/404), no key (401), subscribers delivering (403)', async () => {
    const other = await call(sys.baseUrl, keys.client1, 'POST', '/api/v1/reporting/subscribe', { subscriber_id: 'client_002', report_types: ['RISK_REPORT'], delivery_preferences: { channels: ['DASHBOARD_NOTIFICATION'] } });
    expect(other.status).toBe(403);
    expect((await call(sys.baseUrl, keys.client2, 'GET', '/api/v1/reporting/subscriptions/client_001')).status).toBe(404);
    expect((await call(sys.baseUrl, keys.client2, 'PATCH', `/api/v1/reporting/subscriptions/${subscriptionId}`, { action: 'pause' })).status).toBe(404);
    expect((await call(sys.baseUrl, null, 'GET', '/api/v1/reporting/subscriptions/client_001')).status).toBe(401);
    expect((await call(sys.baseUrl, 'rdk_not-a-key', 'GET', '/api/v1/reporting/subscriptions/client_001')).status).toBe(401);
    const deliver = await call(sys.baseUrl, keys.client1, 'POST', '/api/v1/reporting/deliver', { report: { report_id: 'x', report_type: 'PERFORMANCE_REPORT', content: { content_type: 'text/plain', text: 'x' } } });
    expect(deliver.status).toBe(403);
    const mine = await call(sys.baseUrl, keys.client1, 'GET', '/api/v1/reporting/subscriptions/client_001');
    expect(mine.status).toBe(200);
    expect((mine.json.subscriptions as unknown[]).length).toBe(1);
    expect(JSON.stringify(mine.json)).not.toContain(secret);
  });

  it('delivers a report file to the webhook (signed, multipart) and the dashboard, streaming every status change', async () => {
    const stream = await openStream(keys.client1, subscriptionId);
    const file = path.join(sys.reportRoot, 'portfolio_performance_202506.csv');
    await fs.writeFile(file, 'portfolio,return\nportfolio_001,0.042\n');
    const res = await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliver', {
      report: { report_id: 'report_20250621_001', report_type: 'PERFORMANCE_REPORT', title: 'Performance June', portfolio_id: 'portfolio_001', report_period: '2025-06', file_path: file },
      priority: 1,
    });
    expect(res.status).toBe(202);
    const deliveries = res.json.deliveries as { delivery_id: string; channel: string; new: boolean }[];
    expect(deliveries.map((d) => d.channel).sort()).toEqual(['API_WEBHOOK', 'DASHBOARD_NOTIFICATION']);
    webhookDelivery = deliveries.find((d) => d.channel === 'API_WEBHOOK')!.delivery_id;

    const req = await waitFor('the webhook', async () => receiver.requests.find((r) => r.headers['webhook-id'] === webhookDelivery), 30_000);
    expect(req.headers['x-api-key']).toBe('receiver-secret');
    const manifest = Buffer.from(String(req.headers['webhook-manifest']), 'base64').toString('utf8');
    const signed = new Webhook(secret).verify(manifest, req.headers as Record<string, string>) as { data: { reportId: string; attachments: { sha256: string }[] } };
    expect(signed.data.reportId).toBe('report_20250621_001');
    // The body's first part is the same signed manifest; the file follows.
    const [manifestPart, part] = parseMultipart(req.body, String(req.headers['content-type']));
    expect(manifestPart.data.toString('utf8')).toBe(manifest);
    expect(part.data.toString()).toBe('portfolio,return\nportfolio_001,0.042\n');

    for (const d of deliveries) {
      await waitFor(`${d.channel} delivered on the stream`, async () => stream.messages.some((m) => m.delivery_id === d.delivery_id && m.status === 'delivered'), 30_000);
    }
    const webhookStates = stream.messages.filter((m) => m.delivery_id === webhookDelivery).map((m) => m.status);
    expect(webhookStates).toContain('sending');
    expect(webhookStates[webhookStates.length - 1]).toBe('delivered');
    const dash = stream.messages.find((m) => m.channel === 'DASHBOARD_NOTIFICATION' && m.status === 'delivered')!;
    expect(dash.notification?.title).toBe('Performance June');
    stream.close();

    const status = await call(sys.baseUrl, keys.client1, 'GET', `/api/v1/reporting/delivery/${webhookDelivery}/status`);
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ delivery_id: webhookDelivery, subscription_id: subscriptionId, report_id: 'report_20250621_001', channel: 'API_WEBHOOK', status: 'delivered', retry_count: 0, priority: 1 });
    expect((await call(sys.baseUrl, keys.client2, 'GET', `/api/v1/reporting/delivery/${webhookDelivery}/status`)).status).toBe(404);
    await waitFor('report_distributed', async () => sys.events.events.some((e) => (e.payload as { report_data: { report_id: string } }).report_data.report_id === 'report_20250621_001'));
  });

  it('replays a delivery as a new run: the receiver gets the same webhook-id again, the stream shows it', async () => {
    const stream = await openStream(keys.client1, subscriptionId);
    expect((await call(sys.baseUrl, keys.client2, 'POST', `/api/v1/reporting/delivery/${webhookDelivery}/replay`, {})).status).toBe(404);
    const res = await call(sys.baseUrl, keys.client1, 'POST', `/api/v1/reporting/delivery/${webhookDelivery}/replay`, { reason: 'receiver lost it' });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ delivery_id: webhookDelivery, replay_count: 1 });
    await waitFor('second webhook', async () => receiver.requests.filter((r) => r.headers['webhook-id'] === webhookDelivery).length === 2, 30_000);
    await waitFor('replay delivered on the stream', async () => stream.messages.some((m) => m.delivery_id === webhookDelivery && m.status === 'delivered' && m.replay_count === 1), 30_000);
    stream.close();
    const status = await call(sys.baseUrl, keys.client1, 'GET', `/api/v1/reporting/delivery/${webhookDelivery}/status`);
    expect(status.json).toMatchObject({ status: 'delivered', replay_count: 1 });
  });

  it('shows channel status with redacted configs, only its own to a subscriber', async () => {
    const mine = await call(sys.baseUrl, keys.client1, 'GET', '/api/v1/reporting/channels');
    expect(mine.status).toBe(200);
    const channels = mine.json.channels as { subscriber_id: string; config: Record<string, unknown> }[];
    expect(channels.every((c) => c.subscriber_id === 'client_001')).toBe(true);
    expect(JSON.stringify(mine.json)).not.toContain(secret);
    expect((await call(sys.baseUrl, keys.client2, 'GET', '/api/v1/reporting/channels')).json.channels).toEqual([]);
    const all = await call(sys.baseUrl, sys.adminKey, 'GET', '/api/v1/reporting/channels');
    const webhook = (all.json.channel_types as { channel_type: string; last_24h: { successful: number } }[]).find((t) => t.channel_type === 'API_WEBHOOK')!;
    expect(webhook.last_24h.successful).toBe(2);
  });

  it('pauses, resumes and cancels; a cancelled subscription gets no more deliveries', async () => {
    const url = `/api/v1/reporting/subscriptions/${subscriptionId}`;
    expect((await call(sys.baseUrl, keys.client1, 'PATCH', url, { action: 'pause' })).json.status).toBe('paused');
    const none = await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliver', { report: { report_id: 'r2', report_type: 'PERFORMANCE_REPORT', portfolio_id: 'portfolio_001', content: { content_type: 'text/plain', text: 'x' } } });
    expect(none.json.deliveries).toEqual([]);
    expect((await call(sys.baseUrl, keys.client1, 'PATCH', url, { action: 'resume' })).json.status).toBe('active');
    expect((await call(sys.baseUrl, keys.client1, 'DELETE', url)).json.status).toBe('cancelled');
    expect((await call(sys.baseUrl, keys.client1, 'PATCH', url, { action: 'resume' })).status).toBe(409);
  });

  it('refuses file paths outside the report roots and reports that match no filter', async () => {
    const outside = await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliver', { report: { report_id: 'r3', report_type: 'PERFORMANCE_REPORT', file_path: '/etc/passwd' } });
    expect(outside).toMatchObject({ status: 400, json: { error: { code: 'FILE_OUTSIDE_ROOTS' } } });
    const noContent = await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliver', { report: { report_id: 'r3', report_type: 'PERFORMANCE_REPORT' } });
    expect(noContent.status).toBe(400);
  });
});

describe('destination policy', () => {
  it('refuses non-http(s) and private webhook destinations unless the operator allows them', async () => {
    const strict = await buildApi({
      db: sys.db, client: sys.client, log: silentLogger(), dropRoot: sys.reportRoot, adminKey: sys.adminKey,
      reporting: reportingOptionsFrom(loadConfig({}), testSecretsKey),
    });
    try {
      const subscribe = (url: string) => strict.inject({
        method: 'POST', url: '/api/v1/reporting/subscribe', headers: { authorization: `Bearer ${sys.adminKey}` },
        payload: { subscriber_id: 'client_009', report_types: ['RISK_REPORT'], delivery_preferences: { channels: [{ channel_type: 'API_WEBHOOK', config: { url } }] } },
      });
      for (const url of ['http://127.0.0.1:9/hook', 'http://10.1.2.3/hook', 'http://169.254.169.254/latest', 'ftp://example.com/x', 'http://user:pw@example.com/']) {
        const res = await subscribe(url);
        expect(res.statusCode, url).toBe(400);
        expect(res.json().error.code, url).toBe('DESTINATION_REFUSED');
      }
    } finally {
      await strict.close();
    }
  });
});
