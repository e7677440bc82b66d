// The dashboard's "Plan a file" card in a real browser (Debian's chromium, playwright-core) against the real API,
// Temporal and PostgreSQL: an uploaded CSV that would make a new table shows the loaded tables its columns match.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dropAndRun, instrumentCsv, startSystem, type System } from './harness';

const CHROMIUM = '/usr/bin/chromium';
const noBrowser = process.env.REFDATA_SKIP_CHROMIUM === '1' || !fs.existsSync(CHROMIUM);

let sys: System;
let baseUrl: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  sys = await startSystem({ testFile: __filename, database: 'postgres' });
  const loaded = await dropAndRun(sys, 'reference_data_table/fullload', 'airports_20241201.csv', instrumentCsv(5));
  if (loaded.result?.status !== 'loaded') throw new Error(`setup load failed: ${loaded.error}`);
  baseUrl = await sys.api.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await browser?.close();
  await sys?.stop();
});

describe.skipIf(noBrowser)('dashboard: Plan a file', () => {
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    await page.goto(baseUrl);
    await page.fill('#key', sys.adminKey);
    await page.click('#login button[type=submit]');
    await page.locator('#app').waitFor({ state: 'visible' });
  });

  it('a file that would make a new table lists the loaded tables with similar columns and their match', async () => {
    await page.setInputFiles('#plan-file', { name: 'venue_listing.csv', mimeType: 'text/csv', buffer: Buffer.from('instrument_key,symbol,lot_size,tick_size,venue,isin\nNSE_EQ|X1,AAA,1,0.05,NSE,INE000000001\n') });
    await page.selectOption('#plan-folder', 'reference_data_table/append');
    await page.click('#plan-form button[type=submit]');
    await page.locator('#plan-suggestions tr[data-table="ref.airports"]').waitFor();
    expect(await page.textContent('.plan-target')).toBe('ref.venue_listing');
    expect(await page.textContent('#plan-summary')).toContain('new table');
    const cells = await page.locator('#plan-suggestions tr[data-table="ref.airports"] td').allTextContents();
    expect(cells).toEqual(['ref.airports', '66.7 %', '4', 'expiry, active', 'venue, isin']);
  });

  it('a file of an existing table\'s name shows its match instead, and no suggestions', async () => {
    await page.setInputFiles('#plan-file', { name: 'airports_20250101.csv', mimeType: 'text/csv', buffer: Buffer.from(instrumentCsv(3)) });
    await page.selectOption('#plan-folder', 'reference_data_table/fullload');
    await page.click('#plan-form button[type=submit]');
    await expect.poll(() => page.textContent('#plan-summary')).toContain('100 % of the existing ref.airports');
    expect(await page.isHidden('#plan-suggestions-card')).toBe(true);
  });

  it('a file the API cannot plan shows the API\'s message', async () => {
    await page.setInputFiles('#plan-file', { name: 'empty.csv', mimeType: 'text/csv', buffer: Buffer.from('') });
    await page.click('#plan-form button[type=submit]');
    await expect.poll(() => page.textContent('#plan-error')).not.toBe('');
    expect(await page.isHidden('#plan-suggestions-card')).toBe(true);
  });
});
