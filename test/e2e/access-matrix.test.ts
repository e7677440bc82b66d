// The access matrix: every route of the running server (read from its own route table, so a new route without an
// entry here fails) × no key, each role, and another subscriber's key → the status it must answer, over real HTTP
// against a real database and Temporal. docs/operations.md shows the same matrix (checked here; REFDATA_WRITE_DOCS=1
// rewrites it).
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { routeTableOf } from '../../src/api/route-owner';
import { createApiKey } from '../../src/reporting/api-keys';
import { startSystem, type System } from './harness';

const callers = ['none', 'admin', 'operator', 'read-only', 'subscriber', 'other subscriber'] as const;
type CallerName = (typeof callers)[number];
type Expect = Record<CallerName, number>;

/** 401 without a key, 403 for a key of another role, `ok` for the roles named. */
function allow(roles: readonly CallerName[], ok: number): Expect {
  return Object.fromEntries(callers.map((c) => [c, c === 'none' ? 401 : roles.includes(c) ? ok : 403])) as Expect;
}
const everyone = (status: number): Expect => Object.fromEntries(callers.map((c) => [c, status])) as Expect;
const staffRead = (ok: number) => allow(['admin', 'operator', 'read-only'], ok);
const staff = (ok: number) => allow(['admin', 'operator'], ok);
const reportingUsers = (ok: number) => allow(['admin', 'operator', 'subscriber', 'other subscriber'], ok);

interface Request {
  url: string;
  body?: unknown;
}

interface Entry {
  /** `METHOD url-pattern` as the route table has it. */
  route: string;
  /** What is sent; a function when the subscriber and the other subscriber aim at the subscriber's own resource. */
  request: Request | ((caller: CallerName) => Request);
  expect: Expect;
  /** Shown in the docs table. */
  note?: string;
}

let sys: System;
let base: string;
const keys: Partial<Record<CallerName, string>> = {};
let subscriptionId = '';

/** WebSocket outcomes: 1000 the stream started (its first message arrived), else the close code. */
const STARTED = 1000;

function matrix(): Entry[] {
  return [
    { route: 'GET /health', request: { url: '/health' }, expect: everyone(200), note: 'without a key only `{"status":"up"}`' },
    { route: 'GET /metrics', request: { url: '/metrics' }, expect: staffRead(200) },
    { route: 'GET /', request: { url: '/' }, expect: everyone(200), note: 'static page shell, no data' },
    { route: 'GET /dashboard/:asset', request: { url: '/dashboard/app.js' }, expect: everyone(200), note: 'static script and styles' },
    { route: 'GET /docs', request: { url: '/docs' }, expect: staffRead(200) },
    { route: 'GET /docs/json', request: { url: '/docs/json' }, expect: staffRead(200) },
    { route: 'GET /docs/yaml', request: { url: '/docs/yaml' }, expect: staffRead(200) },
    { route: 'GET /docs/static/*', request: { url: '/docs/static/swagger-ui.css' }, expect: staffRead(200) },
    { route: 'GET /docs/static/index.html', request: { url: '/docs/static/index.html' }, expect: staffRead(302), note: 'redirects to /docs/' },
    { route: 'GET /docs/static/swagger-initializer.js', request: { url: '/docs/static/swagger-initializer.js' }, expect: staffRead(200) },
    { route: 'GET /api/v1/files', request: { url: '/api/v1/files' }, expect: staffRead(200) },
    { route: 'GET /api/v1/files/:id', request: { url: '/api/v1/files/999999' }, expect: staffRead(404) },
    { route: 'POST /api/v1/files/:id/cancel', request: { url: '/api/v1/files/999999/cancel' }, expect: staff(404) },
    { route: 'POST /api/v1/files', request: { url: '/api/v1/files', body: { path: '../outside.csv' } }, expect: staff(400), note: 'a path outside the drop root' },
    { route: 'GET /api/v1/instruments', request: { url: '/api/v1/instruments' }, expect: staffRead(200) },
    { route: 'GET /api/v1/instruments/stats', request: { url: '/api/v1/instruments/stats' }, expect: staffRead(200) },
    { route: 'GET /api/v1/instruments/:key', request: { url: '/api/v1/instruments/NSE_EQ%7Cnone' }, expect: staffRead(404) },
    { route: 'GET /api/v1/instruments/sync', request: { url: '/api/v1/instruments/sync' }, expect: staffRead(200) },
    { route: 'GET /api/v1/instruments/sync/:runId', request: { url: '/api/v1/instruments/sync/no-such-run' }, expect: staffRead(404) },
    { route: 'POST /api/v1/instruments/sync', request: { url: '/api/v1/instruments/sync', body: { file: '../state/secrets-key' } }, expect: staff(400), note: 'a path outside the instruments folder' },
    { route: 'GET /api/v1/loads', request: { url: '/api/v1/loads' }, expect: staffRead(200) },
    { route: 'POST /api/v1/loads/:loadId/revert', request: { url: '/api/v1/loads/no-such-load/revert' }, expect: staff(404) },
    { route: 'GET /api/v1/tables', request: { url: '/api/v1/tables' }, expect: staffRead(200) },
    { route: 'GET /api/v1/tables/:schema/:name', request: { url: '/api/v1/tables/ref/no_such_table' }, expect: staffRead(404) },
    { route: 'GET /api/v1/reference-config/problems', request: { url: '/api/v1/reference-config/problems' }, expect: staffRead(200) },
    { route: 'POST /api/v1/reference-config/repair', request: { url: '/api/v1/reference-config/repair' }, expect: staff(200), note: 'repairs ref.reference_data_cfg (nothing to repair here)' },
    { route: 'POST /api/v1/plan', request: { url: '/api/v1/plan', body: {} }, expect: staff(400), note: 'an empty request' },
    { route: 'GET /api/v1/errors/summary', request: { url: '/api/v1/errors/summary' }, expect: staffRead(200) },
    { route: 'GET /api/v1/dashboard/session', request: { url: '/api/v1/dashboard/session' }, expect: staff(200) },
    { route: 'GET /api/v1/dashboard/deliveries', request: { url: '/api/v1/dashboard/deliveries' }, expect: staff(200) },
    { route: 'GET /api/v1/events/recent', request: { url: '/api/v1/events/recent' }, expect: staff(200) },
    { route: 'GET /api/v1/notifications', request: { url: '/api/v1/notifications' }, expect: staffRead(200) },
    { route: 'GET /api/v1/events/stream', request: { url: '/api/v1/events/stream' }, expect: { ...allow(['admin', 'operator'], STARTED), none: 4401, 'read-only': 4403, subscriber: 4403, 'other subscriber': 4403 }, note: 'WebSocket: 1000 = stream started, else the close code' },
    { route: 'GET /api/v1/stats/loads', request: { url: '/api/v1/stats/loads' }, expect: staffRead(200) },
    { route: 'GET /api/v1/stats/failures', request: { url: '/api/v1/stats/failures?from=2025-06-01&to=2025-06-15' }, expect: staffRead(200) },
    { route: 'GET /api/v1/stats/deliveries', request: { url: '/api/v1/stats/deliveries' }, expect: staffRead(200) },
    { route: 'GET /api/v1/stats/syncs', request: { url: '/api/v1/stats/syncs?from=2025-06-15&to=2025-06-01' }, expect: staffRead(400), note: 'from after to' },
    { route: 'POST /distribute-full', request: { url: '/distribute-full?date=not-a-date' }, expect: staff(400), note: 'an invalid date' },
    { route: 'POST /distribute-delta', request: { url: '/distribute-delta?date=20240101' }, expect: staff(400), note: 'a date (deltas take none)' },
    { route: 'POST /api/v1/distribution/distribute-full', request: { url: '/api/v1/distribution/distribute-full?date=not-a-date' }, expect: staff(400), note: 'an invalid date' },
    { route: 'POST /api/v1/distribution/distribute-delta', request: { url: '/api/v1/distribution/distribute-delta?date=20240101' }, expect: staff(400), note: 'a date (deltas take none)' },
    { route: 'POST /api/v1/distribution/retry-failed', request: { url: '/api/v1/distribution/retry-failed', body: { date: '2024-02-30' } }, expect: staff(400), note: 'a date the month does not have' },
    { route: 'GET /api/v1/distribution/runs', request: { url: '/api/v1/distribution/runs' }, expect: staff(200) },
    { route: 'GET /api/v1/distribution/runs/:id', request: { url: '/api/v1/distribution/runs/no-such-run' }, expect: staff(404) },
    { route: 'GET /api/v1/distribution/runs/:id/files/:name', request: { url: '/api/v1/distribution/runs/no-such-run/files/x.csv' }, expect: staff(404) },
    { route: 'POST /api/v1/reporting/subscribe', request: { url: '/api/v1/reporting/subscribe', body: { subscriber_id: 'sub-a' } }, expect: reportingUsers(400), note: 'an incomplete body' },
    { route: 'GET /api/v1/reporting/subscriptions/:subscriber_id', request: { url: '/api/v1/reporting/subscriptions/sub-a' }, expect: { ...reportingUsers(200), 'other subscriber': 404 }, note: 'the subscriber\'s own (`sub-a`)' },
    {
      route: 'PATCH /api/v1/reporting/subscriptions/:subscription_id',
      request: () => ({ url: `/api/v1/reporting/subscriptions/${subscriptionId}`, body: { action: 'resume' } }),
      expect: { ...reportingUsers(200), 'other subscriber': 404 },
      note: 'resume `sub-a`\'s subscription (new content is the same rule: own only)',
    },
    {
      route: 'DELETE /api/v1/reporting/subscriptions/:subscription_id',
      request: (c) => ({ url: `/api/v1/reporting/subscriptions/${c === 'other subscriber' ? subscriptionId : 'no-such-subscription'}` }),
      expect: { ...reportingUsers(404), 'other subscriber': 404 },
      note: 'another subscriber aims at `sub-a`\'s',
    },
    {
      route: 'POST /api/v1/reporting/subscriptions/:subscription_id/deliver-now',
      request: () => ({ url: `/api/v1/reporting/subscriptions/${subscriptionId}/deliver-now` }),
      expect: { ...reportingUsers(202), 'other subscriber': 404 },
      note: '`sub-a`\'s subscription (nothing held: an empty list)',
    },
    { route: 'POST /api/v1/reporting/deliver', request: { url: '/api/v1/reporting/deliver', body: {} }, expect: staff(400), note: 'an empty body' },
    { route: 'GET /api/v1/reporting/delivery/:delivery_id/status', request: { url: '/api/v1/reporting/delivery/no-such-delivery/status' }, expect: reportingUsers(404) },
    { route: 'POST /api/v1/reporting/delivery/:delivery_id/replay', request: { url: '/api/v1/reporting/delivery/no-such-delivery/replay', body: {} }, expect: reportingUsers(404) },
    { route: 'POST /api/v1/reporting/deliveries/replay', request: { url: '/api/v1/reporting/deliveries/replay', body: { dry_run: true } }, expect: staff(200), note: 'a dry run' },
    { route: 'GET /api/v1/downloads/:delivery_id/:name', request: { url: '/api/v1/downloads/dlv_none/20250621_full.csv' }, expect: everyone(403), note: 'access `signed`: no key, the signed link in an email is the permission; without a valid signature 403, past its expiry 410' },
    { route: 'GET /api/v1/reporting/stats', request: { url: '/api/v1/reporting/stats' }, expect: reportingUsers(200), note: 'a subscriber sees its own deliveries' },
    { route: 'GET /api/v1/reporting/channels', request: { url: '/api/v1/reporting/channels' }, expect: reportingUsers(200), note: 'a subscriber sees its own channels' },
    { route: 'POST /api/v1/reporting/channels/:channel_id/resume', request: { url: '/api/v1/reporting/channels/no-such-channel/resume' }, expect: staff(404) },
    { route: 'PATCH /api/v1/reporting/channels/:channel_id', request: { url: '/api/v1/reporting/channels/no-such-channel', body: { enabled: true } }, expect: allow(['admin', 'subscriber', 'other subscriber'], 404) },
    {
      route: 'GET /api/v1/reporting/stream',
      request: () => ({ url: `/api/v1/reporting/stream?subscription_id=${subscriptionId}` }),
      expect: { ...allow(['admin', 'operator', 'subscriber'], STARTED), none: 4401, 'read-only': 4404, 'other subscriber': 4404 },
      note: 'WebSocket on `sub-a`\'s subscription',
    },
  ];
}

async function httpStatus(method: string, req: Request, key: string | undefined): Promise<number> {
  const res = await fetch(`${base}${req.url}`, {
    method,
    redirect: 'manual',
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(req.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: req.body === undefined ? undefined : JSON.stringify(req.body),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Opens the socket, sends the key as the first message (or a made-up one), and reports how it went. */
function socketOutcome(req: Request, key: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}${req.url}`);
    const timer = setTimeout(() => reject(new Error(`no answer on ${req.url}`)), 15_000);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', key: key ?? 'rdk_not-a-key' })));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { type?: string };
      if (msg.type === 'error') return;
      clearTimeout(timer);
      ws.close();
      resolve(STARTED);
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    ws.on('error', reject);
  });
}

beforeAll(async () => {
  sys = await startSystem({ testFile: __filename, database: 'postgres' });
  await sys.api.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(sys.api.server.address() as AddressInfo).port}`;
  keys.admin = sys.adminKey;
  keys.operator = (await createApiKey(sys.db.distribution, { role: 'operator' })).key;
  keys['read-only'] = (await createApiKey(sys.db.distribution, { role: 'read-only' })).key;
  keys.subscriber = (await createApiKey(sys.db.distribution, { role: 'subscriber', subscriberId: 'sub-a' })).key;
  keys['other subscriber'] = (await createApiKey(sys.db.distribution, { role: 'subscriber', subscriberId: 'sub-b' })).key;
  const res = await fetch(`${base}/api/v1/reporting/subscribe`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.subscriber}`, 'content-type': 'application/json' },
    body: JSON.stringify({ subscriber_id: 'sub-a', report_types: ['PERFORMANCE_REPORT'], delivery_preferences: { channels: ['DASHBOARD_NOTIFICATION'] } }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  subscriptionId = ((await res.json()) as { subscription: { subscription_id: string } }).subscription.subscription_id;
}, 120_000);
afterAll(async () => sys?.stop());

/** The matrix as a markdown table: one row per route, one column per caller. */
function markdownTable(entries: Entry[]): string {
  const head = `| route | ${callers.join(' | ')} | request |\n| --- | ${callers.map(() => '---').join(' | ')} | --- |`;
  const rows = entries.map((e) => `| \`${e.route}\` | ${callers.map((c) => String(e.expect[c])).join(' | ')} | ${e.note ?? ''} |`);
  return [head, ...rows].join('\n');
}

describe('the access matrix', () => {
  it('has exactly one entry for every route the server serves (HEAD routes follow their GET)', () => {
    const served = routeTableOf(sys.api).filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`);
    const listed = matrix().map((e) => e.route);
    expect([...new Set(served)].sort()).toEqual([...listed].sort());
    for (const head of routeTableOf(sys.api).filter((r) => r.method === 'HEAD')) {
      // fastify also answers HEAD on a prefix's trailing-slash form (/docs/).
      expect(served, `HEAD ${head.url} without its GET`).toContain(`GET ${head.url.length > 1 ? head.url.replace(/\/$/, '') : head.url}`);
    }
  });

  it('every route answers each caller as the matrix says', async () => {
    const socketRoutes = new Set(routeTableOf(sys.api).filter((r) => r.websocket).map((r) => `${r.method} ${r.url}`));
    const wrong: string[] = [];
    for (const entry of matrix()) {
      const [method] = entry.route.split(' ') as [string];
      for (const caller of callers) {
        const req = typeof entry.request === 'function' ? entry.request(caller) : entry.request;
        const key = caller === 'none' ? undefined : keys[caller];
        const got = socketRoutes.has(entry.route) ? await socketOutcome(req, key) : await httpStatus(method, req, key);
        if (got !== entry.expect[caller]) wrong.push(`${entry.route} as ${caller}: ${got}, expected ${entry.expect[caller]}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 240_000);

  it('no route answers a request without a key with data, except the public ones; /health then says only up or down', async () => {
    const health = await fetch(`${base}/health`);
    expect(await health.json()).toEqual({ status: 'up' });
    const open = routeTableOf(sys.api).filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`);
    expect(open.sort()).toEqual(['GET /', 'GET /dashboard/:asset', 'GET /health', 'HEAD /', 'HEAD /dashboard/:asset', 'HEAD /health']);
    // Without a key, but only with a signature the API issued (a download link in an email): 403 without one.
    const signed = routeTableOf(sys.api).filter((r) => r.access === 'signed').map((r) => `${r.method} ${r.url}`);
    expect(signed.sort()).toEqual(['GET /api/v1/downloads/:delivery_id/:name', 'HEAD /api/v1/downloads/:delivery_id/:name']);
  });

  it('docs/operations.md shows this matrix', () => {
    const file = path.join(__dirname, '../../docs/operations.md');
    const doc = fs.readFileSync(file, 'utf8');
    const table = markdownTable(matrix());
    const block = /(<!-- access-matrix:start -->\n)[\s\S]*?(\n<!-- access-matrix:end -->)/;
    if (process.env.REFDATA_WRITE_DOCS === '1') fs.writeFileSync(file, doc.replace(block, (_m, a: string, b: string) => `${a}${table}${b}`));
    expect(block.exec(fs.readFileSync(file, 'utf8'))?.[0]).toBe(`<!-- access-matrix:start -->\n${table}\n<!-- access-matrix:end -->`);
  });
});
