// An email delivery of a file over the attachment limit carries a signed, expiring link instead, and the API serves the
// file through it: real SMTP server on loopback, real worker and API, the link fetched over HTTP.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadKeyFrom, downloadUrl } from '../../src/reporting/download-links';
import { decodedBody, headerOf, mimeParts, startSmtpPeer, type SmtpPeer } from '../support/peers/smtp';
import { fastPolicies, testSecretsKey } from '../support/reporting';
import { call, startReportingSystem, type ReportingSystem } from '../support/reporting-system';
import { waitFor } from './harness';

const LIMIT = 64 * 1024;
const TTL_MS = 2 * 3600_000;
let sys: ReportingSystem;
let smtp: SmtpPeer;
let operator: string;

beforeAll(async () => {
  sys = await startReportingSystem({ testFile: __filename, retry: fastPolicies(), worker: 'in-process', downloadLinks: { attachMaxBytes: LIMIT, ttlMs: TTL_MS } });
  smtp = await startSmtpPeer();
  operator = await sys.key('operator');
  const sub = await call(sys.baseUrl, await sys.key('subscriber', 'client_mail'), 'POST', '/api/v1/reporting/subscribe', {
    subscriber_id: 'client_mail',
    report_types: ['REFERENCE_DATA'],
    delivery_preferences: { channels: [{ channel_type: 'EMAIL', config: { host: '127.0.0.1', port: smtp.port, security: 'none', from: 'reports@refdata.example', to: ['ops@client.example'] } }] },
  });
  expect(sub.status).toBe(201);
});

afterAll(async () => {
  await smtp?.close();
  await sys?.stop();
});

function fullFile(rows: number): string {
  const lines = ['instrument_key,exchange,tradingsymbol,lot_size'];
  for (let i = 0; i < rows; i++) lines.push(`NSE_EQ|INE${String(i).padStart(9, '0')},NSE,SYM${i},${1 + (i % 50)}`);
  return `${lines.join('\n')}\n`;
}

async function deliverAndReadMail(reportId: string, fileName: string, content: string): Promise<{ deliveryId: string; text: string; raw: string }> {
  const file = path.join(sys.reportRoot, fileName);
  await fs.writeFile(file, content);
  const before = smtp.messages.length;
  const res = await call(sys.baseUrl, operator, 'POST', '/api/v1/reporting/deliver', { report: { report_id: reportId, report_type: 'REFERENCE_DATA', title: 'Instrument master', file_path: file } });
  expect(res.status).toBe(202);
  const deliveryId = (res.json.deliveries as { delivery_id: string }[])[0].delivery_id;
  await waitFor('delivered', async () => (await sys.db.distribution.getDelivery(deliveryId))?.status === 'delivered');
  const raw = smtp.messages.slice(before).find((m) => m.raw.toString('utf8').includes(deliveryId))!.raw.toString('utf8');
  const textPart = mimeParts(raw).find((p) => /text\/plain/.test(headerOf(p.headers, 'Content-Type') ?? '')) ?? mimeParts(raw)[0];
  return { deliveryId, text: decodedBody(textPart).toString('utf8'), raw };
}

describe('email of a file too large to attach', () => {
  let link: URL;
  let content: string;
  let deliveryId: string;

  it('sends a signed link to the API instead of the attachment', async () => {
    content = fullFile(8_000); // ~330 KB, over the 64 KiB limit
    const mail = await deliverAndReadMail('full_20250621', '20250621_full.csv', content);
    deliveryId = mail.deliveryId;
    expect(mail.raw).not.toMatch(/filename="?20250621_full\.csv/);
    const found = /(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/downloads\/\S+)/.exec(mail.text);
    expect(found).not.toBeNull();
    link = new URL(found![1]);
    expect(link.pathname).toBe(`/api/v1/downloads/${deliveryId}/20250621_full.csv`);
    // Valid for the configured time from the attempt that sent it.
    const expires = Number(link.searchParams.get('expires')) * 1000;
    expect(expires).toBeGreaterThan(Date.now() + TTL_MS - 10 * 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + TTL_MS);
  });

  it('serves the file through the link, without an API key: the bytes the subscriber was meant to get', async () => {
    const res = await fetch(`${sys.baseUrl}${link.pathname}${link.search}`);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.toString('utf8')).toBe(content);
    expect(res.headers.get('etag')).toBe(`"${createHash('sha256').update(content).digest('hex')}"`);
  });

  it('refuses a tampered link (403): another file name, another delivery, an altered signature or expiry', async () => {
    const tampered = [
      `/api/v1/downloads/${deliveryId}/20250621_delta.csv${link.search}`,
      `/api/v1/downloads/dlv_0000000000000000/20250621_full.csv${link.search}`,
      `${link.pathname}?expires=${link.searchParams.get('expires')}&signature=${'A'.repeat(43)}`,
      `${link.pathname}?expires=${Number(link.searchParams.get('expires')) + 3600}&signature=${link.searchParams.get('signature')}`,
      link.pathname,
    ];
    for (const url of tampered) {
      const res = await fetch(`${sys.baseUrl}${url}`);
      expect(res.status, url).toBe(403);
      expect(await res.text()).not.toContain('NSE_EQ');
    }
  });

  it('refuses a genuine link past its expiry (410)', async () => {
    const expired = new URL(downloadUrl({ baseUrl: sys.baseUrl, key: downloadKeyFrom(testSecretsKey), ttlMs: -60_000 }, deliveryId, '20250621_full.csv', new Date()));
    const res = await fetch(`${sys.baseUrl}${expired.pathname}${expired.search}`);
    expect(res.status).toBe(410);
    expect(await res.text()).not.toContain('NSE_EQ');
  });

  it('still attaches a file within the limit', async () => {
    const small = fullFile(20);
    const mail = await deliverAndReadMail('delta_20250621', '20250621_delta.csv', small);
    const attachment = mimeParts(mail.raw).find((p) => /filename="?20250621_delta\.csv/.test(p.headers));
    expect(decodedBody(attachment!).toString('utf8')).toBe(small);
    expect(mail.text).not.toContain('/api/v1/downloads/');
  });
});
