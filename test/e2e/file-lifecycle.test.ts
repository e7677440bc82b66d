// A dropped file, end to end on real PostgreSQL and a real Temporal dev server: watcher → workflow → table → archive.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { instrumentCsv, listDir, startSystem, waitFor, type System } from './harness';
import { signalFileWorkflow } from '../../src/temporal/client';
import { fileWorkflowId } from '../../src/ids';

let sys: System;

beforeAll(async () => {
  sys = await startSystem({ testFile: __filename, database: 'postgres' });
});
afterAll(async () => sys?.stop());

async function tracked(filePath: string, statuses: string[]) {
  return waitFor(`${path.basename(filePath)} to reach ${statuses.join('/')}`, async () => {
    const rec = await sys.db.getTrackingByPath(filePath);
    return rec && statuses.includes(rec.status) ? rec : null;
  });
}

const leaves = [
  { folder: 'reference_data_table/fullload', schema: 'ref' },
  { folder: 'reference_data_table/append', schema: 'ref' },
  { folder: 'none_reference_data_table/fullload', schema: 'data' },
  { folder: 'none_reference_data_table/append', schema: 'data' },
];

describe('a dropped file loads end to end', () => {
  let watcher: { close(): Promise<void> };
  beforeAll(async () => {
    watcher = await sys.watch();
  });
  afterAll(async () => watcher?.close());

  for (const [i, leaf] of leaves.entries()) {
    it(`from ${leaf.folder}: rows in ${leaf.schema}, file in processed/, tracking row`, async () => {
      const name = `airports_${i}_20241201.csv`;
      const file = path.join(sys.dropRoot, leaf.folder, name);
      await fs.writeFile(file, instrumentCsv(2500));
      const rec = await tracked(file, ['loaded', 'error']);
      expect(rec.errorMessage).toBeNull();
      expect(rec.status).toBe('loaded');
      expect(rec.tableName).toBe(`airports_${i}`);
      expect(rec.rowsLoaded).toBe(2500);
      expect(rec.detectedDelimiter).toBe(',');
      expect(rec.detectedHeaders).toEqual(['instrument_key', 'symbol', 'lot_size', 'tick_size', 'expiry', 'active']);
      expect(rec.isReferenceData).toBe(leaf.schema === 'ref');
      expect(rec.loadType).toBe(leaf.folder.split('/')[1]);
      expect(rec.fileHash).toMatch(/^[0-9a-f]{64}$/);
      expect(rec.workflowId).toBe(fileWorkflowId(`${leaf.folder}/${name}`));
      expect(await sys.db.countRows({ schema: leaf.schema, name: `airports_${i}` })).toBe(2500);
      const processed = await listDir(path.join(sys.dropRoot, leaf.folder, 'processed'));
      expect(processed.some((f) => /^\d{8}T\d{6}Z_/.test(f) && f.endsWith(name))).toBe(true);
      await expect(fs.access(file)).rejects.toThrow();
      const cols = (await sys.db.describeTable({ schema: leaf.schema, name: `airports_${i}` }))!;
      expect(cols.find((c) => c.name === 'lot_size')?.dataType).toBe('integer');
      expect(cols.find((c) => c.name === 'expiry')?.dataType).toBe('date');
    });
  }

  it('a file whose row 2500 has an extra field ends in error/ with its report, and no rows remain', async () => {
    const folder = path.join(sys.dropRoot, 'none_reference_data_table/append');
    const file = path.join(folder, 'ragged_rows.csv');
    const good = instrumentCsv(3000).split('\n');
    good[2500] = `${good[2500]},surplus`;
    await fs.writeFile(file, good.join('\n'));
    const rec = await tracked(file, ['error', 'loaded']);
    expect(rec.status).toBe('error');
    expect(rec.errorMessage).toMatch(/row 2500 \(line 2501\) has 7 fields, expected 6/);
    // Two batches of 1000 were committed before the bad row; compensation removed them.
    expect(await sys.db.countRows({ schema: 'data', name: 'ragged_rows' })).toBe(0);
    const errors = await listDir(path.join(folder, 'error'));
    const report = errors.find((f) => f.endsWith('ragged_rows.csv.error.json'));
    expect(report).toBeDefined();
    expect(errors.some((f) => f.endsWith('_ragged_rows.csv'))).toBe(true);
    const body = JSON.parse(await fs.readFile(path.join(folder, 'error', report!), 'utf8'));
    expect(body.category).toBe('InvalidFile');
    expect(body.message).toMatch(/row 2500/);
    expect(body.details.row).toBe(2500);
    expect(body.details.line).toBe(2501);
    expect(body.time).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('an empty file ends in error/ with a clear report and the system keeps going', async () => {
    const folder = path.join(sys.dropRoot, 'reference_data_table/fullload');
    const file = path.join(folder, 'empty.csv');
    await fs.writeFile(file, '');
    const rec = await tracked(file, ['error', 'loaded']);
    expect(rec.status).toBe('error');
    expect(rec.errorMessage).toMatch(/empty/i);
    expect((await listDir(path.join(folder, 'error'))).some((f) => f.endsWith('empty.csv.error.json'))).toBe(true);

    const next = path.join(folder, 'after_empty.csv');
    await fs.writeFile(next, instrumentCsv(5));
    expect((await tracked(next, ['loaded', 'error'])).status).toBe('loaded');
  });

  it('files outside the four leaf folders and non-CSV files are left alone', async () => {
    const stray = [path.join(sys.dropRoot, 'stray.csv'), path.join(sys.dropRoot, 'reference_data_table/notes.txt')];
    for (const f of stray) await fs.writeFile(f, instrumentCsv(3));
    const probe = path.join(sys.dropRoot, 'reference_data_table/append/probe.csv');
    await fs.writeFile(probe, instrumentCsv(3));
    await tracked(probe, ['loaded']);
    for (const f of stray) {
      await expect(fs.access(f)).resolves.toBeUndefined();
      expect(await sys.db.getTrackingByPath(f)).toBeNull();
    }
  });

});

describe('workflows driven directly (no watcher)', () => {
  it('cancelling during the stability wait (through the API) compensates: error/ report, status cancelled, no rows', async () => {
    const folder = path.join(sys.dropRoot, 'reference_data_table/fullload');
    const file = path.join(folder, 'slow_to_settle.csv');
    await fs.writeFile(file, instrumentCsv(10));
    const started = await signalFileWorkflow(sys.client, {
      dropRoot: sys.dropRoot, filePath: file, stability: { checks: 10_000, intervalMs: 200, maxWaitMs: 3_600_000 },
    });
    expect('workflowId' in started).toBe(true);
    const rec = await tracked(file, ['waiting']);
    const res = await sys.api.inject({ method: 'POST', url: `/api/v1/files/${rec.id}/cancel`, headers: { authorization: `Bearer ${sys.adminKey}` } });
    expect(res.statusCode).toBe(202);
    const done = await tracked(file, ['cancelled']);
    expect(done.rowsLoaded).toBe(0);
    expect(await sys.db.describeTable({ schema: 'ref', name: 'slow_to_settle' })).toBeNull();
    const errors = await listDir(path.join(folder, 'error'));
    const report = errors.find((f) => f.endsWith('slow_to_settle.csv.error.json'))!;
    expect(JSON.parse(await fs.readFile(path.join(folder, 'error', report), 'utf8')).category).toBe('Cancelled');
  });

  it('a file that disappears while waiting ends as vanished, and its drop\'s ledger row says so', async () => {
    const file = path.join(sys.dropRoot, 'none_reference_data_table/fullload/gone.csv');
    await fs.writeFile(file, instrumentCsv(3));
    const started = await signalFileWorkflow(sys.client, {
      dropRoot: sys.dropRoot, filePath: file, stability: { checks: 10_000, intervalMs: 100, maxWaitMs: 3_600_000 },
    });
    await tracked(file, ['waiting']);
    await fs.rm(file);
    const handle = sys.client.workflow.getHandle((started as { workflowId: string }).workflowId);
    expect((await handle.result()).status).toBe('vanished');
    expect(await sys.db.getTrackingByPath(file)).toMatchObject({ status: 'vanished', rowsLoaded: null });
  });

  it('values past the planning sample with more decimals or digits load exactly, never rounded', async () => {
    // 30,000 rows (~1.3 MB): the planner samples the first 1 MiB, where every tick is 0.05 and every price small.
    const lines = ['code,tick,price'];
    for (let i = 0; i < 30_000; i++) lines.push(`C${i},0.05,${(i % 100) + 0.25}`);
    lines.push('LATE1,0.005,123456789.125', 'LATE2,0.0001,-0.000001');
    const file = path.join(sys.dropRoot, 'none_reference_data_table/fullload/ticks_exact.csv');
    await fs.writeFile(file, `${lines.join('\n')}\n`);
    const started = await signalFileWorkflow(sys.client, { dropRoot: sys.dropRoot, filePath: file, stability: sys.stability, skipStability: true });
    const result = await sys.client.workflow.getHandle((started as { workflowId: string }).workflowId).result();
    expect(result.status).toBe('loaded');
    const pg = new Client({ connectionString: sys.dbUrl! });
    await pg.connect();
    try {
      const late = await pg.query("SELECT code, tick::text AS tick, price::text AS price FROM data.ticks_exact WHERE code LIKE 'LATE%' ORDER BY code");
      expect(late.rows).toEqual([
        { code: 'LATE1', tick: '0.005', price: '123456789.125' },
        { code: 'LATE2', tick: '0.0001', price: '-0.000001' },
      ]);
      expect((await pg.query('SELECT count(*)::int AS n FROM data.ticks_exact')).rows[0].n).toBe(30_002);
    } finally {
      await pg.end();
    }
  });
});

describe('the API', () => {
  it('lists files newest first, filters by status, and shows live progress', async () => {
    const all = await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/api/v1/files' });
    expect(all.statusCode).toBe(200);
    const items = all.json().items as Array<{ id: number; status: string; fileName: string }>;
    expect(items.length).toBeGreaterThanOrEqual(4);
    expect(items.map((i) => i.id)).toEqual([...items.map((i) => i.id)].sort((a, b) => b - a));
    const errs = await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/api/v1/files?status=error' });
    expect((errs.json().items as Array<{ status: string }>).every((i) => i.status === 'error')).toBe(true);
    const one = await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: `/api/v1/files/${items[0].id}` });
    expect(one.statusCode).toBe(200);
    expect(one.json().progress?.phase).toBe('done');
    expect((await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/api/v1/files/999999' })).statusCode).toBe(404);
    expect((await sys.api.inject({ method: 'POST', url: `/api/v1/files/${items[0].id}/cancel` })).statusCode).toBe(401);
    const health = await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/health' });
    expect(health.statusCode).toBe(200);
    // Without a key: up or down, nothing else.
    expect((await sys.api.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'up' });
    expect((await sys.api.inject({ method: 'GET', url: '/api/v1/files' })).statusCode).toBe(401);
    expect(health.json().checks.database.status).toBe('up');
    expect(health.json().checks.temporal.status).toBe('up');
  });
});
