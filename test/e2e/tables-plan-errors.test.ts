// The running system, asked about itself: table information, format detection by upload or path (the same JSON as
// `refdata plan --json`), error analysis and reference-config validation, through the API and the real CLI.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server';
import { silentLogger } from '../../src/log/logger';
import { signalFileWorkflow } from '../../src/temporal/client';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { instrumentCsv, startSystem, type System } from './harness';

const run = promisify(execFile);
let sys: System;
const refdata = path.resolve(__dirname, '../../bin/refdata');

/** The real CLI against this test's database and drop folder; exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATABASE_URL: sys.dbUrl!, REFDATA_DROPOFF_DIR: sys.dropRoot, LOG_LEVEL: 'silent', LOG_DIR: '' };
  try {
    const { stdout, stderr } = await run(process.execPath, [refdata, ...args], { env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function load(folder: string, name: string, content: string): Promise<string> {
  const file = path.join(sys.dropRoot, folder, name);
  await fs.writeFile(file, content);
  const started = await signalFileWorkflow(sys.client, { dropRoot: sys.dropRoot, filePath: file, stability: sys.stability, skipStability: true });
  if (!('workflowId' in started)) throw new Error(started.ignored);
  await sys.client.workflow.getHandle(started.workflowId).result().catch(() => undefined);
  return file;
}

function multipart(name: string, content: string | Buffer): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----refdata-test-boundary';
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/csv\r\n\r\n`),
    Buffer.isBuffer(content) ? content : Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

let badFile: string;

beforeAll(async () => {
  sys = await startSystem({ testFile: __filename, database: 'postgres', batchRows: 500 });
  await load('reference_data_table/fullload', 'airports_20241201.csv', instrumentCsv(120));
  badFile = await load('none_reference_data_table/fullload', 'broken_prices.csv', `code,name,qty\n${'a,b\n'.repeat(20)}`);
});
afterAll(async () => sys?.stop());

describe('table information', () => {
  it('GET /api/v1/tables lists the loaded table with rows, columns, last load and config row', async () => {
    const res = await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/api/v1/tables' });
    expect(res.statusCode).toBe(200);
    const items = (res.json() as { items: Record<string, unknown>[] }).items;
    expect(items.map((t) => `${t.schema}.${t.name}`)).toEqual(['ref.airports']);
    expect(items[0]).toMatchObject({ referenceData: true, rowCount: 120, lastLoad: { status: 'loaded', rows: 120, mode: 'fullload' }, config: { isActive: true, loadType: 'fullload' } });
    expect((items[0]!.columns as { name: string }[]).map((c) => c.name)).toEqual(['instrument_key', 'symbol', 'lot_size', 'tick_size', 'expiry', 'active']);
  });

  it('GET /api/v1/tables/:schema/:name answers one table in detail, 404 for an unknown one', async () => {
    const res = await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/api/v1/tables/ref/airports' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'airports', rowCount: 120, backups: [] });
    expect((res.json() as { loads: unknown[] }).loads).toHaveLength(1);
    for (const url of ['/api/v1/tables/ref/nope', '/api/v1/tables/public/airports', '/api/v1/tables/ref/loads']) {
      const missing = await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url });
      expect(missing.statusCode, url).toBe(404);
      expect(missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
  });

  it('refdata tables [NAME] shows the same', async () => {
    const list = await cli('tables', '--json');
    expect(list.code, list.stderr).toBe(0);
    const api = (await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/api/v1/tables' })).json() as { items: unknown[] };
    expect(JSON.parse(list.stdout)).toEqual(api.items);
    const one = await cli('tables', 'airports');
    expect(one.stdout).toMatch(/table {6}ref\.airports \(reference data\)\nrows {7}120/);
    expect((await cli('tables', 'nope')).code).toBe(1);
  });
});

describe('format detection API', () => {
  it('plans a file by path exactly as `refdata plan --json` does', async () => {
    // At the drop root itself: the watcher would not pick it up, and the folder decides nothing.
    const file = path.join(sys.dropRoot, 'customer-data.csv');
    await fs.writeFile(file, instrumentCsv(40, { delimiter: ';' }));
    const res = await sys.api.inject({ method: 'POST', url: '/api/v1/plan', headers: { authorization: `Bearer ${sys.adminKey}` }, payload: { path: 'customer-data.csv' } });
    expect(res.statusCode, res.body).toBe(200);
    const fromCli = await cli('plan', '--json', file);
    expect(fromCli.code, fromCli.stderr).toBe(0);
    expect(res.json()).toEqual(JSON.parse(fromCli.stdout));
    expect(res.json()).toMatchObject({ table: 'customer_data', delimiter: ';', rowCount: 40, suggestions: [{ table: 'ref.airports', percent: 100, matched: 6 }] });
  });

  it('plans an uploaded file the same way, named as uploaded, and removes it afterwards', async () => {
    const file = path.join(sys.dropRoot, 'airports_20250101.csv');
    await fs.writeFile(file, instrumentCsv(30));
    const { payload, headers } = multipart('airports_20250101.csv', instrumentCsv(30));
    const before = (await fs.readdir(os.tmpdir())).filter((n) => n.startsWith('refdata-plan-')).length;
    const res = await sys.api.inject({ method: 'POST', url: '/api/v1/plan?referenceData=true', payload, headers: { ...headers, authorization: `Bearer ${sys.adminKey}` } });
    expect(res.statusCode, res.body).toBe(200);
    const fromCli = JSON.parse((await cli('plan', '--json', '--reference', file)).stdout) as Record<string, unknown>;
    expect(res.json()).toEqual({ ...fromCli, file: 'airports_20250101.csv' });
    // Compared with the loaded ref.airports, as the CLI does.
    expect(res.json()).toMatchObject({ schema: 'ref', table: 'airports', match: { table: 'ref.airports', percent: 100 }, suggestions: [] });
    expect((await fs.readdir(os.tmpdir())).filter((n) => n.startsWith('refdata-plan-')).length).toBe(before);
  });

  it('a file whose name makes a new table names the loaded tables its columns match best, in the API and the CLI', async () => {
    const file = path.join(sys.dropRoot, 'venue_listing.csv');
    await fs.writeFile(file, 'instrument_key,symbol,lot_size,tick_size,venue,isin\nNSE_EQ|X1,AAA,1,0.05,NSE,INE000000001\n');
    const res = await sys.api.inject({ method: 'POST', url: '/api/v1/plan', headers: { authorization: `Bearer ${sys.adminKey}` }, payload: { path: 'venue_listing.csv', referenceData: true } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ table: 'venue_listing', match: null });
    // 4 of the 6 columns on either side pair with ref.airports (the only loaded table): 66.7 %.
    expect((res.json() as { suggestions: unknown[] }).suggestions).toEqual([
      { table: 'ref.airports', percent: 66.7, matched: 4, missing: ['expiry', 'active'], extra: ['venue', 'isin'] },
    ]);
    const text = await cli('plan', '--reference', file);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/new table {2}ref\.venue_listing; existing tables with similar columns[^\n]*\n {2}ref\.airports +66\.7% {2}missing: expiry, active; extra: venue, isin/);
  });

  it('refuses paths that leave the drop root, directly or through symbolic links', async () => {
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-outside-'));
    await fs.writeFile(path.join(outside, 'secret.csv'), 'a,b\n1,2\n');
    await fs.symlink(path.join(outside, 'secret.csv'), path.join(sys.dropRoot, 'link.csv'));
    await fs.symlink(outside, path.join(sys.dropRoot, 'linkdir'));
    try {
      for (const p of ['../../../etc/passwd', path.join(outside, 'secret.csv'), 'link.csv', 'linkdir/secret.csv']) {
        const res = await sys.api.inject({ method: 'POST', url: '/api/v1/plan', headers: { authorization: `Bearer ${sys.adminKey}` }, payload: { path: p } });
        expect(res.statusCode, p).toBe(400);
        expect(res.json(), p).toMatchObject({ error: { code: 'UNSAFE_PATH' } });
      }
      const missing = await sys.api.inject({ method: 'POST', url: '/api/v1/plan', headers: { authorization: `Bearer ${sys.adminKey}` }, payload: { path: 'nope.csv' } });
      expect(missing.json()).toMatchObject({ error: { code: 'NO_SUCH_FILE' } });
      expect((await sys.api.inject({ method: 'POST', url: '/api/v1/plan', headers: { authorization: `Bearer ${sys.adminKey}` }, payload: {} })).statusCode).toBe(400);
    } finally {
      await fs.rm(outside, { recursive: true, force: true });
    }
  });

  it('answers 413 for an upload over the limit and 422 for a file that cannot be planned', async () => {
    const small = await buildApi({ db: sys.db, client: sys.client, log: silentLogger(), dropRoot: sys.dropRoot, adminKey: sys.adminKey, planMaxBytes: 2048 });
    try {
      const big = multipart('big.csv', instrumentCsv(200));
      const res = await small.inject({ method: 'POST', url: '/api/v1/plan', ...big, headers: { ...big.headers, authorization: `Bearer ${sys.adminKey}` } });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ error: { code: 'FILE_TOO_LARGE' } });
    } finally {
      await small.close();
    }
    const binary = multipart('binary.csv', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    const res = await sys.api.inject({ method: 'POST', url: '/api/v1/plan', ...binary, headers: { ...binary.headers, authorization: `Bearer ${sys.adminKey}` } });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: { code: expect.any(String), message: expect.stringMatching(/binary|text|encoding/i) } });
  });
});

describe('error analysis', () => {
  it('stores the failure category in the tracking ledger', async () => {
    const exec = createNodePgExecutor(sys.dbUrl!);
    try {
      const rows = await exec.query<{ error_category: string | null; status: string }>('SELECT status, error_category FROM ref.file_monitor_tracking ORDER BY id');
      expect(rows.map((r) => [r.status, r.error_category])).toEqual([['loaded', null], ['error', 'InvalidFile']]);
    } finally {
      await exec.close();
    }
  });

  it('GET /api/v1/errors/summary groups failures by category, table and folder with an example', async () => {
    const res = await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/api/v1/errors/summary?since=1d' });
    expect(res.statusCode, res.body).toBe(200);
    const s = res.json() as { total: number; byCategory: unknown[]; groups: Record<string, unknown>[] };
    expect(s.total).toBe(1);
    expect(s.byCategory).toEqual([{ category: 'InvalidFile', count: 1 }]);
    expect(s.groups).toHaveLength(1);
    const g = s.groups[0]!;
    expect(g).toMatchObject({ category: 'InvalidFile', table: 'broken_prices', folder: 'none_reference_data_table/fullload', count: 1, example: { file: 'broken_prices.csv', filePath: badFile } });
    expect(g.firstSeen).toBe(g.lastSeen);
    expect(Object.values(g.codes as Record<string, number>)).toEqual([1]);
    await expect(fs.access((g.example as { reportPath: string }).reportPath)).resolves.toBeUndefined();

    const bad = await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/api/v1/errors/summary?since=yesterday' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'BAD_SINCE' } });
    const future = (await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: `/api/v1/errors/summary?since=${new Date(Date.now() + 86_400_000).toISOString()}` })).json();
    expect(future).toMatchObject({ total: 0, groups: [] });
  });

  it('refdata errors --json answers the same groups', async () => {
    const out = await cli('errors', '--since', '1d', '--json');
    expect(out.code, out.stderr).toBe(0);
    const api = (await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/api/v1/errors/summary?since=1d' })).json() as { groups: unknown };
    expect((JSON.parse(out.stdout) as { groups: unknown }).groups).toEqual(api.groups);
    expect((await cli('errors', '--since', '1d')).stdout).toMatch(/1 failed file\(s\)[\s\S]*InvalidFile +broken_prices +none_reference_data_table\/fullload/);
  });
});

describe('refdata config validate', () => {
  it('passes, finds a missing config row (exit 1), and --repair puts it back (exit 0)', async () => {
    expect((await cli('config', 'validate')).code).toBe(0);
    const exec = createNodePgExecutor(sys.dbUrl!);
    try {
      await exec.query("DELETE FROM ref.reference_data_cfg WHERE table_name = 'airports'");
      await exec.query("INSERT INTO ref.reference_data_cfg (schema_name, table_name, source_file, load_type) VALUES ('ref', 'vanished', '/x.csv', 'fullload')");
    } finally {
      await exec.close();
    }
    const found = await cli('config', 'validate');
    expect(found.code).toBe(1);
    expect(found.stdout).toMatch(/orphan: +ref\.vanished[\s\S]*missing: +ref\.airports/);
    const repaired = await cli('config', 'validate', '--repair');
    expect(repaired.code, repaired.stdout).toBe(0);
    expect(repaired.stdout).toMatch(/repaired: deactivated the config row of ref\.vanished/);
    expect(repaired.stdout).toMatch(/repaired: inserted the config row of ref\.airports/);
    expect((await cli('config', 'validate')).code).toBe(0);
  });
});
