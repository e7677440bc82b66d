// The operations dashboard, served by the real API over a real socket and driven in Debian's chromium (playwright-core).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { instrumentCsv, startSystem, waitFor, type System } from './harness';
import { processNotifier } from '../../src/notify/notifier';
import { fileWorkflowId } from '../../src/ids';
import { createApiKey } from '../../src/reporting/api-keys';
import { ChannelError } from '../../src/channels';
import { addSubscription, scriptedSender, testSecretsKey } from '../support/reporting';
import { masterRecords, toJsonArray } from '../support/instrument-files';
import { startInstrumentSync } from '../../src/temporal/instrument-sync';

const CHROMIUM = '/usr/bin/chromium';
const noBrowser = process.env.REFDATA_SKIP_CHROMIUM === '1' || !fs.existsSync(CHROMIUM);
const artifacts = path.join(__dirname, '../../test-artifacts');

let sys: System;
let baseUrl: string;
/** Deliveries go through a scripted channel: the test decides which attempt fails and how. */
const sender = scriptedSender();
/** The page works with an operator key (stored, hashed, with its role); a subscriber key is refused. */
let operatorKey: string;
let subscriberKey: string;

beforeAll(async () => {
  // A stability wait long enough to see a file wait on the page, and small batches so its bar moves in steps.
  sys = await startSystem({
    testFile: __filename, database: 'postgres', stability: { checks: 3, intervalMs: 700, maxWaitMs: 60_000 }, batchRows: 4000,
    delivery: { channels: sender, secretsKey: testSecretsKey },
  });
  baseUrl = await sys.api.listen({ host: '127.0.0.1', port: 0 });
  operatorKey = (await createApiKey(sys.db.distribution, { role: 'operator', label: 'dashboard test' })).key;
  subscriberKey = (await createApiKey(sys.db.distribution, { role: 'subscriber', subscriberId: 'sub-1' })).key;
});
afterAll(async () => sys?.stop());

describe('dashboard API', () => {
  it('serves the page under a strict content security policy, and its session only to an operator key', async () => {
    const page = await fetch(`${baseUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/dashboard/app.js');
    expect((await fetch(`${baseUrl}/dashboard/app.js`)).status).toBe(200);
    expect((await fetch(`${baseUrl}/dashboard/secrets.txt`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/api/v1/dashboard/session`)).status).toBe(401);
    const session = (key: string) => fetch(`${baseUrl}/api/v1/dashboard/session`, { headers: { authorization: `Bearer ${key}` } });
    expect((await session('not-a-key-0123456789')).status).toBe(401);
    expect((await session(subscriberKey)).status).toBe(403);
    expect(await (await session(operatorKey)).json()).toEqual({ role: 'operator', namespace: sys.namespace, temporalUiUrl: 'http://localhost:8233' });
    expect(((await (await session(sys.adminKey)).json()) as { role: string }).role).toBe('admin');
  });

  it('streams notifications over the WebSocket once the key is sent, and closes on a wrong key', async () => {
    const wsUrl = `${baseUrl.replace('http', 'ws')}/api/v1/events/stream`;
    const bad = new WebSocket(wsUrl);
    await new Promise((resolve) => bad.once('open', resolve));
    bad.send(JSON.stringify({ type: 'auth', key: 'wrong-key-0123456789' }));
    expect(await new Promise((resolve) => bad.once('close', resolve))).toBe(4401);
    const subscriber = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${subscriberKey}` } });
    expect(await new Promise((resolve) => subscriber.once('close', resolve))).toBe(4403);

    const ws = new WebSocket(wsUrl);
    const messages: Array<{ type: string; notification?: { id: string } }> = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'auth', key: operatorKey }));
    await waitFor('ready', async () => messages.some((m) => m.type === 'ready'));
    processNotifier().notify({ id: 'test-1', kind: 'threshold.crossed', severity: 'warning', title: 'test alert', message: 'only a test' });
    await waitFor('the notification', async () => messages.some((m) => m.type === 'notification' && m.notification?.id === 'test-1'));
    ws.close();
  });
});

describe.skipIf(noBrowser)('dashboard in a real browser', () => {
  let browser: Browser;
  let page: Page;
  let loadedFile: string;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
    page.on('dialog', (d) => void d.accept());
    fs.mkdirSync(artifacts, { recursive: true });
  });
  afterAll(async () => browser?.close());

  it('signs in with an operator key kept in the session', async () => {
    await page.goto(baseUrl);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#key', subscriberKey);
    await page.click('#login button[type=submit]');
    await expect.poll(() => page.textContent('#login-error')).toContain('not an operator key');
    await page.fill('#key', operatorKey);
    await page.click('#login button[type=submit]');
    await page.locator('#app').waitFor({ state: 'visible' });
    await expect.poll(() => page.textContent('#conn')).toBe('live');
    expect(await page.evaluate<string | null>("sessionStorage.getItem('refdata.operatorKey')")).toBe(operatorKey);
  });

  it('shows a dropped file waiting, then its progress bar moving batch by batch to the end', async () => {
    // Every 40 ms the page's own bars are sampled (in the page, a script of its own), so the test sees what an operator saw.
    await page.evaluate(`window.seen = []; setInterval(() => document.querySelectorAll('#inflight-rows progress').forEach((p) => window.seen.push(p.value)), 40)`);
    await sys.watch();
    const name = 'ticks_20241201.csv';
    loadedFile = path.join(sys.dropRoot, 'none_reference_data_table/append', name);
    // Big enough that the load outlasts several of the page's 500 ms refreshes, however fast the loader gets.
    fs.writeFileSync(loadedFile, instrumentCsv(1_200_000));
    const row = page.locator('#inflight-rows tr', { hasText: name });
    await expect.poll(() => row.locator('.phase').textContent(), { timeout: 30_000 }).toContain('waiting until stable');
    await expect.poll(() => row.locator('.phase').textContent(), { timeout: 120_000, interval: 200 }).toBe('loaded');
    expect(await row.locator('progress').getAttribute('value')).toBe('100');
    expect(await row.locator('.rows').textContent()).toBe('1,200,000');
    const seen = await page.evaluate<number[]>('window.seen');
    const between = [...new Set(seen.filter((v) => v > 0 && v < 100))];
    expect(between.length, `intermediate values seen: ${between.join(', ')}`).toBeGreaterThanOrEqual(2);
    const href = await row.locator('a.temporal').getAttribute('href');
    expect(href).toBe(`http://localhost:8233/namespaces/${sys.namespace}/workflows/${encodeURIComponent(fileWorkflowId(`none_reference_data_table/append/${name}`))}`);
  });

  it('raises a notification on the page the moment a file fails', async () => {
    const bad = path.join(sys.dropRoot, 'reference_data_table/fullload', 'venues_20241201.csv');
    fs.writeFileSync(bad, 'code,name,lot\nA,Alpha,1\nB,Beta\nC,Gamma,3\n');
    const item = page.locator('#notification-list li[data-kind="file.failed"]', { hasText: 'venues_20241201.csv' });
    await item.waitFor({ timeout: 60_000 });
    expect(await item.textContent()).toMatch(/row 2 \(line 3\).*has 2 fields/i);
    await expect.poll(() => page.locator('#toasts .toast').count()).toBeGreaterThan(0);
  });

  it('shows a failed delivery first, with its error, and replays it from the page until it is delivered', async () => {
    await addSubscription(sys.db, { subscriberId: 'desk-7', reportTypes: ['RISK_REPORT'] });
    // The receiver refuses the first attempt for good (a 4xx); after that it accepts.
    sender.scriptReport('risk-', () => [new ChannelError('REMOTE_REJECTED', 'receiver answered 422: unknown portfolio P-9', { permanent: true })]);
    const res = await sys.api.inject({
      method: 'POST', url: '/api/v1/reporting/deliver', headers: { authorization: `Bearer ${operatorKey}` },
      payload: { report: { report_id: 'risk-20241201', report_type: 'RISK_REPORT', title: 'Risk 2024-12-01', portfolio_id: 'P-9', content: { content_type: 'text/plain', text: 'VaR 1.2m' } } },
    });
    expect(res.statusCode).toBe(202);
    const deliveryId = (res.json() as { deliveries: { delivery_id: string }[] }).deliveries[0].delivery_id;
    const row = page.locator(`#delivery-rows tr[data-delivery-id="${deliveryId}"]`);
    await expect.poll(() => row.locator('.delivery-status').textContent(), { timeout: 30_000 }).toBe('failed');
    expect(await row.locator('.error-text').textContent()).toContain('unknown portfolio P-9');
    expect(await page.locator('#delivery-rows tr').first().getAttribute('data-delivery-id')).toBe(deliveryId);
    await page.locator('#notification-list li[data-kind="delivery.failed"]', { hasText: deliveryId }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(artifacts, 'dashboard-delivery-failed.png'), fullPage: true });
    await row.locator('button.replay').click();
    await expect.poll(() => row.locator('.delivery-status').textContent(), { timeout: 30_000 }).toBe('delivered');
    expect(await sys.db.distribution.getDelivery(deliveryId)).toMatchObject({ status: 'delivered', replayCount: 1 });
    expect(sender.calls.filter((c) => c.deliveryId === deliveryId)).toHaveLength(2);
    const metrics = (await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/metrics' })).body;
    expect(metrics).toMatch(/^refdata_deliveries_total\{channel="API_WEBHOOK",outcome="failed"\} 1$/m);
    expect(metrics).toMatch(/^refdata_deliveries_total\{channel="API_WEBHOOK",outcome="delivered"\} 1$/m);
    expect(metrics).toMatch(/^refdata_delivery_latency_seconds_count\{channel="API_WEBHOOK"\} 1$/m);
  });

  it('lists an instrument sync with its status, changes and report, linked to its run', async () => {
    const file = path.join(sys.dropRoot, 'instruments.json');
    fs.writeFileSync(file, toJsonArray(masterRecords({ equities: 1100, indices: 5, futures: 20, options: 100, mcx: 5 })));
    const started = await startInstrumentSync(sys.client, { source: { file }, trigger: 'api' });
    await sys.client.workflow.getHandle(started.workflowId, started.runId).result();
    const row = page.locator(`#sync-rows tr[data-sync-run-id="${started.runId}"]`);
    await expect.poll(() => row.locator('.status').textContent(), { timeout: 20_000 }).toBe('succeeded');
    expect(await row.textContent()).toContain('+1,230');
    await row.locator('details summary').click();
    expect(await row.locator('details').textContent()).toMatch(/1,230 records, 0 invalid/);
    expect(await row.locator('a.temporal').getAttribute('href')).toBe(`http://localhost:8233/namespaces/${sys.namespace}/workflows/instrument-sync/${started.runId}/history`);
    const metrics = (await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/metrics' })).body;
    expect(metrics).toMatch(/^refdata_instrument_syncs_total\{status="succeeded"\} 1$/m);
    expect(metrics).toMatch(/^refdata_instrument_sync_changes_total\{change="added"\} 1230$/m);
  });

  it('lists a distribution run with its files and row counts, linked to its run', async () => {
    // A date no other test sends: the default distribution folder is shared by test files.
    const res = await sys.api.inject({ method: 'POST', url: '/distribute-full?date=2031-07-17', headers: { authorization: `Bearer ${operatorKey}` } });
    expect(res.statusCode).toBe(202);
    const run = res.json() as { runId: string; workflowId: string; workflowRunId: string };
    await sys.client.workflow.getHandle(run.workflowId, run.workflowRunId).result();
    const row = page.locator(`#distribution-rows tr[data-run-id="${run.runId}"]`);
    await expect.poll(() => row.locator('.status').textContent(), { timeout: 30_000 }).toBe('succeeded');
    expect(await row.textContent()).toContain('20310717_full.csv (1,230)');
    expect(await row.locator('a.temporal').getAttribute('href')).toBe(`http://localhost:8233/namespaces/${sys.namespace}/workflows/${encodeURIComponent(run.workflowId)}/${run.workflowRunId}/history`);
  });

  it('reverts a load from the page: its rows leave the table and the page says so', async () => {
    const row = page.locator('#load-rows tr', { hasText: 'data.ticks' });
    await expect.poll(() => row.locator('.load-status').textContent(), { timeout: 10_000 }).toBe('loaded');
    expect(await sys.db.countRows({ schema: 'data', name: 'ticks' })).toBe(1_200_000);
    await row.locator('button.revert').click();
    await expect.poll(() => row.locator('.load-status').textContent(), { timeout: 10_000 }).toBe('reverted');
    expect(await sys.db.countRows({ schema: 'data', name: 'ticks' })).toBe(0);
    await page.locator('#notification-list li[data-kind="load.reverted"]').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });
  });
});
