// POST /api/v1/files against the real API, Temporal worker and PostgreSQL: uploads and drop-root paths load through
// the same fileLifecycle workflow (ledger, duplicate check, error report) as a dropped file.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDir, startSystem, waitFor, type System } from './harness';

let sys: System;
let outside: string;
const auth = () => ({ authorization: `Bearer ${sys.adminKey}` });

function multipart(name: string, content: string): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----refdata-intake-boundary';
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/csv\r\n\r\n`),
    Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const ports = 'code,city,runways\nBOM,Mumbai,2\nDEL,Delhi,3\nMAA,Chennai,2\n';

beforeAll(async () => {
  sys = await startSystem({ testFile: __filename, database: 'postgres' });
  outside = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-outside-'));
  await fs.writeFile(path.join(outside, 'secret.csv'), 'a,b\n1,2\n');
});
afterAll(async () => {
  await sys?.stop();
  if (outside) await fs.rm(outside, { recursive: true, force: true });
});

describe('POST /api/v1/files', () => {
  it('an upload with wait=true loads, and the values read back from the table; the ledger has the drop', async () => {
    const res = await sys.api.inject({ method: 'POST', url: '/api/v1/files?folder=reference_data_table/fullload&wait=true', ...multipart('ports_20241201.csv', ports) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'loaded', table: 'ports', rows: 3, filePath: 'reference_data_table/fullload/ports_20241201.csv', workflowId: 'file:reference_data_table/fullload/ports_20241201.csv', error: null });
    const rows = await sys.rows('SELECT code, city, runways FROM ref.ports ORDER BY code');
    expect(rows.map((r) => [r.code, r.city, Number(r.runways)])).toEqual([['BOM', 'Mumbai', 2], ['DEL', 'Delhi', 3], ['MAA', 'Chennai', 2]]);
    const ledger = await sys.rows("SELECT status, rows_loaded::int AS rows_loaded, table_name FROM ref.file_monitor_tracking WHERE file_name = 'ports_20241201.csv'");
    expect(ledger).toEqual([{ status: 'loaded', rows_loaded: 3, table_name: 'ports' }]);
    expect((await listDir(path.join(sys.dropRoot, 'reference_data_table/fullload/processed'))).some((n) => n.endsWith('_ports_20241201.csv'))).toBe(true);
  });

  it('the same content again is a duplicate: not loaded, named as the earlier load', async () => {
    const first = await sys.rows("SELECT load_id FROM ref.loads WHERE target_table = 'ports' AND status = 'loaded'");
    const res = await sys.api.inject({
      method: 'POST', url: '/api/v1/files?folder=reference_data_table/fullload&wait=true&name=ports_20241202.csv',
      headers: { ...auth(), 'content-type': 'text/csv' }, payload: ports,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'duplicate', table: 'ports', rows: 0, loadId: first[0]!.load_id });
    expect(await sys.rows('SELECT count(*)::int AS n FROM ref.ports')).toEqual([{ n: 3 }]);
  });

  it('wait=false answers 202 with the workflow id at once; that run loads the file', async () => {
    const res = await sys.api.inject({
      method: 'POST', url: '/api/v1/files?folder=none_reference_data_table/append&name=fees.csv',
      headers: { ...auth(), 'content-type': 'application/octet-stream' }, payload: 'fee_code,amount\nA,1.50\nB,2.25\n',
    });
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json() as { workflowId: string; runId: string; status: string };
    expect(body).toMatchObject({ workflowId: 'file:none_reference_data_table/append/fees.csv', status: 'running' });
    const result = await sys.client.workflow.getHandle(body.workflowId, body.runId).result();
    expect(result).toMatchObject({ status: 'loaded', rows: 2, table: 'fees' });
    const rows = await sys.rows('SELECT fee_code, amount::text AS amount FROM data.fees ORDER BY fee_code');
    expect(rows).toEqual([{ fee_code: 'A', amount: '1.50' }, { fee_code: 'B', amount: '2.25' }]);
  });

  it('a bad CSV ends in error with its report, and nothing of it is in a table', async () => {
    // Rows with fewer fields than the header: the file is refused as a whole.
    const bad = `code,name,qty\n${'a,b\n'.repeat(20)}`;
    const res = await sys.api.inject({ method: 'POST', url: '/api/v1/files?folder=none_reference_data_table/fullload&wait=true', ...multipart('broken_prices.csv', bad) });
    expect(res.statusCode, res.body).toBe(422);
    const body = res.json() as { status: string; error: { code: string; message: string; report: Record<string, unknown> | null }; archivedTo: string };
    expect(body.status).toBe('error');
    expect(body.error.code).toBe('InvalidFile');
    expect(body.error.report).toMatchObject({ file: 'broken_prices.csv', category: 'InvalidFile', rowsLoaded: 0 });
    expect(body.archivedTo).toContain(`${path.sep}error${path.sep}`);
    await expect(fs.stat(`${body.archivedTo}.error.json`)).resolves.toBeTruthy();
    expect(await sys.rows("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'broken_prices'")).toEqual([{ n: 0 }]);
  });

  it('a path inside the drop root loads (a copy into the folder); the original stays', async () => {
    await fs.mkdir(path.join(sys.dropRoot, 'incoming'), { recursive: true });
    const original = path.join(sys.dropRoot, 'incoming', 'gates.csv');
    await fs.writeFile(original, 'gate,terminal\nA1,T1\nB2,T2\n');
    const res = await sys.api.inject({ method: 'POST', url: '/api/v1/files', headers: auth(), payload: { path: 'incoming/gates.csv', folder: 'reference_data_table/fullload', wait: true } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'loaded', rows: 2, table: 'gates' });
    expect(await sys.rows('SELECT gate, terminal FROM ref.gates ORDER BY gate')).toEqual([{ gate: 'A1', terminal: 'T1' }, { gate: 'B2', terminal: 'T2' }]);
    await expect(fs.readFile(original, 'utf8')).resolves.toContain('A1,T1');
  });

  it('an archived file sent again by path loads under the name it was dropped with: a duplicate of its own load', async () => {
    const processed = path.join(sys.dropRoot, 'reference_data_table/fullload/processed');
    const archived = (await listDir(processed)).find((n) => n.endsWith('_ports_20241201.csv'))!;
    const res = await sys.api.inject({ method: 'POST', url: '/api/v1/files', headers: auth(), payload: { path: `reference_data_table/fullload/processed/${archived}`, folder: 'reference_data_table/fullload', wait: true } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'duplicate', table: 'ports', filePath: 'reference_data_table/fullload/ports_20241201.csv' });
    await expect(fs.stat(path.join(processed, archived))).resolves.toBeTruthy();
  });

  it('a path outside the drop root, or leading out through a symbolic link, is refused with 400 and nothing runs', async () => {
    await fs.symlink(path.join(outside, 'secret.csv'), path.join(sys.dropRoot, 'reference_data_table/fullload/secret.csv'));
    await fs.symlink(outside, path.join(sys.dropRoot, 'linked-dir'));
    for (const p of [path.join(outside, 'secret.csv'), '../secret.csv', 'reference_data_table/fullload/secret.csv', 'linked-dir/secret.csv']) {
      const res = await sys.api.inject({ method: 'POST', url: '/api/v1/files', headers: auth(), payload: { path: p, folder: 'reference_data_table/fullload' } });
      expect(res.statusCode, p).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'UNSAFE_PATH' } });
    }
    expect(await sys.rows("SELECT count(*)::int AS n FROM ref.file_monitor_tracking WHERE file_name = 'secret.csv'")).toEqual([{ n: 0 }]);
  });

  it('refuses an upload without a folder, a non-CSV name, and a request without an operator or admin key', async () => {
    const noFolder = await sys.api.inject({ method: 'POST', url: '/api/v1/files', ...multipart('x.csv', 'a\n1\n') });
    expect(noFolder.statusCode).toBe(400);
    expect(noFolder.json()).toMatchObject({ error: { code: 'NO_FOLDER' } });
    const badName = await sys.api.inject({ method: 'POST', url: '/api/v1/files?folder=reference_data_table/append', ...multipart('x.txt', 'a\n1\n') });
    expect(badName.json()).toMatchObject({ error: { code: 'BAD_NAME' } });
    const anonymous = await sys.api.inject({ method: 'POST', url: '/api/v1/files?folder=reference_data_table/append&name=y.csv', headers: { 'content-type': 'text/csv' }, payload: 'a\n1\n' });
    expect(anonymous.statusCode).toBe(401);
    expect(await listDir(path.join(sys.dropRoot, 'reference_data_table/append'))).toEqual(['error', 'processed']);
  });

  it('never replaces a file of the same name still waiting in the folder: 409, and that file is untouched', async () => {
    const waiting = path.join(sys.dropRoot, 'none_reference_data_table/fullload', 'rates.csv');
    await fs.writeFile(waiting, 'ccy,rate\nUSD,1\n');
    const res = await sys.api.inject({ method: 'POST', url: '/api/v1/files?folder=none_reference_data_table/fullload&wait=true', ...multipart('rates.csv', 'ccy,rate\nEUR,2\n') });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'FILE_EXISTS' } });
    expect(await fs.readFile(waiting, 'utf8')).toBe('ccy,rate\nUSD,1\n');
    expect((await listDir(path.dirname(waiting))).filter((n) => n.includes('rates'))).toEqual(['rates.csv']);
    await fs.rm(waiting);
  });

  it('an upload larger than the limit answers 413 and leaves nothing in the folder', async () => {
    const { buildApi } = await import('../../src/api/server');
    const { silentLogger } = await import('../../src/log/logger');
    const small = await buildApi({ db: sys.db, client: sys.client, log: silentLogger(), dropRoot: sys.dropRoot, adminKey: sys.adminKey, uploadMaxBytes: 2048 });
    try {
      const big = `k,v\n${'x,1\n'.repeat(2000)}`;
      const raw = await small.inject({ method: 'POST', url: '/api/v1/files?folder=none_reference_data_table/fullload&name=big.csv', headers: { ...auth(), 'content-type': 'text/csv' }, payload: big });
      expect(raw.statusCode, raw.body).toBe(413);
      const part = await small.inject({ method: 'POST', url: '/api/v1/files?folder=none_reference_data_table/fullload', ...multipart('big.csv', big) });
      expect(part.statusCode, part.body).toBe(413);
      expect((await listDir(path.join(sys.dropRoot, 'none_reference_data_table/fullload'))).filter((n) => n.includes('big'))).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('when Temporal refuses the start, the file stays whole in its folder for the watcher and the answer says so (503)', async () => {
    const { Client } = await import('@temporalio/client');
    const { buildApi } = await import('../../src/api/server');
    const { silentLogger } = await import('../../src/log/logger');
    // A namespace the server does not have: every start is refused.
    const refused = new Client({ connection: sys.client.connection, namespace: 'no-such-namespace-for-intake' });
    const api = await buildApi({ db: sys.db, client: refused, log: silentLogger(), dropRoot: sys.dropRoot, adminKey: sys.adminKey });
    try {
      const res = await api.inject({ method: 'POST', url: '/api/v1/files?folder=none_reference_data_table/append', ...multipart('later.csv', 'k,v\na,1\n') });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json()).toMatchObject({ error: { code: 'TEMPORAL_UNAVAILABLE', message: expect.stringContaining('none_reference_data_table/append/later.csv') } });
      expect(await fs.readFile(path.join(sys.dropRoot, 'none_reference_data_table/append/later.csv'), 'utf8')).toBe('k,v\na,1\n');
    } finally {
      await api.close();
      await fs.rm(path.join(sys.dropRoot, 'none_reference_data_table/append/later.csv'), { force: true });
    }
  });

  it('a run the watcher started first for the same file stops waiting when the API hands the file over', async () => {
    const slow = { checks: 1000, intervalMs: 60_000, maxWaitMs: 3_600_000 };
    const file = path.join(sys.dropRoot, 'reference_data_table/append', 'tails.csv');
    await fs.writeFile(file, 'tail,model\nVT-A,A320\n');
    const { startFileWorkflowIfIdle } = await import('../../src/temporal/client');
    const started = await startFileWorkflowIfIdle(sys.client, { dropRoot: sys.dropRoot, filePath: file, stability: slow });
    if (!('workflowId' in started)) throw new Error(started.ignored);
    await waitFor('the watcher-started run to wait', async () => (await sys.rows("SELECT 1 FROM ref.file_monitor_tracking WHERE file_name = 'tails.csv' AND status = 'waiting'")).length > 0);
    const res = await sys.api.inject({ method: 'POST', url: '/api/v1/files', headers: auth(), payload: { path: 'reference_data_table/append/tails.csv', wait: true, waitSeconds: 60 } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'loaded', rows: 1, runId: started.runId });
    expect(await sys.rows('SELECT tail, model FROM ref.tails')).toEqual([{ tail: 'VT-A', model: 'A320' }]);
  });
});
