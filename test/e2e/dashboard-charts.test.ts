// The dashboard's charts in a real browser (Debian's chromium, playwright-core) against the real API, Temporal and
// PostgreSQL: real loads (one failing), a real instrument sync and real deliveries (one refused), then a chosen period
// on the page shows on its bars the numbers the database holds; a period without them shows zeros and empty charts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dropAndRun, instrumentCsv, startSystem, waitFor, type System } from './harness';
import { ChannelError } from '../../src/channels';
import { addSubscription, scriptedSender, testSecretsKey } from '../support/reporting';
import { masterRecords, toJsonArray } from '../support/instrument-files';
import { nearestRank } from '../support/percentile';
import { startInstrumentSync } from '../../src/temporal/instrument-sync';

const CHROMIUM = '/usr/bin/chromium';
const noBrowser = process.env.REFDATA_SKIP_CHROMIUM === '1' || !fs.existsSync(CHROMIUM);
const artifacts = path.join(__dirname, '../../test-artifacts');

let sys: System;
let baseUrl: string;
const sender = scriptedSender();
let syncRunId: string;
const today = new Date().toISOString().slice(0, 10);
const dayBefore = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  sys = await startSystem({ testFile: __filename, database: 'postgres', delivery: { channels: sender, secretsKey: testSecretsKey } });
  baseUrl = await sys.api.listen({ host: '127.0.0.1', port: 0 });

  for (const [folder, name, content] of [
    ['reference_data_table/fullload', 'airports_20241201.csv', instrumentCsv(5)],
    ['none_reference_data_table/append', 'ticks_20241201.csv', instrumentCsv(8)],
    ['reference_data_table/fullload', 'venues_20241201.csv', 'code,name,lot\nA,Alpha,1\nB,Beta\n'],
  ] as const) await dropAndRun(sys, folder, name, content);

  const file = path.join(sys.dropRoot, 'instruments.json');
  fs.writeFileSync(file, toJsonArray(masterRecords({ equities: 1100, indices: 5, futures: 20, options: 100, mcx: 5 })));
  const started = await startInstrumentSync(sys.client, { source: { file }, trigger: 'api' });
  await sys.client.workflow.getHandle(started.workflowId, started.runId).result();
  syncRunId = started.runId;

  await addSubscription(sys.db, { subscriberId: 'desk-9', reportTypes: ['RISK_REPORT'] });
  sender.scriptReport('bad-', () => [new ChannelError('REMOTE_REJECTED', 'receiver answered 422', { permanent: true })]);
  for (const id of ['ok-1', 'ok-2', 'ok-3', 'ok-4', 'bad-1']) {
    const res = await sys.api.inject({
      method: 'POST', url: '/api/v1/reporting/deliver', headers: { authorization: `Bearer ${sys.adminKey}` },
      payload: { report: { report_id: id, report_type: 'RISK_REPORT', title: id, portfolio_id: 'P-1', content: { content_type: 'text/plain', text: 'x' } } },
    });
    if (res.statusCode !== 202) throw new Error(`deliver ${id}: ${res.statusCode} ${res.body}`);
  }
  await waitFor('deliveries to finish', async () => {
    const all = await sys.db.distribution.listDeliveries({ limit: 50 });
    return all.length === 5 && all.every((d) => d.status === 'delivered' || d.status === 'failed');
  });
});
afterAll(async () => sys?.stop());

describe('stats API', () => {
  it('answers the same numbers for the default period, and refuses a day that does not exist', async () => {
    const get = (url: string) => sys.api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${sys.adminKey}` } });
    const loads = (await get('/api/v1/stats/loads')).json() as { days: { day: string; loads: number }[]; totals: { loads: number } };
    expect(loads.days).toHaveLength(14);
    expect(loads.days.at(-1)!.day).toBe(today);
    expect(loads.totals.loads).toBe((await sys.db.listLoads({ limit: 100 })).length);
    const bad = await get('/api/v1/stats/loads?from=2025-02-30');
    expect(bad.statusCode).toBe(400);
    expect((await get(`/api/v1/stats/syncs?from=${today}&to=${today}`)).json()).toMatchObject({ error: { code: 'INVALID_RANGE' } });
  });
});

describe.skipIf(noBrowser)('dashboard charts in a real browser', () => {
  let browser: Browser;
  let page: Page;
  const cspErrors: string[] = [];
  const foreign: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
    page.on('console', (m) => m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text()) && cspErrors.push(m.text()));
    page.on('request', (req) => !req.url().startsWith(baseUrl) && !req.url().startsWith(baseUrl.replace('http', 'ws')) && foreign.push(req.url()));
    await page.goto(baseUrl);
    await page.fill('#key', sys.adminKey);
    await page.click('#login button[type=submit]');
    await page.locator('#app').waitFor({ state: 'visible' });
    fs.mkdirSync(artifacts, { recursive: true });
  });
  afterAll(async () => browser?.close());

  async function choose(from: string, to: string) {
    await page.fill('#chart-from', from);
    await page.fill('#chart-to', to);
    await page.click('#chart-period button[type=submit]');
    await expect.poll(() => page.getAttribute('#charts', 'data-period')).toBe(`${from}/${to}`);
  }

  it('opens on the last 14 days', async () => {
    expect(await page.inputValue('#chart-from')).toBe(dayBefore(today, 13));
    expect(await page.inputValue('#chart-to')).toBe(today);
    await expect.poll(() => page.locator('#chart-loads g.column').count()).toBe(3 * 14);
  });

  it('shows the period\'s loads, failures, deliveries and sync changes as the database holds them', async () => {
    await choose(dayBefore(today, 2), today);

    const loads = await sys.db.listLoads({ limit: 100 });
    const loaded = loads.filter((l) => l.status === 'loaded');
    expect(loaded.length).toBe(2);
    const day = page.locator(`#chart-loads svg[aria-label="loads per day"] g.column[data-day="${today}"]`);
    expect(await day.getAttribute('data-loads')).toBe(String(loads.length));
    expect(await day.getAttribute('data-loaded')).toBe('2');
    expect(await day.getAttribute('data-rows')).toBe(String(loaded.reduce((n, l) => n + l.rowsCommitted, 0)));
    expect(await day.getAttribute('data-rows')).toBe('13');
    const ms = loaded.map((l) => l.finishedAt!.getTime() - l.startedAt.getTime());
    const avg = Number(await day.getAttribute('data-avg-duration-ms'));
    expect(Math.abs(avg - (ms[0]! + ms[1]!) / 2)).toBeLessThanOrEqual(2);
    expect(await day.locator('title').textContent()).toContain(`${loads.length} loads (2 loaded`);
    // Three days shown, the two before today empty; the bars of today stand, the others do not.
    expect(await page.locator('#chart-loads svg[aria-label="loads per day"] g.column').count()).toBe(3);
    expect(await page.locator(`#chart-loads svg[aria-label="loads per day"] g.column[data-day="${dayBefore(today, 1)}"] rect.bar`).count()).toBe(0);
    expect(await day.locator('rect.bar').count()).toBeGreaterThan(0);

    const failures = await sys.db.failures.listFailures({ since: new Date(Date.now() - 86_400_000), limit: 100 });
    expect(failures).toHaveLength(1);
    const category = failures[0]!.category ?? 'uncategorised';
    expect(await page.getAttribute(`#chart-failures g.row[data-category="${category}"]`, 'data-files')).toBe('1');

    const deliveries = await sys.db.distribution.listDeliveries({ limit: 50 });
    const latencies = deliveries.filter((d) => d.status === 'delivered').map((d) => d.latencyMs!);
    expect(latencies).toHaveLength(4);
    const hook = page.locator('#chart-deliveries svg[aria-label="delivery success rate per channel"] g.row[data-channel="API_WEBHOOK"]');
    expect(await hook.getAttribute('data-delivered')).toBe('4');
    expect(await hook.getAttribute('data-failed')).toBe('1');
    expect(await hook.getAttribute('data-success-rate')).toBe('0.8');
    expect(await hook.locator('text.value').textContent()).toBe('80.0 % of 5');
    expect(await hook.getAttribute('data-p50-ms')).toBe(String(nearestRank(latencies, 0.5)));
    expect(await hook.getAttribute('data-p95-ms')).toBe(String(nearestRank(latencies, 0.95)));

    const run = (await sys.db.instruments.getSyncRun(syncRunId))!;
    const sync = page.locator(`#chart-syncs g.column[data-run-id="${syncRunId}"]`);
    expect(await sync.getAttribute('data-added')).toBe(String(run.added));
    expect(await sync.getAttribute('data-added')).toBe('1230');
    expect(await sync.getAttribute('data-updated')).toBe(String(run.updated));
    expect(await sync.getAttribute('data-deactivated')).toBe(String(run.deactivated));
    expect(await sync.locator('title').textContent()).toContain('+1,230 added');
    await page.locator('#charts').screenshot({ path: path.join(artifacts, 'dashboard-charts.png') });
  });

  it('a period before any of it shows zero days and empty charts', async () => {
    await choose('2024-01-01', '2024-01-14');
    const columns = page.locator('#chart-loads svg[aria-label="loads per day"] g.column');
    await expect.poll(() => columns.count()).toBe(14);
    expect(new Set(await columns.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-loads'))))).toEqual(new Set(['0']));
    expect(await page.locator('#chart-loads rect.bar').count()).toBe(0);
    expect(await page.textContent('#chart-failures')).toContain('No file failed in this period.');
    expect(await page.textContent('#chart-deliveries')).toContain('No delivery in this period.');
    expect(await page.textContent('#chart-syncs')).toContain('No instrument sync in this period.');
  });

  it('refuses a period that ends before it starts, and drew everything within the page\'s policy', async () => {
    await page.fill('#chart-from', '2024-01-14');
    await page.fill('#chart-to', '2024-01-01');
    await page.click('#chart-period button[type=submit]');
    expect(await page.textContent('#chart-error')).toContain('on or before the last day');
    expect(cspErrors).toEqual([]);
    expect(foreign).toEqual([]);
  });
});
