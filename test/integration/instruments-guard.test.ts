// Refused, damaged and implausible sources on real PostgreSQL: clear failures, and nothing deactivated on a bad day.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { INVALID_RECORD_SOURCE } from '../../src/db/instruments';
import { gzip, masterRecords, nextDay, startBroker, toJsonArray, type BrokerServer, type UpstoxRecord } from '../support/instrument-files';
import { mockActivityEnv, runActivity, startSyncHarness, type SyncHarness } from '../support/instrument-sync-steps';

let h: SyncHarness;
let broker: BrokerServer;
let day1: UpstoxRecord[];

beforeAll(async () => {
  h = await startSyncHarness();
  broker = await startBroker();
  day1 = masterRecords({ equities: 20, indices: 2, futures: 2, options: 70, mcx: 6 });
  broker.set('/day1.json.gz', { body: gzip(toJsonArray(day1)) });
  await h.sync({ url: broker.url('/day1.json.gz') });
});
afterAll(async () => {
  await broker?.close();
  await h?.close();
});

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

const activeCount = async () => Number((await h.query<{ n: string }>('SELECT count(*) AS n FROM ref.instruments WHERE is_active'))[0]!.n);
const lastRun = async () => (await h.db.instruments.listSyncRuns(1))[0]!;

describe('a source that refuses or is damaged', () => {
  beforeEach(async () => expect(await activeCount()).toBe(100));

  it('403: a non-retryable SourceForbidden naming the URL, the status and what to do', async () => {
    broker.set('/forbidden.json.gz', { status: 403, body: Buffer.from('Access Denied') });
    const url = `${broker.url('/forbidden.json.gz')}?signature=secret`;
    const f = await failureOf(h.sync({ url }));
    expect(f.type).toBe('SourceForbidden');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain(`GET ${broker.url('/forbidden.json.gz')}?signature=… answered 403 (Forbidden)`);
    expect(f.message).not.toContain('secret');
    expect(f.message).toMatch(/set INSTRUMENTS_BEARER_TOKEN/);
    expect(f.message).toMatch(/refdata sync --file PATH/);
    expect(await lastRun()).toMatchObject({ status: 'failed', errorMessage: f.message });
  });

  it('404: a non-retryable SourceNotFound', async () => {
    const f = await failureOf(h.sync({ url: broker.url('/moved.json') }));
    expect(f).toMatchObject({ type: 'SourceNotFound', nonRetryable: true });
    expect(f.message).toMatch(/answered 404 \(Not Found\).*check INSTRUMENTS_URL/);
  });

  it('503 and a refused connection throw plain errors, which Temporal retries with backoff', async () => {
    broker.set('/busy.json', { status: 503 });
    const acts = h.activities();
    const env = mockActivityEnv();
    const input = { runId: randomUUID(), workflowId: 'instrument-sync', force: false, trigger: 'manual' as const };
    const busy = await env.run(acts.downloadInstruments, { ...input, source: { url: broker.url('/busy.json') } }).catch((e: unknown) => e);
    expect(busy).not.toBeInstanceOf(ApplicationFailure);
    expect((busy as Error).message).toMatch(/answered 503; Temporal retries/);
    const refused = await env.run(acts.downloadInstruments, { ...input, source: { url: 'http://127.0.0.1:1/x.json' } }).catch((e: unknown) => e);
    expect(refused).not.toBeInstanceOf(ApplicationFailure);
    expect((refused as Error).message).toMatch(/failed: .*Temporal retries it/);
  });

  it('the bearer token and extra headers go to the configured origin only', async () => {
    broker.set('/auth.json.gz', { body: gzip(toJsonArray(day1)), requireAuthorization: 'Bearer t0ken' });
    const url = broker.url('/auth.json.gz');
    const r = await h.sync({ url }, { config: { url, bearerToken: 't0ken', headers: { 'x-client': 'refdata' } } });
    expect(r).toMatchObject({ status: 'succeeded', unchanged: 100 });
    expect(broker.requests.at(-1)).toEqual({ path: '/auth.json.gz', authorization: 'Bearer t0ken' });
    const f = await failureOf(h.sync({ url }, { config: { url: 'https://broker.example/complete.json.gz', bearerToken: 't0ken' } }));
    expect(broker.requests.at(-1)).toEqual({ path: '/auth.json.gz', authorization: undefined });
    expect(f).toMatchObject({ type: 'SourceForbidden' });
    expect(f.message).toMatch(/answered 401 \(Unauthorized\)/);
  });

  it('a truncated gzip fails as CorruptSource before anything is deactivated', async () => {
    const whole = gzip(toJsonArray(day1.slice(0, 30)));
    broker.set('/cut.json.gz', { body: whole.subarray(0, Math.floor(whole.length * 0.6)) });
    const before = await h.query('SELECT instrument_key, updated_at, is_active FROM ref.instruments ORDER BY 1');
    const f = await failureOf(h.sync({ url: broker.url('/cut.json.gz') }));
    expect(f).toMatchObject({ type: 'CorruptSource', nonRetryable: true });
    expect(f.message).toMatch(/gzip stream is damaged or cut off/);
    expect(await h.query('SELECT instrument_key, updated_at, is_active FROM ref.instruments ORDER BY 1')).toEqual(before);
    const tables = await h.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'instrument\\_stage\\_%'`);
    expect(tables).toEqual([]);
  });

  it('a JSON array cut off mid-record, and an empty file, fail the same way', async () => {
    broker.set('/cut.json', { body: toJsonArray(day1).subarray(0, 5000) });
    expect((await failureOf(h.sync({ url: broker.url('/cut.json') }))).message).toMatch(/cut off/);
    broker.set('/empty.json', { body: Buffer.alloc(0) });
    expect((await failureOf(h.sync({ url: broker.url('/empty.json') }))).message).toMatch(/is empty/);
  });
});

describe('the guard', () => {
  it('stops a file that would deactivate more than 20 %, changing nothing; force goes past it', async () => {
    const shrunk = nextDay(day1, { remove: 30, modify: 2, add: 0 });
    broker.set('/shrunk.json', { body: toJsonArray(shrunk) });
    const before = await h.query('SELECT instrument_key, updated_at, is_active, lot_size FROM ref.instruments ORDER BY 1');
    const f = await failureOf(h.sync({ url: broker.url('/shrunk.json') }));
    expect(f).toMatchObject({ type: 'GuardTripped', nonRetryable: true });
    expect(f.message).toContain('would deactivate 30 of 100 active instruments (30.0 %, more than the 20.0 % allowed)');
    expect(f.message).toMatch(/Nothing was changed.*--force/);
    expect(await h.query('SELECT instrument_key, updated_at, is_active, lot_size FROM ref.instruments ORDER BY 1')).toEqual(before);
    expect(await lastRun()).toMatchObject({ status: 'guard_tripped', deactivated: 30, updated: 2, guard: { tripped: true, wouldDeactivate: 30 } });

    const forced = await h.sync({ url: broker.url('/shrunk.json') }, { force: true });
    expect(forced).toMatchObject({ status: 'succeeded', forced: true, deactivated: 30, updated: 2, activeAfter: 70, guard: { tripped: false, bypassed: true } });
  });

  it('stops a file without F&O instruments, or with too few equities', async () => {
    const noFno = day1.filter((r) => r.segment !== 'NSE_FO');
    broker.set('/nofno.json', { body: toJsonArray(noFno) });
    const f = await failureOf(h.sync({ url: broker.url('/nofno.json') }, { config: { guard: { maxDeactivateShare: 1, minEquities: 5, requireFno: true } } }));
    expect(f.message).toMatch(/has no F&O instruments/);
    const g = await failureOf(h.sync({ url: broker.url('/nofno.json') }, { config: { guard: { maxDeactivateShare: 1, minEquities: 500, requireFno: false } } }));
    expect(g.message).toMatch(/has 20 equities, fewer than the 500 required/);
  });
});

describe('resuming staging', () => {
  it('a retried staging activity continues after the last committed batch: no row twice, exact counts', async () => {
    const file = nextDay(day1, { remove: 0, modify: 0, add: 10 }).map((r, i) => (i === 3 ? { ...r, lot_size: -5 } : r));
    broker.set('/resume.json', { body: toJsonArray(file) });
    const acts = h.activities({ batchSize: 10 });
    const runId = randomUUID();
    const env = mockActivityEnv({ workflowExecution: { workflowId: 'instrument-sync', runId } });
    const got = await runActivity(env, acts.downloadInstruments, { runId, workflowId: 'instrument-sync', source: { url: broker.url('/resume.json') }, force: true, trigger: 'manual' as const });
    // The third batch fails once, as a worker crash would after two commits.
    const real = h.db.instruments.writeStagingBatch.bind(h.db.instruments);
    let calls = 0;
    h.db.instruments.writeStagingBatch = async (...args) => {
      if (++calls === 3) throw new Error('connection reset');
      return real(...args);
    };
    await expect(runActivity(env, acts.stageInstruments, { runId, path: got.path, bytes: got.bytes, sha256: got.sha256 })).rejects.toThrow('connection reset');
    expect((await h.db.instruments.getSyncRun(runId))?.records).toBe(20);
    const staged = await runActivity(env, acts.stageInstruments, { runId, path: got.path, bytes: got.bytes, sha256: got.sha256 });
    h.db.instruments.writeStagingBatch = real;
    expect(staged).toEqual({ records: 110, invalid: 1, duplicates: 0 });
    const r = await runActivity(env, acts.applyInstrumentSync, { runId, force: true });
    expect(r).toMatchObject({ records: 110, invalid: 1, added: 10 });
    const invalid = await h.query('SELECT row_number FROM ref.invalid_records WHERE source = $1 AND source_ref = $2', [INVALID_RECORD_SOURCE, runId]);
    expect(invalid).toHaveLength(1);
    await acts.cleanupInstrumentSync({ runId });
  });
});
