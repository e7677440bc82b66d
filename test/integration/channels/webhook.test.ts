// API_WEBHOOK against a real HTTP server on 127.0.0.1: Standard Webhooks signatures, multipart uploads, status rules, address policy.
import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret, MANIFEST_FIELD, MANIFEST_HEADER } from '../../../src/channels';
import { MANIFEST_HEADER_LIMIT, webhookConfigSchema, webhookSender, type WebhookConfig } from '../../../src/channels/webhook';
import { startHttpReceiver, parseMultipart, type HttpReceiver, type ReceivedRequest } from '../../support/peers/http-receiver';
import { makeTempDir, type TempDir } from '../../support/temp';
import { closedPort, deliveryMessage, failureOf, instrumentCsv, loopbackContext, writeReportFile } from './fixtures';

let receiver: HttpReceiver;
let dir: TempDir;
const secret = generateWebhookSecret();

beforeAll(async () => {
  receiver = await startHttpReceiver();
  dir = await makeTempDir('refdata-webhook-');
});
afterAll(async () => {
  await receiver.close();
  await dir.cleanup();
});

function config(overrides: Partial<WebhookConfig> = {}): WebhookConfig {
  return webhookConfigSchema.parse({ url: receiver.url('/api/distribute'), secret, ...overrides });
}

function headersOf(req: ReceivedRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
}

describe('API_WEBHOOK', () => {
  it('posts JSON signed per Standard Webhooks, with the delivery id as webhook-id', async () => {
    receiver.respondWith(() => ({ status: 202, headers: { 'x-request-id': 'rcv-1' } }));
    const msg = deliveryMessage();
    const result = await webhookSender.send(msg, config({ format: 'json' }), loopbackContext());

    const req = receiver.requests.at(-1)!;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['webhook-id']).toBe(msg.deliveryId);
    expect(Math.abs(Number(req.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    // The receiver's side of the contract: the package's verify() accepts it ...
    const verified = new Webhook(secret).verify(req.body.toString('utf8'), headersOf(req)) as { type: string; data: { deliveryId: string; reportId: string; metadata: object } };
    expect(verified.type).toBe('report.distributed');
    expect(verified.data.deliveryId).toBe(msg.deliveryId);
    expect(verified.data.reportId).toBe(msg.reportId);
    expect(verified.data.metadata).toEqual(msg.metadata);
    // ... and so does the spec computed by hand: base64 HMAC-SHA256 of "id.timestamp.body" with the decoded secret.
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`${msg.deliveryId}.${req.headers['webhook-timestamp']}.${req.body.toString('utf8')}`).digest('base64');
    expect(String(req.headers['webhook-signature']).split(' ')).toContain(`v1,${expected}`);
    expect(result).toMatchObject({ status: 'delivered', remoteId: 'rcv-1' });
    expect(result.detail).toContain('HTTP 202');
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('uploads files as multipart field "file" streamed from disk, with a signed manifest carrying each SHA-256', async () => {
    receiver.respondWith(() => ({ status: 200 }));
    const full = await writeReportFile(dir.path, '20250621_full.csv', instrumentCsv(60_000)); // ~3.5 MB
    const delta = await writeReportFile(dir.path, '20250621_delta.csv', instrumentCsv(5));
    const msg = deliveryMessage({ attachments: [full, delta] });
    const result = await webhookSender.send(msg, config(), loopbackContext());

    const req = receiver.requests.at(-1)!;
    expect(String(req.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    expect(Number(req.headers['content-length'])).toBe(req.body.length);
    const manifestText = Buffer.from(String(req.headers[MANIFEST_HEADER]), 'base64').toString('utf8');
    const manifest = new Webhook(secret).verify(manifestText, headersOf(req)) as { data: { attachments: { fileName: string; sha256: string; bytes: number }[] } };
    const [first, ...parts] = parseMultipart(req.body, String(req.headers['content-type']));
    // The same signed JSON travels as the body's first part (a form field, not a file).
    expect([first.name, first.fileName, first.contentType]).toEqual([MANIFEST_FIELD, undefined, 'application/json']);
    expect(first.data.toString('utf8')).toBe(manifestText);
    expect(parts.map((p) => [p.name, p.fileName, p.contentType])).toEqual([
      ['file', '20250621_full.csv', 'text/csv'],
      ['file', '20250621_delta.csv', 'text/csv'],
    ]);
    for (const [i, part] of parts.entries()) {
      expect(part.data.equals(await readFile(msg.attachments[i].path))).toBe(true);
      expect(createHash('sha256').update(part.data).digest('hex')).toBe(manifest.data.attachments[i].sha256);
      expect(part.data.length).toBe(manifest.data.attachments[i].bytes);
    }
    expect(result.detail).toContain('2 file(s) as multipart');
  });

  it('sends more files than a manifest header can list: the signed manifest travels as the first body part only', async () => {
    receiver.respondWith(() => ({ status: 200 }));
    const files = [];
    for (let i = 0; i < 120; i++) files.push(await writeReportFile(dir.path, `20250621_part_${String(i).padStart(3, '0')}.csv`, instrumentCsv(1 + (i % 3))));
    const msg = deliveryMessage({ attachments: files });
    const result = await webhookSender.send(msg, config(), loopbackContext());

    const req = receiver.requests.at(-1)!;
    // The header that capped the count (a 6 KiB manifest, about 30 files) is left out rather than refused.
    expect(req.headers[MANIFEST_HEADER]).toBeUndefined();
    const [first, ...parts] = parseMultipart(req.body, String(req.headers['content-type']));
    expect(first.name).toBe(MANIFEST_FIELD);
    expect(Buffer.from(first.data.toString('utf8'), 'utf8').toString('base64').length).toBeGreaterThan(MANIFEST_HEADER_LIMIT);
    const manifest = new Webhook(secret).verify(first.data.toString('utf8'), headersOf(req)) as { data: { attachments: { fileName: string; sha256: string; bytes: number }[] } };
    expect(manifest.data.attachments).toHaveLength(120);
    expect(parts).toHaveLength(120);
    for (const [i, part] of parts.entries()) {
      expect(part.fileName).toBe(files[i].fileName);
      expect(createHash('sha256').update(part.data).digest('hex')).toBe(manifest.data.attachments[i].sha256);
    }
    expect(result.detail).toContain('120 file(s) as multipart');
  });

  it('sends the same webhook-id and the same body again on a retry, so receivers can deduplicate', async () => {
    receiver.respondWith(() => ({ status: 200 }));
    const msg = deliveryMessage();
    const before = receiver.requests.length;
    await webhookSender.send(msg, config(), loopbackContext({ now: () => new Date('2025-06-21T10:00:00Z') }));
    await webhookSender.send(msg, config(), loopbackContext({ now: () => new Date('2025-06-21T10:00:05Z') }));
    const [first, second] = receiver.requests.slice(before);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.body.equals(first.body)).toBe(true);
    expect(Number(second.headers['webhook-timestamp']) - Number(first.headers['webhook-timestamp'])).toBe(5);
  });

  it('passes a subscriber\'s extra headers and refuses ones that would replace the signature', async () => {
    receiver.respondWith(() => ({ status: 200 }));
    await webhookSender.send(deliveryMessage(), config({ headers: { Authorization: 'Bearer abc' } }), loopbackContext());
    expect(receiver.requests.at(-1)!.headers.authorization).toBe('Bearer abc');
    expect(webhookConfigSchema.safeParse({ url: receiver.url(), secret, headers: { 'Webhook-Signature': 'x' } }).success).toBe(false);
    expect(webhookConfigSchema.safeParse({ url: receiver.url(), secret: 'whsec_c2hvcnQ=' }).success).toBe(false);
  });

  const statusRules: [number, Record<string, string>, string, boolean, Partial<{ disable: boolean; retryAfterMs: number }>][] = [
    [400, {}, 'HTTP_4XX', true, {}],
    [401, {}, 'AUTH_FAILED', true, {}],
    [404, {}, 'HTTP_4XX', true, {}],
    [408, {}, 'TIMEOUT', false, {}],
    [410, {}, 'GONE', true, { disable: true }],
    [413, {}, 'TOO_LARGE', true, {}],
    [429, { 'retry-after': '7' }, 'RATE_LIMITED', false, { retryAfterMs: 7000 }],
    [500, {}, 'HTTP_5XX', false, {}],
    [502, {}, 'HTTP_5XX', false, {}],
    [503, { 'retry-after': '120' }, 'HTTP_5XX', false, { retryAfterMs: 120_000 }],
    [504, {}, 'HTTP_5XX', false, {}],
    [302, { location: 'http://169.254.169.254/' }, 'REDIRECT', true, {}],
    [400, { 'webhook-delivery': 'abort-message' }, 'RECEIVER_ABORTED', true, {}],
    [503, { 'webhook-delivery': 'abort-message' }, 'RECEIVER_ABORTED', true, {}],
  ];
  it.each(statusRules)('HTTP %i %j → %s (permanent: %s)', async (status, headers, code, permanent, extra) => {
    receiver.respondWith(() => ({ status, headers, body: 'receiver says no' }));
    const err = await failureOf(webhookSender.send(deliveryMessage(), config(), loopbackContext()));
    expect(err).toMatchObject({ code, permanent, status, disable: extra.disable ?? false });
    expect(err.retryAfterMs).toBe(extra.retryAfterMs);
    expect(err.message).toContain(`HTTP ${status}`);
  });

  it('honours Retry-After given as an HTTP date', async () => {
    receiver.respondWith(() => ({ status: 503, headers: { 'retry-after': new Date(Date.now() + 90_000).toUTCString() } }));
    const err = await failureOf(webhookSender.send(deliveryMessage(), config(), loopbackContext()));
    expect(err).toMatchObject({ code: 'HTTP_5XX', permanent: false });
    expect(err.retryAfterMs).toBeGreaterThan(85_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(90_000);
  });

  it('times out a receiver that does not answer within ctx.timeoutMs (retryable)', async () => {
    receiver.respondWith(() => ({ status: 200, delayMs: 3_000 }));
    const err = await failureOf(webhookSender.send(deliveryMessage(), config(), loopbackContext({ timeoutMs: 300 })));
    // TIMEOUT, not the 200/201 the peer sends after 3 s: the sender cut the wait (no wall-clock bound: load stretches it).
    expect(err).toMatchObject({ code: 'TIMEOUT', permanent: false });
  });

  it('stops when the caller aborts (CANCELLED, retryable)', async () => {
    receiver.respondWith(() => ({ status: 200, delayMs: 3_000 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await failureOf(webhookSender.send(deliveryMessage(), config(), loopbackContext({ signal: controller.signal })));
    expect(err).toMatchObject({ code: 'CANCELLED', permanent: false });
  });

  it('reports a refused connection as retryable', async () => {
    const port = await closedPort();
    const err = await failureOf(webhookSender.send(deliveryMessage(), config({ url: `http://127.0.0.1:${port}/hook` }), loopbackContext()));
    expect(err).toMatchObject({ code: 'CONNECTION', permanent: false });
  });

  it('refuses loopback, private and non-http destinations unless private networks are allowed', async () => {
    const before = receiver.requests.length;
    const policy = { allowPrivateNetworks: false };
    for (const url of [receiver.url('/x'), 'http://localhost:9/x', 'http://[::1]:9/', 'http://169.254.169.254/latest/meta-data', 'http://10.1.2.3/', 'ftp://example.com/x', 'file:///etc/passwd', 'https://user:pw@example.com/']) {
      const err = await failureOf(webhookSender.send(deliveryMessage(), config({ url }), loopbackContext(policy)));
      expect(err, url).toMatchObject({ code: 'DESTINATION_REFUSED', permanent: true });
    }
    expect(receiver.requests.length).toBe(before);
  });

  it('fails permanently, before connecting, when an attachment is missing or not the recorded size', async () => {
    const before = receiver.requests.length;
    const file = await writeReportFile(dir.path, 'short.csv', instrumentCsv(3));
    const missing = await failureOf(webhookSender.send(deliveryMessage({ attachments: [{ ...file, path: `${file.path}.gone` }] }), config(), loopbackContext()));
    expect(missing).toMatchObject({ code: 'FILE_MISSING', permanent: true });
    const resized = await failureOf(webhookSender.send(deliveryMessage({ attachments: [{ ...file, bytes: file.bytes + 1 }] }), config(), loopbackContext()));
    expect(resized).toMatchObject({ code: 'FILE_MISSING', permanent: true });
    const unsafe = await failureOf(webhookSender.send(deliveryMessage({ attachments: [{ ...file, fileName: '../etc/x.csv' }] }), config(), loopbackContext()));
    expect(unsafe).toMatchObject({ code: 'INVALID_MESSAGE', permanent: true });
    expect(receiver.requests.length).toBe(before);
  });
});
