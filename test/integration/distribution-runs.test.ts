// The distribution's activities on real PostgreSQL (COPY TO STDOUT): watermarks from the
// database clock, exact files day after day, byte-identical re-runs, and the in-memory DeliveryStarter hand-off.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDistributionActivities } from '../../activities/distribution';
import type { Database } from '../../src/db/types';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log/logger';
import type { DeliveryRequest, DeliveryStarter } from '../../src/distribution/types';
import { masterRecords, nextDay, toJsonArray, type UpstoxRecord } from '../support/instrument-files';
import { mockActivityEnv, runActivity, startSyncHarness, type SyncHarness } from '../support/instrument-sync-steps';
import { changesBetween, checkManifest, keysOf, readCsv, readJson, sha256, type ManifestJson } from '../support/distribution-files';

/** The in-memory stand-in for the delivery service: records each request, ids derived from it (idempotent). */
function memoryDeliveries(): DeliveryStarter & { requests: DeliveryRequest[] } {
  const requests: DeliveryRequest[] = [];
  return {
    requests,
    async startDeliveries(req) {
      requests.push(req);
      return [`dlv_${req.reportId}_sub1`];
    },
    async replayDeliveries(ids) {
      return ids;
    },
  };
}

function activitiesFor(db: Database, root: string, deliveries: DeliveryStarter) {
  const base = loadConfig({ REFDATA_STATE_DIR: root }).distribution;
  return createDistributionActivities({ db, log: silentLogger(), config: { ...base, backupRetentionDays: 3 }, deliveries });
}

/** The workflow's steps in order, in a mock activity context. */
async function distribute(acts: ReturnType<typeof activitiesFor>, businessDate: string, kind: 'full' | 'delta' = 'full', suffix: string | null = null) {
  const runId = `${businessDate.replace(/-/g, '')}${suffix ? `T${suffix}` : ''}`;
  const env = mockActivityEnv({ workflowExecution: { workflowId: `distribution:${runId}`, runId: `wf-${Date.now()}` } });
  const claim = await runActivity(env, acts.claimDistributionRun, {
    runId, businessDate, kind, suffix, trigger: 'cli' as const, submissionId: `sub-${runId}`, workflowId: `distribution:${runId}`, workflowRunId: `wf-${Math.random()}`,
  });
  const files = await runActivity(env, acts.generateDistributionFiles, { runId });
  await runActivity(env, acts.backUpDistributionFiles, { runId });
  const deliveries = await runActivity(env, acts.handOffDistribution, { runId });
  await runActivity(env, acts.finishDistributionRun, { runId, status: 'succeeded' as const });
  return { claim, files, deliveries, dir: claim.directory };
}

describe('distribution on PostgreSQL, day after day', () => {
  let h: SyncHarness;
  let deliveries: ReturnType<typeof memoryDeliveries>;
  let acts: ReturnType<typeof activitiesFor>;
  let root: string;
  const day1 = masterRecords({ equities: 30, indices: 5, futures: 4, options: 60, mcx: 6 });
  const invalidOption: UpstoxRecord = { ...day1[40]!, instrument_key: 'NSE_FO|999999', exchange_token: '999999', lot_size: 'many' as unknown as number };
  const day2 = [...nextDay(day1, { remove: 5, modify: 3, add: 7 }), invalidOption];
  const write = (name: string, records: UpstoxRecord[]) => {
    const file = path.join(h.temp.path, name);
    fs.writeFileSync(file, toJsonArray(records));
    return { file };
  };

  beforeAll(async () => {
    h = await startSyncHarness();
    root = path.join(h.temp.path, 'state');
    deliveries = memoryDeliveries();
    acts = activitiesFor(h.db, root, deliveries);
  });
  afterAll(async () => h?.close());

  it('day 1: full has every instrument, delta adds all of them, the file load\'s invalid rows are listed', async () => {
    await h.sync(write('day1.json', day1));
    await h.db.insertInvalidRecords([
      { source: 'file', sourceRef: 'load_1', recordId: '/drop/airports_20240301.csv', rowNumber: 7, rawText: 'x,"y', errors: ['row 7: 3 fields, the header has 4'] },
    ]);
    const r = await distribute(acts, '2024-03-01');
    expect(r.claim).toMatchObject({ runId: '20240301', reused: false, watermark: { from: null } });
    expect(r.files.map((f) => f.name)).toEqual(['20240301_full.csv', '20240301_delta.csv', '20240301_cancellation.csv', '20240301_invalid.json', '20240301_manifest.json']);
    const full = readCsv(r.dir, '20240301_full.csv');
    expect(full.header).toEqual(['instrument_key', 'segment', 'exchange', 'instrument_type', 'name', 'trading_symbol', 'isin', 'expiry', 'strike_price', 'lot_size', 'tick_size', 'freeze_quantity', 'underlying_key', 'option_type', 'weekly', 'first_seen_at', 'updated_at']);
    expect(keysOf(full.rows as Array<{ instrument_key: string }>)).toEqual(keysOf(day1));
    expect(full.rows.find((x) => x.instrument_key === 'NSE_FO|100001')).toMatchObject({ instrument_type: 'PE', strike_price: '18050', lot_size: '50', tick_size: '0.05', weekly: 'true', expiry: '2024-02-10', isin: null });
    const delta = readCsv(r.dir, '20240301_delta.csv');
    expect(delta.rows.every((x) => x.change === 'ADDED')).toBe(true);
    expect(delta.rows).toHaveLength(105);
    expect(readCsv(r.dir, '20240301_cancellation.csv').rows).toEqual([]);
    const invalid = readJson<Array<Record<string, unknown>>>(r.dir, '20240301_invalid.json');
    expect(invalid).toEqual([{ recordId: '/drop/airports_20240301.csv', source: 'file', sourceRef: 'load_1', rowNumber: 7, errors: ['row 7: 3 fields, the header has 4'], timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) }]);
    const manifest = readJson<ManifestJson>(r.dir, '20240301_manifest.json');
    expect(manifest).toMatchObject({ submission_id: 'sub-20240301', business_date: '2024-03-01', kind: 'full', watermark: { from: null, to: r.claim.watermark.to } });
    expect(manifest.files.map((f) => [f.name, f.rows])).toEqual([['20240301_full.csv', 105], ['20240301_delta.csv', 105], ['20240301_cancellation.csv', 0], ['20240301_invalid.json', 1]]);
    checkManifest(r.dir, manifest);
    for (const f of r.files) expect(sha256(path.join(root, 'distribution-backup', '20240301', f.name))).toBe(f.sha256);
    expect(deliveries.requests.at(-1)).toMatchObject({ reportId: '20240301', reportType: 'REFERENCE_DATA', businessDate: '2024-03-01', files: expect.arrayContaining([expect.objectContaining({ fileName: '20240301_full.csv' })]) });
    expect((await h.db.distributionRuns.getRun('20240301'))).toMatchObject({ status: 'succeeded', watermarkCommitted: true, deliveryIds: ['dlv_20240301_sub1'] });
  });

  it('day 2: delta and cancellation hold exactly the sync\'s adds, changes and removals; invalid only the new record', async () => {
    await h.sync(write('day2.json', day2));
    const r = await distribute(acts, '2024-03-02');
    const prev = await h.db.distributionRuns.getRun('20240301');
    expect(r.claim.watermark.from).toBe(prev!.watermark.to);
    const want = changesBetween(day1, day2.filter((x) => x !== invalidOption));
    const delta = readCsv(r.dir, '20240302_delta.csv').rows as Array<{ instrument_key: string; change: string; lot_size: string }>;
    expect(keysOf(delta.filter((x) => x.change === 'ADDED'))).toEqual(want.added);
    expect(keysOf(delta.filter((x) => x.change === 'CHANGED'))).toEqual(want.changed);
    expect(delta).toHaveLength(want.added.length + want.changed.length);
    const cancellation = readCsv(r.dir, '20240302_cancellation.csv').rows as Array<{ instrument_key: string; tag: string; deactivated_at: string }>;
    expect(keysOf(cancellation)).toEqual(want.removed);
    expect(cancellation.every((x) => x.tag === 'Cancelled' && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(x.deactivated_at))).toBe(true);
    const invalid = readJson<Array<{ recordId: string; source: string; errors: string[] }>>(r.dir, '20240302_invalid.json');
    expect(invalid).toEqual([expect.objectContaining({ recordId: 'NSE_FO|999999', source: 'instrument_sync', errors: [expect.stringContaining('lot_size')] })]);
    expect(keysOf(readCsv(r.dir, '20240302_full.csv').rows as Array<{ instrument_key: string }>)).toEqual(keysOf(day2.filter((x) => x !== invalidOption)));
    checkManifest(r.dir, readJson<ManifestJson>(r.dir, '20240302_manifest.json'));
  });

  it('a re-run of an unchanged date writes byte-identical files and keeps its watermark', async () => {
    const before = await h.db.distributionRuns.getRun('20240302');
    const hashes = Object.fromEntries(before!.files.map((f) => [f.name, f.sha256]));
    const r = await distribute(acts, '2024-03-02');
    expect(r.claim).toMatchObject({ reused: true, watermark: before!.watermark, submissionId: before!.submissionId });
    for (const f of r.files) expect(sha256(path.join(r.dir, f.name))).toBe(hashes[f.name]);
    const after = await h.db.distributionRuns.getRun('20240302');
    expect(after).toMatchObject({ attempts: 2, watermark: before!.watermark, generatedAt: before!.generatedAt });
    // The next date still starts where 20240302 ended: the re-run did not move the chain.
    const next = await distribute(acts, '2024-03-03');
    expect(next.claim.watermark.from).toBe(before!.watermark.to);
    expect(readCsv(next.dir, '20240303_delta.csv').rows).toEqual([]);
  });

  it('an intraday delta takes what changed since the last watermark, under its own name', async () => {
    await h.query(`UPDATE ref.instruments SET lot_size = 75, updated_at = now() WHERE instrument_key = 'NSE_EQ|INE00000101'`);
    const r = await distribute(acts, '2024-03-04', 'delta', '143015');
    expect(r.files.map((f) => f.name)).toEqual(['20240304T143015_delta.csv', '20240304T143015_cancellation.csv', '20240304T143015_invalid.json', '20240304T143015_manifest.json']);
    expect(readCsv(r.dir, '20240304T143015_delta.csv').rows).toEqual([expect.objectContaining({ change: 'CHANGED', instrument_key: 'NSE_EQ|INE00000101', lot_size: '75' })]);
    // The nightly chain ignores intraday runs: the next night still covers the whole day.
    const night = await distribute(acts, '2024-03-04');
    expect(readCsv(night.dir, '20240304_delta.csv').rows.map((x) => x.instrument_key)).toEqual(['NSE_EQ|INE00000101']);
  });

  it('a transaction still open at the claim holds the watermark back, so its rows go out with the next run', async () => {
    const { Client } = await import('pg');
    const other = new Client({ connectionString: h.pg.url });
    await other.connect();
    try {
      // A sync-like writer: stamps its row with now() (its start), commits only after the claim.
      await other.query('BEGIN');
      await other.query(`UPDATE ref.instruments SET lot_size = 99, updated_at = now() WHERE instrument_key = 'NSE_EQ|INE00000201'`);
      const [{ started }] = (await other.query<{ started: string }>(`SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started`)).rows;
      const during = await distribute(acts, '2024-03-04', 'delta', '150000');
      expect(during.claim.watermark.to <= started!).toBe(true);
      await other.query('COMMIT');
      expect(readCsv(during.dir, '20240304T150000_delta.csv').rows).toEqual([]);
      const after = await distribute(acts, '2024-03-04', 'delta', '150001');
      expect(readCsv(after.dir, '20240304T150001_delta.csv').rows.map((x) => x.instrument_key)).toEqual(['NSE_EQ|INE00000201']);
    } finally {
      await other.end();
    }
  });

  it('a dataset configured with a key column gets its own full file', async () => {
    await h.query(`CREATE TABLE ref.airports (code varchar(3), name text, opened date, refdata_load_id varchar(64))`);
    await h.query(`INSERT INTO ref.airports VALUES ('LHR', 'London, Heathrow', '1946-03-25', 'l1'), ('BOM', 'Mumbai "CSMIA"', NULL, 'l1'), ('DEL', '', '1962-01-01', 'l1')`);
    await h.db.upsertReferenceConfig({ table: { schema: 'ref', name: 'airports' }, sourceFile: 'airports.csv', loadType: 'fullload', keyColumn: 'code' });
    const r = await distribute(acts, '2024-03-05');
    const text = fs.readFileSync(path.join(r.dir, '20240305_airports_full.csv'), 'utf8');
    expect(text).toBe('code,name,opened\nBOM,"Mumbai ""CSMIA""",\nDEL,"",1962-01-01\nLHR,"London, Heathrow",1946-03-25\n');
  });

  it('a later run leaves older backups alone: only the cleanup sweep removes them, once their deliveries are final', async () => {
    fs.mkdirSync(path.join(root, 'distribution-backup', '20240101'), { recursive: true });
    await distribute(acts, '2024-03-06');
    expect(fs.readdirSync(path.join(root, 'distribution-backup')).sort()).toEqual(['20240101', '20240301', '20240302', '20240303', '20240304', '20240305', '20240306']);
  });
});
