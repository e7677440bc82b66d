// The nightly distribution end to end, as a scripted week: syncs and a file load feed PostgreSQL, the API starts runs
// on the real dev server and worker, files are checked row by row, backed up, and a subscriber's webhook receives them.
// Only the broker (instrument files) and the subscriber (webhook receiver) are stood in for, on loopback.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ScheduleOverlapPolicy, type Client, type Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { buildApi } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { distributionWorkflowId, instrumentSyncWorkflowId, scheduleIds } from '../../src/ids';
import { silentLogger } from '../../src/log/logger';
import { connectTemporal, signalFileWorkflow } from '../../src/temporal/client';
import { applySchedules, scheduleSpecs } from '../../src/temporal/schedules';
import { ensureDropFolders } from '../../src/watcher';
import { startWorker, type RunningWorker } from '../../workers/worker';
import { gzip, masterRecords, nextDay, startBroker, toJsonArray, type BrokerServer, type UpstoxRecord } from '../support/instrument-files';
import { testInstrumentsConfig } from '../support/instrument-sync-steps';
import { parseMultipart, startHttpReceiver, type HttpReceiver } from '../support/peers/http-receiver';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { memoryEvents, testSecretsKey } from '../support/reporting';
import { changesBetween, checkManifest, keysOf, readCsv, readJson, sha256, type ManifestJson } from '../support/distribution-files';
import { instrumentCsv, namespaceFor, waitFor } from './harness';

const adminKey = 'test-admin-key-distribution-0123456789';
const auth = { authorization: `Bearer ${adminKey}` };
const namespace = namespaceFor(__filename);
let pg: TestDatabase;
let db: Database;
let state: string;
let broker: BrokerServer;
let receiver: HttpReceiver;
let connection: Connection;
let client: Client;
let worker: RunningWorker;
let api: FastifyInstance;
let secret: string;
const events = memoryEvents();
const distribution = () => ({ ...loadConfig({ REFDATA_STATE_DIR: state, REFDATA_DISTRIBUTION_TIMEZONE: 'UTC', REFDATA_DISTRIBUTION_CATCHUP_HOURS: '30' }).distribution });
const day1 = masterRecords({ equities: 40, indices: 5, futures: 5, options: 140, mcx: 10 });
const broken: UpstoxRecord = { ...day1[60]!, instrument_key: 'NSE_FO|999999', exchange_token: '999999', lot_size: 'many' as unknown as number };
const day2 = [...nextDay(day1, { remove: 6, modify: 4, add: 9 }), broken];
const valid2 = day2.filter((r) => r !== broken);

beforeAll(async () => {
  pg = await createTestDatabase(inject('pgUrl'));
  db = createPostgresDatabase(createNodePgExecutor(pg.url, { max: 20 }), 'postgres');
  await db.migrate();
  state = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-e2e-dist-'));
  await ensureDropFolders(path.join(state, 'drop'));
  broker = await startBroker();
  receiver = await startHttpReceiver();
  ({ connection, client } = await connectTemporal(inject('temporalAddress'), namespace));
  const config = loadConfig({ REFDATA_ALLOW_PRIVATE_DESTINATIONS: 'true' });
  worker = await startWorker({
    address: inject('temporalAddress'), namespace, client, db, log: silentLogger(),
    config: {
      dropoffDir: path.join(state, 'drop'), batchRows: 5000, stateDir: state, invalidRows: config.invalidRows, reporting: config.reporting,
      instruments: testInstrumentsConfig({ url: broker.url('/complete.json.gz') }), distribution: distribution(),
    },
    delivery: { secretsKey: testSecretsKey, events },
    workflowBundlePath: inject('workflowBundlePath') || undefined,
  });
  api = await buildApi({
    db, client, log: silentLogger(), dropRoot: path.join(state, 'drop'), adminKey, distribution: distribution(),
    reporting: { secretsKey: testSecretsKey, allowPrivateDestinations: true, reportRoots: [state], retry: config.reporting.retry, streamPollMs: 200 },
  });
});

afterAll(async () => {
  await client?.schedule.getHandle(scheduleIds.distribution).delete().catch(() => undefined);
  await api?.close();
  await worker?.shutdown();
  await connection?.close();
  await db?.close();
  await pg?.drop();
  await broker?.close();
  await receiver?.close();
  fs.rmSync(state, { recursive: true, force: true });
});

async function sync(records: UpstoxRecord[]): Promise<void> {
  broker.set('/complete.json.gz', { body: gzip(toJsonArray(records)) });
  const res = await api.inject({ method: 'POST', url: '/api/v1/instruments/sync', headers: auth, payload: {} });
  expect(res.statusCode, res.body).toBe(202);
  await client.workflow.getHandle(instrumentSyncWorkflowId, (res.json() as { runId: string }).runId).result();
}

/** Starts a run through the API and waits for its workflow; returns the run as GET shows it. */
async function distribute(url: string, payload?: Record<string, unknown>): Promise<RunView> {
  const res = await api.inject({ method: 'POST', url, headers: auth, ...(payload ? { payload } : {}) });
  expect(res.statusCode, res.body).toBe(202);
  const started = res.json() as { runId: string; workflowId: string; workflowRunId: string };
  await client.workflow.getHandle(started.workflowId, started.workflowRunId).result();
  return runView(started.runId);
}

interface RunView {
  runId: string;
  status: string;
  attempts: number;
  submissionId: string;
  watermark: { from: string | null; to: string };
  counts: Record<string, number | null>;
  files: Array<{ name: string; rows: number; bytes: number; sha256: string; url: string }>;
  deliveries: Array<{ deliveryId: string; status: string; channel: string }>;
}

async function runView(runId: string): Promise<RunView> {
  const res = await api.inject({ method: 'GET', url: `/api/v1/distribution/runs/${runId}`, headers: auth });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as RunView;
}

const dirOf = (runId: string) => path.join(state, 'distribution', runId.slice(0, 8));

/** The webhook request of a delivery: signature checked, multipart parts by file name. */
async function received(deliveryId: string): Promise<Map<string, Buffer>> {
  const req = await waitFor(`the webhook of ${deliveryId}`, async () => receiver.requests.find((r) => r.headers['webhook-id'] === deliveryId), 60_000);
  const manifest = Buffer.from(String(req.headers['webhook-manifest']), 'base64').toString('utf8');
  new Webhook(secret).verify(manifest, req.headers as Record<string, string>);
  return new Map(parseMultipart(req.body, String(req.headers['content-type'])).filter((p) => p.name === 'file').map((p) => [p.fileName!, p.data]));
}

describe('a scripted week of distribution', () => {
  it('a subscriber subscribes to REFERENCE_DATA with a webhook that takes the files as multipart', async () => {
    const res = await api.inject({
      method: 'POST', url: '/api/v1/reporting/subscribe', headers: auth,
      payload: { subscriber_id: 'hubex', report_types: ['REFERENCE_DATA'], delivery_preferences: { channels: [{ channel_type: 'API_WEBHOOK', config: { url: receiver.url('/api/distribute'), format: 'multipart' } }] } },
    });
    expect(res.statusCode, res.body).toBe(201);
    secret = (res.json() as { generated_secrets: { secret: string }[] }).generated_secrets[0]!.secret;
  });

  it('day 1: a sync and a file load (2 invalid rows); the nightly set lists all of it and reaches the subscriber', async () => {
    await sync(day1);
    const lines = instrumentCsv(30_000).split('\n');
    for (const r of [25_000, 28_000]) lines[r] = lines[r]!.replace(/,(\d{4}-\d\d-\d\d),/, ',not-a-date,');
    const file = path.join(state, 'drop', 'reference_data_table/append', 'listed_symbols_20240304.csv');
    fs.writeFileSync(file, lines.join('\n'));
    const load = await signalFileWorkflow(client, { dropRoot: path.join(state, 'drop'), filePath: file, stability: { checks: 1, intervalMs: 0, maxWaitMs: 60_000 }, skipStability: true });
    if (!('workflowId' in load)) throw new Error(load.ignored);
    await client.workflow.getHandle(load.workflowId).result();
    // The operator names the dataset's key, which makes it part of the distribution.
    const sql = createNodePgExecutor(pg.url);
    await sql.query(`UPDATE ref.reference_data_cfg SET key_column = 'instrument_key' WHERE table_name = 'listed_symbols'`).finally(() => sql.close());

    expect((await api.inject({ method: 'POST', url: '/distribute-full?date=2024-03-04' })).statusCode).toBe(401);
    const run = await distribute('/distribute-full?date=2024-03-04');
    const dir = dirOf(run.runId);
    expect(run).toMatchObject({ runId: '20240304', status: 'succeeded', counts: { full: 200, delta: 200, cancellation: 0, invalid: 2 } });
    expect(keysOf(readCsv(dir, '20240304_full.csv').rows as Array<{ instrument_key: string }>)).toEqual(keysOf(day1));
    expect(readCsv(dir, '20240304_listed_symbols_full.csv').rows).toHaveLength(29_998);
    const invalid = readJson<Array<{ source: string; rowNumber: number; errors: string[] }>>(dir, '20240304_invalid.json');
    expect(invalid.map((i) => [i.source, i.rowNumber])).toEqual([['file', 25_000], ['file', 28_000]]);
    const manifest = readJson<ManifestJson>(dir, '20240304_manifest.json');
    checkManifest(dir, manifest);
    for (const f of run.files) expect(sha256(path.join(state, 'distribution-backup', '20240304', f.name))).toBe(f.sha256);
    expect(run.deliveries).toHaveLength(1);
    const parts = await received(run.deliveries[0]!.deliveryId);
    expect([...parts.keys()].sort()).toEqual(run.files.map((f) => f.name).sort());
    for (const f of run.files) expect(parts.get(f.name)!.equals(fs.readFileSync(path.join(dir, f.name)))).toBe(true);
    await waitFor('delivered', async () => (await runView('20240304')).deliveries[0]!.status === 'delivered');
  });

  it('day 2: exact adds, changes and removals in delta and cancellation; the sync\'s invalid record; download by name only', async () => {
    await sync(day2);
    const run = await distribute('/api/v1/distribution/distribute-full', { date: '2024-03-05' });
    const dir = dirOf(run.runId);
    const want = changesBetween(day1, valid2);
    const delta = readCsv(dir, '20240305_delta.csv').rows as Array<{ instrument_key: string; change: string }>;
    expect(keysOf(delta.filter((r) => r.change === 'ADDED'))).toEqual(want.added);
    expect(keysOf(delta.filter((r) => r.change === 'CHANGED'))).toEqual(want.changed);
    expect(delta).toHaveLength(9 + 4);
    const cancelled = readCsv(dir, '20240305_cancellation.csv').rows as Array<{ instrument_key: string; tag: string }>;
    expect(keysOf(cancelled)).toEqual(want.removed);
    expect(cancelled.every((r) => r.tag === 'Cancelled')).toBe(true);
    expect(readJson<Array<{ recordId: string; source: string }>>(dir, '20240305_invalid.json')).toEqual([expect.objectContaining({ recordId: 'NSE_FO|999999', source: 'instrument_sync' })]);
    expect(keysOf(readCsv(dir, '20240305_full.csv').rows as Array<{ instrument_key: string }>)).toEqual(keysOf(valid2));
    checkManifest(dir, readJson<ManifestJson>(dir, '20240305_manifest.json'));

    const full = run.files.find((f) => f.name === '20240305_full.csv')!;
    const dl = await api.inject({ method: 'GET', url: full.url, headers: auth });
    expect(dl.statusCode).toBe(200);
    expect(dl.headers['content-type']).toContain('text/csv');
    expect(dl.rawPayload.equals(fs.readFileSync(path.join(dir, full.name)))).toBe(true);
    for (const name of ['20240305_other.csv', '..%2F..%2Fdistribution-backup%2F20240304%2F20240304_full.csv']) {
      expect((await api.inject({ method: 'GET', url: `/api/v1/distribution/runs/20240305/files/${name}`, headers: auth })).statusCode).toBe(404);
    }
    await received(run.deliveries[0]!.deliveryId);
  });

  it('a re-run of day 2 writes byte-identical files, keeps the watermark and starts no second delivery', async () => {
    const before = await runView('20240305');
    const requests = receiver.requests.length;
    const again = await distribute('/distribute-full', { date: '20240305' });
    expect(again).toMatchObject({ attempts: 2, watermark: before.watermark, submissionId: before.submissionId, deliveries: before.deliveries.map((d) => expect.objectContaining({ deliveryId: d.deliveryId })) });
    expect(again.files.map((f) => [f.name, f.sha256])).toEqual(before.files.map((f) => [f.name, f.sha256]));
    for (const f of again.files) expect(sha256(path.join(dirOf('20240305'), f.name))).toBe(f.sha256);
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.requests.length).toBe(requests);
  });

  it('an intraday delta during the day holds only what changed since the last watermark', async () => {
    const day3 = nextDay(valid2, { remove: 0, modify: 1, add: 0 });
    const want = changesBetween(valid2, day3);
    expect(want).toMatchObject({ added: [], removed: [], changed: [expect.any(String)] });
    await sync(day3);
    const res = await api.inject({ method: 'POST', url: '/distribute-delta', headers: auth });
    expect(res.statusCode, res.body).toBe(202);
    const started = res.json() as { runId: string; workflowId: string; workflowRunId: string };
    expect(started.runId).toMatch(/^\d{8}T\d{6}$/);
    await client.workflow.getHandle(started.workflowId, started.workflowRunId).result();
    const run = await runView(started.runId);
    expect(run.files.map((f) => f.name)).toEqual(['delta', 'cancellation', 'invalid', 'manifest'].map((t) => `${started.runId}_${t}.${t === 'invalid' || t === 'manifest' ? 'json' : 'csv'}`));
    expect(readCsv(dirOf(started.runId), `${started.runId}_delta.csv`).rows.map((r) => [r.change, r.instrument_key])).toEqual([['CHANGED', want.changed[0]]]);
  });

  it('the nightly schedule (01:00, overlap skip, a catch-up window) sends a missed night when backfilled', async () => {
    const specs = scheduleSpecs({ instruments: testInstrumentsConfig({ url: broker.url('/complete.json.gz') }), distribution: distribution() });
    await applySchedules(client, specs);
    const handle = client.schedule.getHandle(scheduleIds.distribution);
    await handle.pause('test: only the backfill runs');
    const desc = await handle.describe();
    expect(desc.spec.timezone).toBe('UTC');
    expect(desc.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 1, end: 1, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] });
    expect(desc.policies).toMatchObject({ overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 30 * 3600_000 });
    // The night of 2024-03-07 01:00 was missed: backfilling it sends business date 2024-03-06.
    await handle.backfill({ start: new Date('2024-03-07T00:30:00Z'), end: new Date('2024-03-07T01:30:00Z'), overlap: ScheduleOverlapPolicy.ALLOW_ALL });
    await waitFor('the caught-up night', async () => (await client.workflow.getHandle(distributionWorkflowId('20240306')).describe().catch(() => null))?.status.name === 'COMPLETED', 60_000);
    const run = await runView('20240306');
    expect(run).toMatchObject({ status: 'succeeded', counts: { delta: 1, cancellation: 0, invalid: 0 } });
    expect(run.watermark.from).toBe((await runView('20240305')).watermark.to);
    await received(run.deliveries[0]!.deliveryId);
  });

  it('a delivery the subscriber refused is replayed by retry-failed (POST /api/v1/distribution/retry-failed) and then arrives', async () => {
    receiver.respondWith(() => ({ status: 400, body: 'no thanks' }));
    const run = await distribute('/distribute-full?date=2024-03-07');
    const id = run.deliveries[0]!.deliveryId;
    await waitFor('the refused delivery', async () => (await runView('20240307')).deliveries[0]!.status === 'failed', 60_000);
    receiver.respondWith(() => ({ status: 200, body: 'ok' }));
    const url = '/api/v1/distribution/retry-failed';
    expect((await api.inject({ method: 'POST', url, payload: { date: '2024-03-07' } })).statusCode).toBe(401);
    expect((await api.inject({ method: 'POST', url, headers: auth, payload: { date: '2024-02-30' } })).statusCode).toBe(400);
    const res = await api.inject({ method: 'POST', url, headers: auth, payload: { date: '2024-03-07' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ runsChecked: 1, runsRestarted: [], deliveriesFailed: 1, deliveriesReplayed: [id], businessDate: '2024-03-07', since: null });
    expect((await db.distribution.getDelivery(id))?.replayCount).toBe(1);
    await waitFor('the replayed delivery', async () => (await runView('20240307')).deliveries[0]!.status === 'delivered', 60_000);
    expect(receiver.requests.filter((r) => r.headers['webhook-id'] === id).length).toBeGreaterThanOrEqual(2);
  });

  it('each hand-off wrote one report_distributed event naming the run\'s subscriber and channel (a re-run of a date repeats its event id: the outbox stores it once)', () => {
    type Payload = { distribution: { scope: string; target_subscribers: string[]; delivery_channels: string[] }; report_data: { report_id: string } };
    const handOffs = events.events.filter((e) => (e.payload as Payload).distribution.scope === 'distribution');
    const reports = handOffs.map((e) => (e.payload as Payload).report_data.report_id);
    expect(reports).toContain('20240307');
    // One event id per run; the re-run of day 2 handed off the same deliveries under the same id.
    expect(new Set(handOffs.map((e) => e.eventId)).size).toBe(new Set(reports).size);
    expect(handOffs.length).toBeGreaterThan(new Set(reports).size);
    for (const e of handOffs) {
      expect((e.payload as Payload).distribution).toMatchObject({ target_subscribers: ['hubex'], delivery_channels: ['API_WEBHOOK'] });
      expect(e.topic).toBe('reporting.reference_data.delivered');
    }
  });
});
