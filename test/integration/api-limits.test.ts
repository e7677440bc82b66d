// Limits of issue 13 against the real server and a real PostgreSQL: per-key request rates (429 with Retry-After) and
// per-route body sizes (413; only admins and operators may send the plan upload's larger body).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { buildApi } from '../../src/api/server';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { silentLogger } from '../../src/log/logger';
import { createApiKey } from '../../src/reporting/api-keys';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { makeTempDir, type TempDir } from '../support/temp';

const adminKey = 'test-admin-key-0123456789';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const MAX = 3;
let pg: TestDatabase;
let db: Database;
let temp: TempDir;
let api: FastifyInstance;
let readOnlyKey: string;
let operatorKey: string;
let subscriberKey: string;

beforeAll(async () => {
  pg = await createTestDatabase(inject('pgUrl'));
  db = createPostgresDatabase(createNodePgExecutor(pg.url), 'postgres');
  await db.migrate();
  temp = await makeTempDir('refdata-api-limits-');
  readOnlyKey = (await createApiKey(db.distribution, { role: 'read-only' })).key;
  operatorKey = (await createApiKey(db.distribution, { role: 'operator' })).key;
  subscriberKey = (await createApiKey(db.distribution, { role: 'subscriber', subscriberId: 'sub-a' })).key;
  // A window far longer than the test: no request here can see the bucket refill.
  api = await buildApi({ db, client: new Client({ namespace: 'default' }), log: silentLogger(), dropRoot: temp.path, adminKey, rateLimit: { max: MAX, windowMs: 60 * 60 * 1000 } });
});
afterAll(async () => {
  await api?.close();
  await db?.close();
  await pg?.drop();
  await temp?.cleanup();
});

async function burst(n: number, headers: Record<string, string>, remoteAddress = '127.0.0.1') {
  const answers = [];
  for (let i = 0; i < n; i++) answers.push(await api.inject({ method: 'GET', url: '/api/v1/files', headers, remoteAddress }));
  return answers;
}

describe('request rate limits per key', () => {
  it('a key gets MAX requests per window, then 429 with Retry-After and a clear message', async () => {
    const answers = await burst(MAX + 2, bearer(adminKey));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 429, 429]);
    const refused = answers[MAX]!;
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(refused.json().error.message).toMatch(/too many requests: at most 3 per 3600 s/);
  });

  it('another key, from the same address, has its own bucket', async () => {
    const answers = await burst(MAX + 1, bearer(readOnlyKey));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 429]);
  });

  it('without a valid key, requests count against the client address, and made-up tokens share that bucket', async () => {
    const answers = [
      ...(await burst(2, {}, '192.0.2.7')),
      ...(await burst(2, bearer('rdk_made-up-1'), '192.0.2.7')),
      ...(await burst(1, bearer('rdk_made-up-2'), '192.0.2.7')),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([401, 401, 401, 429, 429]);
    expect(answers[4]!.headers['retry-after']).toBeDefined();
    // Another address is not affected.
    expect((await burst(1, {}, '192.0.2.8'))[0]!.statusCode).toBe(401);
  });
});

describe('request body limits per route', () => {
  const BODY_MAX = 2048;
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApi({ db, client: new Client({ namespace: 'default' }), log: silentLogger(), dropRoot: temp.path, adminKey, bodyMaxBytes: BODY_MAX, planMaxBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** A multipart body with one CSV part of about `bytes` bytes. */
  function upload(bytes: number) {
    const boundary = 'refdata-test-boundary';
    const rows = ['isin,name'];
    for (let i = 0; rows.join('\n').length < bytes; i++) rows.push(`INE${String(i).padStart(9, '0')},name ${i}`);
    const payload = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="isin_master.csv"\r\nContent-Type: text/csv\r\n\r\n${rows.join('\n')}\n\r\n--${boundary}--\r\n`,
    );
    return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
  }

  it('a JSON body beyond the default answers 413 naming the limit and its setting', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/reporting/subscribe', headers: { ...bearer(adminKey), 'content-type': 'application/json' }, payload: JSON.stringify({ pad: 'x'.repeat(BODY_MAX * 2) }) });
    expect(res.statusCode, res.body).toBe(413);
    expect(res.json()).toEqual({ error: { code: 'BODY_TOO_LARGE', message: expect.stringContaining(`larger than ${BODY_MAX} bytes (REFDATA_BODY_MAX_BYTES)`) } });
  });

  it('the plan upload takes more than the default from an operator', async () => {
    const { payload, headers } = upload(BODY_MAX * 5);
    const res = await app.inject({ method: 'POST', url: '/api/v1/plan', headers: { ...bearer(operatorKey), ...headers }, payload });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().rowCount).toBeGreaterThan(100);
  });

  it.each([['read-only', () => readOnlyKey], ['subscriber', () => subscriberKey]])('a %s key cannot send the plan upload: 403 before the body is read', async (_role, key) => {
    const { payload, headers } = upload(BODY_MAX * 5);
    const res = await app.inject({ method: 'POST', url: '/api/v1/plan', headers: { ...bearer(key()), ...headers }, payload });
    expect(res.statusCode, res.body).toBe(403);
  });

  it('the plan upload has its own, larger limit: beyond it 413', async () => {
    const { payload, headers } = upload(80 * 1024);
    const res = await app.inject({ method: 'POST', url: '/api/v1/plan', headers: { ...bearer(operatorKey), ...headers }, payload });
    expect(res.statusCode, res.body).toBe(413);
    expect(res.json().error.code).toBe('FILE_TOO_LARGE');
  });
});

describe('the dashboard page', () => {
  it('sends a strict Content-Security-Policy: nothing inline, nothing from elsewhere, no framing', async () => {
    const res = await api.inject({ method: 'GET', url: '/', remoteAddress: '192.0.2.50' });
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v.join(' ')]));
    expect(directives).toMatchObject({ 'default-src': "'none'", 'script-src': "'self'", 'style-src': "'self'", 'connect-src': "'self'", 'frame-ancestors': "'none'", 'base-uri': "'none'", 'form-action': "'none'" });
    expect(csp).not.toMatch(/unsafe-|\*/);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('the event stream never takes a key from its URL: a key in the query string alone is refused (4401)', async () => {
    const app = await buildApi({ db, client: new Client({ namespace: 'default' }), log: silentLogger(), dropRoot: temp.path, adminKey });
    try {
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      const ws = new WebSocket(`${address.replace('http', 'ws')}/api/v1/events/stream?key=${adminKey}&token=${adminKey}`);
      const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
      expect(code).toBe(4401);
    } finally {
      await app.close();
    }
  });
});

describe('streams per key and slow clients', () => {
  /** Opens the event stream with `key`: 'ready' when the stream started, else the close code. */
  function openStream(address: string, key: string): Promise<{ ws: WebSocket; outcome: 'ready' | number }> {
    const ws = new WebSocket(`${address.replace('http', 'ws')}/api/v1/events/stream`, { headers: bearer(key) });
    return new Promise((resolve) => {
      ws.on('message', (data) => {
        if ((JSON.parse(String(data)) as { type?: string }).type === 'ready') resolve({ ws, outcome: 'ready' });
      });
      ws.once('close', (code) => resolve({ ws, outcome: code }));
    });
  }

  it('a key holds at most REFDATA_STREAMS_PER_KEY open streams (4429 beyond), another key is not held back, a closed one frees its slot', async () => {
    const app = await buildApi({ db, client: new Client({ namespace: 'default' }), log: silentLogger(), dropRoot: temp.path, adminKey, streamsPerKey: 2 });
    const open: WebSocket[] = [];
    try {
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      for (let i = 0; i < 2; i++) {
        const s = await openStream(address, operatorKey);
        open.push(s.ws);
        expect(s.outcome).toBe('ready');
      }
      expect((await openStream(address, operatorKey)).outcome).toBe(4429);
      const other = await openStream(address, adminKey);
      open.push(other.ws);
      expect(other.outcome).toBe('ready');
      const closed = new Promise((resolve) => open[0]!.once('close', resolve));
      open[0]!.close();
      await closed;
      let again: { ws: WebSocket; outcome: 'ready' | number } | null = null;
      // The server sees the close a moment after the client: the slot is free once it has.
      for (let i = 0; i < 50 && again?.outcome !== 'ready'; i++) {
        again = await openStream(address, operatorKey);
        if (again.outcome !== 'ready') await new Promise((r) => setTimeout(r, 100));
      }
      open.push(again!.ws);
      expect(again!.outcome).toBe('ready');
      expect(app.streamLimiter!.open(operatorKey)).toBe(2);
    } finally {
      for (const ws of open) ws.close();
      await app.close();
    }
  });

  it('a client that never finishes its request is cut off with 408 at REFDATA_REQUEST_TIMEOUT_MS', async () => {
    const app = await buildApi({ db, client: new Client({ namespace: 'default' }), log: silentLogger(), dropRoot: temp.path, adminKey, requestTimeoutMs: 1_000 });
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as import('node:net').AddressInfo;
      const net = await import('node:net');
      const socket = net.connect(port, '127.0.0.1');
      // Headers begun, never ended: the request stays incomplete.
      socket.write('GET /api/v1/files HTTP/1.1\r\nHost: x\r\n');
      let answer = '';
      socket.on('data', (d) => (answer += String(d)));
      await new Promise((resolve) => socket.once('close', resolve));
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await app.close();
    }
  });
});
