// The instrument sync end to end: API → Temporal → worker → PostgreSQL, a schedule, and the one-sync lock.
// Only the broker is stood in for (a loopback HTTP server serving generated files): it is outside our reach.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/server';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { instrumentSyncWorkflowId, scheduleIds } from '../../src/ids';
import { silentLogger } from '../../src/log/logger';
import { connectTemporal } from '../../src/temporal/client';
import { applySchedules, scheduleSpecs } from '../../src/temporal/schedules';
import { createApiKey } from '../../src/reporting/api-keys';
import { startWorker, type RunningWorker } from '../../workers/worker';
import { gzip, masterRecords, nextDay, startBroker, toJsonArray, type BrokerServer } from '../support/instrument-files';
import { testInstrumentsConfig } from '../support/instrument-sync-steps';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { makeTempDir, type TempDir } from '../support/temp';
import { namespaceFor, waitFor } from './harness';

const adminKey = 'test-admin-key-0123456789';
const auth = { authorization: `Bearer ${adminKey}` };
let pg: TestDatabase;
let db: Database;
let temp: TempDir;
let broker: BrokerServer;
let connection: Connection;
let client: Client;
let worker: RunningWorker;
let api: FastifyInstance;
const day1 = masterRecords({ equities: 40, indices: 5, futures: 5, options: 140, mcx: 10 });
const day2 = nextDay(day1, { remove: 6, modify: 4, add: 9 });
const config = () => testInstrumentsConfig({ url: broker.url('/complete.json.gz'), fileDir: path.join(temp.path, 'instruments') });
/** Every line the worker logs, to show that no byte of a refused file reaches the log. */
const workerLog: string[] = [];
const workerLogger = pino({ level: 'debug' }, new Writable({ write(chunk: Buffer, _enc, done) { workerLog.push(chunk.toString('utf8')); done(); } }));

beforeAll(async () => {
  pg = await createTestDatabase(inject('pgUrl'));
  db = createPostgresDatabase(createNodePgExecutor(pg.url), 'postgres');
  await db.migrate();
  temp = await makeTempDir('refdata-e2e-sync-');
  await fs.mkdir(path.join(temp.path, 'instruments'));
  broker = await startBroker();
  broker.set('/complete.json.gz', { body: gzip(toJsonArray(day1)) });
  const address = inject('temporalAddress');
  ({ connection, client } = await connectTemporal(address, namespaceFor(__filename)));
  worker = await startWorker({
    address, namespace: namespaceFor(__filename), client, db, log: workerLogger,
    config: { dropoffDir: temp.path, batchRows: 1000, stateDir: temp.path, instruments: config() },
    workflowBundlePath: inject('workflowBundlePath') || undefined,
  });
  api = await buildApi({ db, client, log: silentLogger(), dropRoot: temp.path, adminKey, instruments: config() });
});

afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  await connection?.close();
  await db?.close();
  await pg?.drop();
  await broker?.close();
  await temp?.cleanup();
});

async function startViaApi(body?: Record<string, unknown>): Promise<string> {
  const res = await api.inject({ method: 'POST', url: '/api/v1/instruments/sync', headers: auth, ...(body ? { payload: body } : {}) });
  expect(res.statusCode, res.body).toBe(202);
  return (res.json() as { runId: string }).runId;
}

async function finished(runId: string): Promise<void> {
  await client.workflow.getHandle(instrumentSyncWorkflowId, runId).result().catch(() => undefined);
}

const get = async (url: string) => {
  const res = await api.inject({ method: 'GET', url, headers: auth });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> & { items?: Record<string, unknown>[] } };
};

describe('instrument sync through the API', () => {
  it('refuses a sync without the admin key', async () => {
    const res = await api.inject({ method: 'POST', url: '/api/v1/instruments/sync', payload: {} });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('day 1 from INSTRUMENTS_URL (a POST without a body): the run report and the master are served', async () => {
    const runId = await startViaApi();
    await finished(runId);
    const run = await get(`/api/v1/instruments/sync/${runId}`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ workflowStatus: 'COMPLETED', report: { status: 'succeeded', trigger: 'api', records: 200, added: 200, activeAfter: 200 } });
    const option = await get(`/api/v1/instruments/${encodeURIComponent('NSE_FO|100001')}`);
    expect(option.body).toMatchObject({ instrumentKey: 'NSE_FO|100001', instrumentType: 'PE', lotSize: 50, isActive: true, sourceRecord: { asset_symbol: 'NIFTY' } });
    expect((await get(`/api/v1/instruments/${encodeURIComponent('NSE_FO|nope')}`)).status).toBe(404);
  });

  it('a second request while a sync runs gets 409 with the running run\'s id', async () => {
    broker.set('/slow.json.gz', { body: gzip(toJsonArray(day1)), delayMs: 2500 });
    const runId = await startViaApi({ url: broker.url('/slow.json.gz') });
    const res = await api.inject({ method: 'POST', url: '/api/v1/instruments/sync', headers: auth, payload: {} });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'SYNC_RUNNING', runId, workflowId: instrumentSyncWorkflowId } });
    const progress = await get(`/api/v1/instruments/sync/${runId}`);
    expect(progress.body).toMatchObject({ workflowStatus: 'RUNNING', progress: { phase: 'downloading' } });
    await finished(runId);
    expect((await get(`/api/v1/instruments/sync/${runId}`)).body).toMatchObject({ report: { status: 'succeeded', unchanged: 200 } });
  });

  it('day 2: exact counts, and the filters find what changed', async () => {
    broker.set('/complete.json.gz', { body: gzip(toJsonArray(day2)) });
    const runId = await startViaApi({});
    await finished(runId);
    const { body } = await get(`/api/v1/instruments/sync/${runId}`);
    expect(body.report).toMatchObject({ status: 'succeeded', records: 203, added: 9, updated: 4, deactivated: 6, reactivated: 0, unchanged: 190, activeBefore: 200, activeAfter: 203 });
    const gone = await get('/api/v1/instruments?segment=NSE_FO&active=false');
    expect(gone.body.total).toBe(6);
    const calls = await get('/api/v1/instruments?name=nif&instrument_type=CE&expiry_from=2024-02-01&expiry_to=2024-02-29&active=true&limit=5');
    expect(calls.body.items).toHaveLength(5);
    expect(calls.body.items!.every((i) => i.instrumentType === 'CE' && i.name === 'NIFTY')).toBe(true);
    const stats = await get('/api/v1/instruments/stats');
    expect(stats.body).toMatchObject({ total: 209, active: 203, inactive: 6, bySegment: { NSE_FO: { active: 148, inactive: 6 } }, lastSync: { runId } });
    expect((await get('/api/v1/instruments/sync?limit=2')).body.items![0]).toMatchObject({ runId });
  });

  it('a 403 source fails the run with a message that says what to do; nothing changes', async () => {
    broker.set('/forbidden.json.gz', { status: 403 });
    const runId = await startViaApi({ url: broker.url('/forbidden.json.gz') });
    await finished(runId);
    const { body } = await get(`/api/v1/instruments/sync/${runId}`);
    expect(body).toMatchObject({ workflowStatus: 'FAILED', report: { status: 'failed' } });
    expect((body.report as { errorMessage: string }).errorMessage).toMatch(/answered 403 \(Forbidden\).*INSTRUMENTS_BEARER_TOKEN.*refdata sync --file PATH/);
    expect((await get('/api/v1/instruments/stats')).body).toMatchObject({ active: 203 });
  });

  it('a stored operator key starts a sync from a file in the instruments folder, like every other write route', async () => {
    const { key } = await createApiKey(db.distribution, { role: 'operator', label: 'ops' });
    await fs.writeFile(path.join(temp.path, 'instruments', 'day2.json.gz'), gzip(toJsonArray(day2)));
    const res = await api.inject({ method: 'POST', url: '/api/v1/instruments/sync', headers: { authorization: `Bearer ${key}` }, payload: { file: 'day2.json.gz' } });
    expect(res.statusCode, res.body).toBe(202);
    const { runId } = res.json() as { runId: string };
    await finished(runId);
    expect((await get(`/api/v1/instruments/sync/${runId}`)).body).toMatchObject({ report: { status: 'succeeded', trigger: 'api', records: 203, unchanged: 203 } });
  });
});

describe('the secrets-key chain (sync a file outside the instruments folder, read its content back from a message)', () => {
  // Shaped like the state folder's secrets-key: base64 of 32 random bytes.
  const secret = crypto.randomBytes(32).toString('base64');
  const keyFile = () => path.join(temp.path, 'secrets-key');
  /** Every run, the recent events and the worker's log: none may hold any 8 characters of the key in a row. */
  async function expectNoTraceOfTheKey(): Promise<void> {
    const runs = await api.inject({ method: 'GET', url: '/api/v1/instruments/sync?limit=50', headers: auth });
    const events = await api.inject({ method: 'GET', url: '/api/v1/events/recent?limit=200', headers: auth });
    const stored = await db.instruments.listSyncRuns(50);
    const everything = [runs.body, events.body, JSON.stringify(stored), workerLog.join('')].join('\n');
    for (let i = 0; i + 8 <= secret.length; i++) expect(everything).not.toContain(secret.slice(i, i + 8));
  }
  beforeAll(async () => {
    await fs.writeFile(keyFile(), `${secret}\n`, { mode: 0o600 });
  });

  it('the API refuses the key\'s path (absolute, or with ..) with 400, and does not repeat it', async () => {
    for (const file of [keyFile(), '../secrets-key', 'sub/../../secrets-key', '/etc/passwd']) {
      const res = await api.inject({ method: 'POST', url: '/api/v1/instruments/sync', headers: auth, payload: { file } });
      expect(res.statusCode, file).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'SOURCE_REFUSED', message: expect.stringMatching(/only read files inside the instruments folder/) } });
      expect(res.body).not.toContain('secrets-key');
    }
    await expectNoTraceOfTheKey();
  });

  it('a symlink in the folder that leads to the key passes the API\'s check but the worker refuses its real path', async () => {
    await fs.symlink(keyFile(), path.join(temp.path, 'instruments', 'master.json'));
    const res = await api.inject({ method: 'POST', url: '/api/v1/instruments/sync', headers: auth, payload: { file: 'master.json' } });
    expect(res.statusCode, res.body).toBe(202);
    const { runId } = res.json() as { runId: string };
    await finished(runId);
    const run = (await get(`/api/v1/instruments/sync/${runId}`)).body as { report: { status: string; errorMessage: string } };
    expect(run.report.status).toBe('failed');
    expect(run.report.errorMessage).toMatch(/only read files inside the instruments folder/);
    await expectNoTraceOfTheKey();
  });

  it('the key copied into the folder is read, recognised as no instrument file, and described only by its kind', async () => {
    await fs.copyFile(keyFile(), path.join(temp.path, 'instruments', 'copied-key.txt'));
    const runId = await startViaApi({ file: 'copied-key.txt' });
    await finished(runId);
    const run = (await get(`/api/v1/instruments/sync/${runId}`)).body as { report: { status: string; errorMessage: string } };
    expect(run.report).toMatchObject({ status: 'failed' });
    expect(run.report.errorMessage).toMatch(/neither a JSON array, NDJSON nor an instrument CSV: it looks like text of no known instrument layout/);
    await expectNoTraceOfTheKey();
    expect((await get('/api/v1/instruments/stats')).body).toMatchObject({ active: 203 });
  });

  it('the API refuses URLs aimed at loopback or the cloud metadata address when private destinations are not allowed', async () => {
    const strict = await buildApi({ db, client, log: silentLogger(), dropRoot: temp.path, adminKey, instruments: { ...config(), allowPrivateNetworks: false } });
    try {
      for (const url of [broker.url('/complete.json.gz'), 'http://169.254.169.254/latest/meta-data/', 'http://localhost:9/x', 'http://[::1]:9/x']) {
        const res = await strict.inject({ method: 'POST', url: '/api/v1/instruments/sync', headers: auth, payload: { url } });
        expect(res.statusCode, url).toBe(400);
        expect(res.json()).toMatchObject({ error: { code: 'SOURCE_REFUSED', message: expect.stringMatching(/private\/loopback\/link-local/) } });
      }
    } finally {
      await strict.close();
    }
  });
});

describe('the daily schedule', () => {
  afterAll(async () => client.schedule.getHandle(scheduleIds.instrumentSync).delete().catch(() => undefined));

  it('is created, then updated in place (06:00 Asia/Kolkata, overlap skip); its run syncs through the fixed id', async () => {
    const specs = scheduleSpecs({ instruments: config() });
    expect(await applySchedules(client, specs)).toEqual([{ scheduleId: scheduleIds.instrumentSync, action: 'created', paused: false }]);
    expect(await applySchedules(client, specs)).toEqual([{ scheduleId: scheduleIds.instrumentSync, action: 'updated', paused: false }]);
    const handle = client.schedule.getHandle(scheduleIds.instrumentSync);
    const desc = await handle.describe();
    expect(desc.spec.timezone).toBe('Asia/Kolkata');
    expect(desc.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 6, end: 6, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] });
    expect(desc.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    await handle.trigger();
    const run = await waitFor('the scheduled sync', async () => (await db.instruments.listSyncRuns(10)).find((r) => r.trigger === 'schedule' && r.status === 'succeeded'), 60_000);
    expect(run).toMatchObject({ workflowId: instrumentSyncWorkflowId, unchanged: 203 });
  });
});
