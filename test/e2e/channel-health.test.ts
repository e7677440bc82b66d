// Channel health end to end, against real receivers on loopback: failures in a row pause a channel (notification,
// status), deliveries to it wait without spending attempts, a probe or an operator brings it back, PATCH edits its
// config without echoing secrets, and a 410 switches it off with a notification.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { channelProbeWorkflowId } from '../../src/ids';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { namespaceForTestFile } from '../support/namespaces';
import { processNotifier } from '../../src/notify/notifier';
import { waitFor } from './harness';
import { startHttpReceiver, type HttpReceiver } from '../support/peers/http-receiver';
import { call, startReportingSystem, type ReportingSystem } from '../support/reporting-system';
import { fastPolicies } from '../support/reporting';

let sys: ReportingSystem;
let keys: { operator: string; owner: string; stranger: string };
const receivers: HttpReceiver[] = [];

// Three failures pause a channel; probes every 1 s, then 2 s.
const health = { unhealthyAfter: 3, probeInitialMs: 1_000, probeMaxMs: 2_000 };

beforeAll(async () => {
  sys = await startReportingSystem({
    testFile: __filename, worker: 'in-process', channelHealth: health,
    retry: fastPolicies({ initialIntervalMs: 200, maximumIntervalMs: 500, deadlineMs: 120_000, attemptTimeoutMs: 2_000 }),
  });
  keys = { operator: await sys.key('operator'), owner: await sys.key('subscriber', 'health_owner'), stranger: await sys.key('subscriber', 'health_stranger') };
});

afterAll(async () => {
  for (const r of receivers) await r.close();
  await sys?.stop();
});

async function receiver(): Promise<HttpReceiver> {
  const r = await startHttpReceiver();
  receivers.push(r);
  return r;
}

/** A loopback port nothing listens on: connections are refused. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface HealthView { state: string; status: string; paused: boolean; consecutive_failures: number; last_error: string | null; last_success_at: string | null; next_probe_at: string | null; probe_attempts: number }
interface ChannelJson { channel_id: string; enabled: boolean; disabled_reason: string | null; config: Record<string, unknown>; health: HealthView }

async function subscribeWebhook(subscriber: string, url: string, reportType: string): Promise<{ channelId: string; secret: string }> {
  const res = await call(sys.baseUrl, sys.adminKey, 'POST', '/api/v1/reporting/subscribe', {
    subscriber_id: subscriber, report_types: [reportType], delivery_preferences: { channels: [{ channel_type: 'API_WEBHOOK', config: { url, headers: { 'x-api-key': 'hdr-secret-value' } } }] },
  });
  expect(res.status).toBe(201);
  const body = res.json as { subscription: { delivery_preferences: { channels: { channel_id: string }[] } }; generated_secrets: { secret: string }[] };
  return { channelId: body.subscription.delivery_preferences.channels[0].channel_id, secret: body.generated_secrets[0].secret };
}

async function deliver(reportId: string, reportType: string, subscriber: string): Promise<string> {
  const res = await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/deliver', {
    report: { report_id: reportId, report_type: reportType, content: { content_type: 'text/plain', text: `report ${reportId}` } }, target_subscribers: [subscriber],
  });
  expect(res.status).toBe(202);
  return (res.json.deliveries as { delivery_id: string }[])[0].delivery_id;
}

async function channel(channelId: string, key = sys.adminKey): Promise<ChannelJson> {
  const res = await call(sys.baseUrl, key, 'GET', '/api/v1/reporting/channels');
  return (res.json.channels as ChannelJson[]).find((c) => c.channel_id === channelId)!;
}

async function status(deliveryId: string): Promise<{ status: string; retry_count: number; error_details: string | null }> {
  return (await call(sys.baseUrl, sys.adminKey, 'GET', `/api/v1/reporting/delivery/${deliveryId}/status`)).json as { status: string; retry_count: number; error_details: string | null };
}

const postsOf = (r: HttpReceiver, deliveryId: string) => r.requests.filter((q) => q.method === 'POST' && q.headers['webhook-id'] === deliveryId);

describe('channel health', () => {
  it('pauses a channel after N failures in a row (500s), holds new deliveries without spending attempts, and resumes them when a probe succeeds', async () => {
    const peer = await receiver();
    peer.respondWith(() => ({ status: 500, body: 'down for maintenance' }));
    const { channelId } = await subscribeWebhook('health_a', peer.url('/hook'), 'RISK_REPORT');

    const first = await deliver('health_a_1', 'RISK_REPORT', 'health_a');
    const paused = await waitFor('the channel paused', async () => {
      const c = await channel(channelId);
      return c.health.paused ? c : null;
    }, 30_000);
    expect(paused.health).toMatchObject({ state: 'unhealthy', status: 'unhealthy', paused: true, consecutive_failures: 3, last_error: expect.stringMatching(/^HTTP_5XX/) });
    expect(paused.health.next_probe_at).not.toBeNull();
    expect(postsOf(peer, first)).toHaveLength(3);
    const unhealthy = processNotifier().recent().find((n) => n.kind === 'channel.unhealthy' && n.refs.channelId === channelId);
    expect(unhealthy).toMatchObject({ severity: 'warning', message: expect.stringContaining(`refdata channels resume ${channelId}`) });
    await waitFor('first delivery waiting', async () => (await status(first)).status === 'waiting');
    expect(await status(first)).toMatchObject({ status: 'waiting', retry_count: 2, error_details: expect.stringContaining('CHANNEL_UNHEALTHY') });

    // Started while the channel is paused: waits at once, sends nothing, spends no attempt.
    const second = await deliver('health_a_2', 'RISK_REPORT', 'health_a');
    await waitFor('second delivery waiting', async () => (await status(second)).status === 'waiting');
    await waitFor('two failed probes', async () => (await channel(channelId)).health.probe_attempts >= 2, 30_000);
    expect(peer.requests.filter((q) => q.method === 'HEAD').length).toBeGreaterThanOrEqual(2);
    expect(postsOf(peer, second)).toHaveLength(0);
    expect(await status(second)).toMatchObject({ status: 'waiting', retry_count: 0 });
    expect(await status(first)).toMatchObject({ status: 'waiting', retry_count: 2 });

    // The receiver recovers: the next probe succeeds and both deliveries go out, each once more.
    peer.respondWith(() => ({ status: 200, body: 'ok' }));
    await waitFor('both delivered', async () => (await status(first)).status === 'delivered' && (await status(second)).status === 'delivered', 30_000);
    expect(await status(second)).toMatchObject({ retry_count: 0 });
    expect(await status(first)).toMatchObject({ retry_count: 3 });
    expect(postsOf(peer, second)).toHaveLength(1);
    expect(postsOf(peer, first)).toHaveLength(4);
    const healthy = await channel(channelId);
    expect(healthy.health).toMatchObject({ state: 'healthy', paused: false, consecutive_failures: 0, next_probe_at: null });
    expect(processNotifier().recent().some((n) => n.kind === 'channel.recovered' && n.refs.channelId === channelId && n.refs.via === 'probe')).toBe(true);
    const probe = await sys.client.workflow.getHandle(channelProbeWorkflowId(channelId)).result();
    expect(probe).toMatchObject({ channelId, outcome: 'recovered', woken: 2 });
    expect(probe.probes).toBeGreaterThanOrEqual(3);
    if (process.env.RECORD_HISTORIES === '1') {
      const json = execFileSync(resolveTemporalCli(), [
        'workflow', 'show', '--workflow-id', channelProbeWorkflowId(channelId), '--namespace', namespaceForTestFile(__filename), '--address', inject('temporalAddress'), '--output', 'json',
      ]);
      fs.writeFileSync(path.join(__dirname, '../workflow/histories/channel-probe-recovered.json'), json);
    }
  });

  it('an operator resumes a paused channel whose probe cannot tell (HEAD fails, POST works); subscribers may not', async () => {
    const peer = await receiver();
    peer.respondWith(() => ({ status: 503 }));
    const { channelId } = await subscribeWebhook('health_b', peer.url('/hook'), 'ALERT_REPORT');
    const waiting = await deliver('health_b_1', 'ALERT_REPORT', 'health_b');
    await waitFor('paused and waiting', async () => (await channel(channelId)).health.paused && (await status(waiting)).status === 'waiting', 30_000);
    peer.respondWith((q) => (q.method === 'HEAD' ? { status: 500 } : { status: 200, body: 'ok' }));
    await waitFor('a failed probe', async () => (await channel(channelId)).health.probe_attempts >= 1, 30_000);
    expect((await status(waiting)).status).toBe('waiting');

    const url = `/api/v1/reporting/channels/${channelId}/resume`;
    expect((await call(sys.baseUrl, keys.owner, 'POST', url)).status).toBe(403);
    expect((await call(sys.baseUrl, keys.operator, 'POST', '/api/v1/reporting/channels/ch_nope/resume')).json).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const resumed = await call(sys.baseUrl, keys.operator, 'POST', url);
    expect(resumed.status).toBe(200);
    expect(resumed.json).toMatchObject({ channel_id: channelId, woken: 1, health: { state: 'healthy', paused: false, consecutive_failures: 0 } });
    await waitFor('delivered after the resume', async () => (await status(waiting)).status === 'delivered', 30_000);
    expect(await status(waiting)).toMatchObject({ retry_count: 3 });
    expect(processNotifier().recent().some((n) => n.kind === 'channel.recovered' && n.refs.channelId === channelId && n.refs.via === 'operator')).toBe(true);
  });

  it('pauses on refused connections; PATCH points the channel at a live receiver, never echoing secrets, and the probe resumes it', async () => {
    const port = await closedPort();
    const { channelId, secret } = await subscribeWebhook('health_owner', `http://127.0.0.1:${port}/hook`, 'COMPLIANCE_REPORT');
    const waiting = await deliver('health_c_1', 'COMPLIANCE_REPORT', 'health_owner');
    await waitFor('paused by refused connections', async () => {
      const c = await channel(channelId);
      return c.health.paused && /^CONNECTION/.test(c.health.last_error ?? '');
    }, 30_000);
    await waitFor('waiting', async () => (await status(waiting)).status === 'waiting');

    const url = `/api/v1/reporting/channels/${channelId}`;
    const peer = await receiver();
    expect((await call(sys.baseUrl, keys.stranger, 'PATCH', url, { config: { url: peer.url('/hook') } })).status).toBe(404);
    expect((await call(sys.baseUrl, keys.operator, 'PATCH', url, { config: { url: peer.url('/hook') } })).status).toBe(403);
    const bad = await call(sys.baseUrl, keys.owner, 'PATCH', url, { config: { secret: 'not-a-secret' } });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'INVALID_CHANNEL_CONFIG', message: expect.stringContaining('secret') } } });
    expect(JSON.stringify(bad.json)).not.toContain('not-a-secret');
    expect((await call(sys.baseUrl, keys.owner, 'PATCH', url, {})).status).toBe(400);

    const patched = await call(sys.baseUrl, keys.owner, 'PATCH', url, { config: { url: peer.url('/hook'), headers: { 'x-api-key': '***', 'x-tenant': 'tenant-7' } } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ channel_id: channelId, config: { url: peer.url('/hook'), secret: '***', headers: { 'x-api-key': '***', 'x-tenant': '***' } } });
    expect(JSON.stringify(patched.json)).not.toContain(secret);
    expect(JSON.stringify(patched.json)).not.toContain('hdr-secret-value');
    const [row] = await sys.rows<{ channel_config: Record<string, unknown> }>('SELECT channel_config FROM dist.delivery_channels WHERE channel_id = $1', [channelId]);
    expect(row.channel_config.url).toBe(peer.url('/hook'));
    expect(String(row.channel_config.secret)).toMatch(/^enc:v1:/);
    expect(JSON.stringify(row)).not.toContain('tenant-7');
    expect(JSON.stringify(row)).not.toContain('hdr-secret-value');

    // The new config gets a probe at once; the waiting delivery goes to the new URL, with the kept secret and headers.
    await waitFor('delivered to the new receiver', async () => (await status(waiting)).status === 'delivered', 30_000);
    const [got] = postsOf(peer, waiting);
    expect(got.headers).toMatchObject({ 'x-api-key': 'hdr-secret-value', 'x-tenant': 'tenant-7' });
  });

  it('a 410 switches the channel off with a notification; PATCH enabled:true switches it back on', async () => {
    const peer = await receiver();
    peer.respondWith(() => ({ status: 410, body: 'gone' }));
    const { channelId } = await subscribeWebhook('health_d', peer.url('/hook'), 'PERFORMANCE_REPORT');
    const failed = await deliver('health_d_1', 'PERFORMANCE_REPORT', 'health_d');
    await waitFor('failed', async () => (await status(failed)).status === 'failed', 30_000);
    const off = await channel(channelId);
    expect(off).toMatchObject({ enabled: false, disabled_reason: expect.stringMatching(/^GONE/), health: { state: 'disabled' } });
    const note = await waitFor('channel.disabled notification', async () => processNotifier().recent().find((n) => n.kind === 'channel.disabled' && n.refs.channelId === channelId));
    expect(note).toMatchObject({ severity: 'warning', title: expect.stringContaining(channelId) });

    const on = await call(sys.baseUrl, sys.adminKey, 'PATCH', `/api/v1/reporting/channels/${channelId}`, { enabled: true });
    expect(on.json).toMatchObject({ enabled: true, disabled_reason: null, disabled_at: null, health: { state: 'healthy' } });
  });
});
