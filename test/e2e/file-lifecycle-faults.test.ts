// Lifecycle faults of one dropped file, on real PostgreSQL and a real dev server: cancel while finishing, the same
// file dropped again, a symbolic link, a file overwritten while it loads, quarantined rows, the ledger's history.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { Client as PgClient } from 'pg';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dropAndRun, instrumentCsv, listDir, startSystem, waitFor, type System } from './harness';
import { signalFileWorkflow } from '../../src/temporal/client';
import { startWatcher } from '../../src/watcher';
import { silentLogger } from '../../src/log/logger';
import { fileWorkflowId } from '../../src/ids';
import { progressQuery, type FileLifecycleResult } from '../../workflows/file-lifecycle';

let sys: System;
let pg: PgClient;
beforeAll(async () => {
  sys = await startSystem({
    testFile: __filename, database: 'postgres', batchRows: 2000,
    invalidRows: { fullload: 'reject-file', append: 'quarantine', tables: {}, maxErrorRatio: 0.01 },
  });
  pg = new PgClient({ connectionString: sys.dbUrl! });
  await pg.connect();
});
afterAll(async () => {
  await pg?.end();
  await sys?.stop();
});

async function openPg(): Promise<PgClient> {
  const c = new PgClient({ connectionString: sys.dbUrl! });
  await c.connect();
  return c;
}

async function start(folder: string, name: string, content: string, opts: { skipStability?: boolean } = {}) {
  const file = path.join(sys.dropRoot, folder, name);
  await fs.writeFile(file, content);
  const started = await signalFileWorkflow(sys.client, { dropRoot: sys.dropRoot, filePath: file, stability: sys.stability, skipStability: opts.skipStability ?? true });
  if (!('workflowId' in started)) throw new Error(started.ignored);
  return { file, handle: sys.client.workflow.getHandle(started.workflowId, started.runId) };
}

async function failureOf(p: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err, 'the run should have failed').not.toBeNull();
  const cause = (err as { cause?: { type?: string; message: string } }).cause;
  return { type: cause?.type, message: cause?.message ?? String(err) };
}

const symbols = async (table: string): Promise<string[]> =>
  (await pg.query<{ symbol: string }>(`SELECT symbol FROM ${table} ORDER BY symbol`)).rows.map((r) => r.symbol);
const sorted = (n: number) => Array.from({ length: n }, (_, i) => `SYM${i + 1}`).sort();

async function loadRow(loadId: string) {
  return (await pg.query('SELECT status, rows_committed::int AS rows FROM ref.loads WHERE load_id = $1', [loadId])).rows[0] as { status: string; rows: number };
}

describe('cancel while finishing (defect 5)', () => {
  it('a cancel that arrives while the swap waits lets it complete: table, ledger, ref.loads, folder and result all say loaded', async () => {
    const folder = 'reference_data_table/fullload';
    expect((await dropAndRun(sys, folder, 'venues_20250101.csv', instrumentCsv(20))).result?.status).toBe('loaded');
    // A reader holding the table makes the swap wait, so the cancel lands inside finishing.
    const reader = await openPg();
    await reader.query('BEGIN');
    await reader.query('LOCK TABLE ref.venues IN ACCESS SHARE MODE');
    const { file, handle } = await start(folder, 'venues_20250102.csv', instrumentCsv(7));
    try {
      await waitFor('finishing', async () => (await handle.query(progressQuery)).phase === 'finishing');
      // The ledger row follows the phases (defect 11): the finishing activity has started and waits on the swap.
      await waitFor('ledger says finishing', async () => (await sys.db.getTrackingByPath(file))?.status === 'finishing', 15_000);
      await handle.cancel();
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      await reader.query('COMMIT');
      await reader.end();
    }
    const result = (await handle.result()) as FileLifecycleResult;
    expect(result).toMatchObject({ status: 'loaded', rows: 7, quarantined: 0 });
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect(await symbols('ref.venues')).toEqual(sorted(7));
    const rec = (await sys.db.getTrackingByPath(file))!;
    expect(rec).toMatchObject({ status: 'loaded', rowsLoaded: 7, archivedPath: result.archivedTo });
    expect(await loadRow(result.loadId!)).toEqual({ status: 'loaded', rows: 7 });
    await expect(fs.access(result.archivedTo!)).resolves.toBeUndefined();
    const errors = await listDir(path.join(sys.dropRoot, folder, 'error'));
    expect(errors.filter((f) => f.includes('venues_20250102'))).toEqual([]);
  });
});

describe('the same file dropped again under the same name (defect 2)', () => {
  it('a file over the hash-up-front size is recognised as already loaded and is not appended twice', async () => {
    const folder = 'none_reference_data_table/append';
    const content = instrumentCsv(200_000);
    expect(Buffer.byteLength(content)).toBeGreaterThan(8 * 1024 * 1024);
    const first = await dropAndRun(sys, folder, 'big_fills.csv', content);
    expect(first.result).toMatchObject({ status: 'loaded', rows: 200_000 });
    const again = await dropAndRun(sys, folder, 'big_fills.csv', content);
    expect(again.error).toBeNull();
    expect(again.result).toMatchObject({ status: 'duplicate', rows: 0, loadId: first.result!.loadId });
    const counts = (await pg.query('SELECT count(*)::int AS n, count(DISTINCT instrument_key)::int AS keys FROM data.big_fills')).rows[0];
    expect(counts).toEqual({ n: 200_000, keys: 200_000 });
    const history = await pg.query('SELECT status, rows_loaded::int AS rows FROM ref.file_monitor_tracking WHERE file_path = $1 ORDER BY id', [first.file]);
    expect(history.rows).toEqual([{ status: 'loaded', rows: 200_000 }, { status: 'duplicate', rows: 0 }]);
  });
});

describe('symbolic links (defect 7)', () => {
  for (const mode of ['after the stability wait', 'without it (refdata load)'] as const) {
    it(`a link is refused ${mode}: the link (not its target) goes to error/ with a report, nothing is loaded`, async () => {
      const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-link-target-'));
      const target = path.join(outside, 'secret.csv');
      const body = instrumentCsv(5);
      await fs.writeFile(target, body);
      const folder = path.join(sys.dropRoot, 'reference_data_table/append');
      const name = mode === 'after the stability wait' ? 'linked_a.csv' : 'linked_b.csv';
      const link = path.join(folder, name);
      await fs.symlink(target, link);
      try {
        const started = await signalFileWorkflow(sys.client, { dropRoot: sys.dropRoot, filePath: link, stability: sys.stability, skipStability: mode !== 'after the stability wait' });
        const failure = await failureOf(sys.client.workflow.getHandle((started as { workflowId: string }).workflowId).result());
        expect(failure.type).toBe('UnsafePath');
        expect(failure.message).toMatch(/is a symbolic link; links are refused/);
        expect(await sys.db.describeTable({ schema: 'ref', name: name.replace('.csv', '') })).toBeNull();
        const errors = await listDir(path.join(folder, 'error'));
        const moved = errors.find((f) => f.endsWith(`_${name}`))!;
        expect(moved).toBeDefined();
        expect((await fs.lstat(path.join(folder, 'error', moved))).isSymbolicLink()).toBe(true);
        const report = JSON.parse(await fs.readFile(path.join(folder, 'error', `${moved}.error.json`), 'utf8'));
        expect(report).toMatchObject({ category: 'UnsafePath', rowsLoaded: 0, rowsQuarantined: 0 });
        await expect(fs.lstat(link)).rejects.toThrow();
        expect(await fs.readFile(target, 'utf8')).toBe(body);
        expect(await sys.db.getTrackingByPath(link)).toMatchObject({ status: 'error', rowsLoaded: 0, archivedPath: path.join(folder, 'error', moved) });
      } finally {
        await fs.rm(outside, { recursive: true, force: true });
      }
    });
  }
});

describe('a file overwritten while it loads (defect 9)', () => {
  it('fails cleanly: the previous table stays as it was, the file goes to error/ with the reason, nothing is mixed', async () => {
    const folder = 'reference_data_table/fullload';
    expect((await dropAndRun(sys, folder, 'quotes_20250101.csv', instrumentCsv(10))).result?.status).toBe('loaded');
    const { file, handle } = await start(folder, 'quotes_20250102.csv', instrumentCsv(60_000));
    await waitFor('a committed batch', async () => (await handle.query(progressQuery)).rows >= 2000);
    // Holding the load's checkpoint row stops the next batch from committing while the file is replaced.
    const { loadId } = await handle.query(progressQuery);
    const blocker = await openPg();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM ref.loads WHERE load_id = $1 FOR UPDATE', [loadId]);
    try {
      expect.soft((await sys.db.getTrackingByPath(file))?.status).toBe('loading');
      await fs.writeFile(file, instrumentCsv(50).replace(/SYM/g, 'NEW'));
    } finally {
      await blocker.query('COMMIT');
      await blocker.end();
    }
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('UnstableFile');
    expect(failure.message).toMatch(/changed while it was being loaded .*nothing of it was kept/);
    expect(await symbols('ref.quotes')).toEqual(sorted(10));
    expect(await loadRow(loadId!)).toMatchObject({ status: 'aborted' });
    expect(await sys.db.getTrackingByPath(file)).toMatchObject({ status: 'error', rowsLoaded: 0 });
    const errors = await listDir(path.join(sys.dropRoot, folder, 'error'));
    expect(errors.some((f) => f.endsWith('_quotes_20250102.csv.error.json'))).toBe(true);
  });
});

describe('a file changed after its load committed (fault matrix: overwrite × finishing)', () => {
  it('is not archived as the loaded one: the loaded rows stand, the ledger and result say so, and the changed file loads as a new drop', async () => {
    const folder = 'reference_data_table/fullload';
    expect((await dropAndRun(sys, folder, 'levels_20250101.csv', instrumentCsv(10))).result?.status).toBe('loaded');
    // Holding the reference config stops the bookkeeping that follows the committed swap, before archiving.
    const locker = await openPg();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE ref.reference_data_cfg IN EXCLUSIVE MODE');
    const { file, handle } = await start(folder, 'levels_20250102.csv', instrumentCsv(7));
    const changed = instrumentCsv(5).replace(/SYM/g, 'NEW');
    try {
      await waitFor('the swap committed', async () => {
        const { loadId } = await handle.query(progressQuery);
        return loadId ? (await loadRow(loadId))?.status === 'loaded' : false;
      });
      await fs.writeFile(file, changed);
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    const result = (await handle.result()) as FileLifecycleResult;
    expect(result).toMatchObject({ status: 'loaded', rows: 7, archivedTo: null });
    expect(result.note).toMatch(/changed after its rows were loaded \(its size went from \d+ to \d+ bytes\).*left in the drop folder and is a new drop/);
    expect(await symbols('ref.levels')).toEqual(sorted(7));
    expect(await loadRow(result.loadId!)).toEqual({ status: 'loaded', rows: 7 });
    expect(await sys.db.getTrackingByPath(file)).toMatchObject({ status: 'loaded', rowsLoaded: 7, archivedPath: null, errorMessage: result.note });
    expect(await fs.readFile(file, 'utf8')).toBe(changed);
    const processed = path.join(sys.dropRoot, folder, 'processed');
    expect((await listDir(processed)).filter((f) => f.endsWith('_levels_20250102.csv'))).toEqual([]);

    // The changed file is a drop of its own: its run loads it and archives it.
    const again = await signalFileWorkflow(sys.client, { dropRoot: sys.dropRoot, filePath: file, stability: sys.stability, skipStability: true });
    const second = (await sys.client.workflow.getHandle((again as { workflowId: string }).workflowId, (again as { runId: string }).runId).result()) as FileLifecycleResult;
    expect(second).toMatchObject({ status: 'loaded', rows: 5 });
    expect(await symbols('ref.levels')).toEqual(sorted(5).map((s) => s.replace('SYM', 'NEW')));
    expect(await fs.readFile(second.archivedTo!, 'utf8')).toBe(changed);
    await expect(fs.access(file)).rejects.toThrow();
    const history = await pg.query('SELECT status, rows_loaded::int AS rows, archived_path FROM ref.file_monitor_tracking WHERE file_path = $1 ORDER BY id', [file]);
    expect(history.rows).toEqual([{ status: 'loaded', rows: 7, archived_path: null }, { status: 'loaded', rows: 5, archived_path: second.archivedTo }]);
  });
});

describe('a drop whose event reaches the run still busy with the file before it (fault matrix: re-drop × archiving)', () => {
  it('gets its own run as soon as that run ends, not at the next rescan', async () => {
    const rel = 'reference_data_table/append/tiers.csv';
    const file = path.join(sys.dropRoot, rel);
    // No rescan within the test: only the watcher's own follow-up can start the second run.
    const watcher = await startWatcher({ client: sys.client, dropRoot: sys.dropRoot, stability: sys.stability, log: silentLogger(), rescanIntervalMs: 600_000 });
    const locker = await openPg();
    const handle = sys.client.workflow.getHandle(fileWorkflowId(rel));
    const second = instrumentCsv(4).replace(/SYM/g, 'NEW');
    try {
      // Holding the reference config stops the first run after its rows are in, with the file still its own.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE ref.reference_data_cfg IN EXCLUSIVE MODE');
      await fs.writeFile(file, instrumentCsv(6));
      const firstRun = await waitFor('the first run committed', async () => {
        const d = await handle.describe();
        const { loadId } = await handle.query(progressQuery);
        return loadId && (await loadRow(loadId))?.status === 'loaded' ? d.runId : null;
      });
      const tmp = path.join(path.dirname(sys.dropRoot), `tiers.${Date.now()}.tmp`);
      await fs.writeFile(tmp, second);
      await fs.rename(tmp, file);
      await new Promise((r) => setTimeout(r, 500)); // the watcher's event reaches the busy run
      await locker.query('COMMIT');
      const first = (await sys.client.workflow.getHandle(handle.workflowId, firstRun).result()) as FileLifecycleResult;
      expect(first).toMatchObject({ status: 'loaded', rows: 6, archivedTo: null });
      const next = await waitFor('a run of the new drop', async () => {
        const d = await handle.describe();
        return d.runId !== firstRun ? d.runId : null;
      }, 30_000);
      const result = (await sys.client.workflow.getHandle(handle.workflowId, next).result()) as FileLifecycleResult;
      expect(result).toMatchObject({ status: 'loaded', rows: 4 });
      expect(await fs.readFile(result.archivedTo!, 'utf8')).toBe(second);
      expect(await symbols('ref.tiers')).toEqual([...sorted(6), ...sorted(4).map((s) => s.replace('SYM', 'NEW'))].sort());
      await expect(fs.access(file)).rejects.toThrow();
      const history = await pg.query('SELECT status, rows_loaded::int AS rows FROM ref.file_monitor_tracking WHERE file_path = $1 ORDER BY id', [file]);
      expect(history.rows).toEqual([{ status: 'loaded', rows: 6 }, { status: 'loaded', rows: 4 }]);
    } finally {
      await locker.end();
      await watcher.close();
    }
  });
});

describe('the same bytes written again under the same name while the file loads (fault matrix: re-drop × loading)', () => {
  it('is the same file: the run finishes loaded with every row once, and archives the file once', async () => {
    const folder = 'none_reference_data_table/append';
    const content = instrumentCsv(20_000);
    const { file, handle } = await start(folder, 'rewritten.csv', content);
    await waitFor('a committed batch', async () => (await handle.query(progressQuery)).rows >= 2000);
    // Holding the load's checkpoint row stops the next batch from committing while the file is dropped again.
    const { loadId } = await handle.query(progressQuery);
    const blocker = await openPg();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM ref.loads WHERE load_id = $1 FOR UPDATE', [loadId]);
    try {
      const tmp = path.join(path.dirname(sys.dropRoot), `rewritten.${Date.now()}.tmp`);
      await fs.writeFile(tmp, content);
      const later = new Date(Date.now() + 60_000);
      await fs.utimes(tmp, later, later); // a new mtime for certain, as a later copy of the same file has
      await fs.rename(tmp, file);
    } finally {
      await blocker.query('COMMIT');
      await blocker.end();
    }
    const result = (await handle.result()) as FileLifecycleResult;
    expect(result).toMatchObject({ status: 'loaded', rows: 20_000 });
    expect(result.note).toBeUndefined();
    expect(await symbols('data.rewritten')).toEqual(sorted(20_000));
    expect(await loadRow(loadId!)).toEqual({ status: 'loaded', rows: 20_000 });
    expect(await fs.readFile(result.archivedTo!, 'utf8')).toBe(content);
    await expect(fs.access(file)).rejects.toThrow();
    expect((await pg.query('SELECT status, rows_loaded::int AS rows FROM ref.file_monitor_tracking WHERE file_path = $1', [file])).rows).toEqual([{ status: 'loaded', rows: 20_000 }]);
  });
});

describe('quarantined rows are counted apart (defect 10, ledger and result)', () => {
  it('the result and the ledger row carry loaded and quarantined separately', async () => {
    // The 1 MiB planning sample ends near row 21,000: bad values after it reach the loader, not the planner.
    const lines = instrumentCsv(30_000).split('\n');
    for (const r of [26_000, 29_500]) lines[r] = lines[r].replace(/,(\d{4}-\d\d-\d\d),/, ',not-a-date,');
    const { result, file } = await dropAndRun(sys, 'none_reference_data_table/append', 'bumpy_trades.csv', lines.join('\n'));
    expect(result).toMatchObject({ status: 'loaded', rows: 29_998, quarantined: 2 });
    expect((await pg.query('SELECT count(*)::int AS n FROM data.bumpy_trades')).rows[0].n).toBe(29_998);
    expect(await sys.db.getTrackingByPath(file)).toMatchObject({ status: 'loaded', rowsLoaded: 29_998, rowsQuarantined: 2 });
  });
});

describe('the ledger keeps one row per drop (defect 11)', () => {
  it('re-drops add rows (loaded, loaded, vanished) with their own times and archived paths; readers show the newest', async () => {
    const folder = 'none_reference_data_table/append';
    const first = await dropAndRun(sys, folder, 'hist.csv', instrumentCsv(5));
    const second = await dropAndRun(sys, folder, 'hist.csv', instrumentCsv(6));
    expect([first.result?.status, second.result?.status]).toEqual(['loaded', 'loaded']);
    const file = first.file;
    await fs.writeFile(file, instrumentCsv(7));
    const started = await signalFileWorkflow(sys.client, { dropRoot: sys.dropRoot, filePath: file, stability: { checks: 10_000, intervalMs: 100, maxWaitMs: 3_600_000 } });
    await waitFor('waiting', async () => (await sys.db.getTrackingByPath(file))?.status === 'waiting');
    await fs.rm(file);
    expect((await sys.client.workflow.getHandle((started as { workflowId: string }).workflowId).result()).status).toBe('vanished');

    const rows = (await pg.query(
      'SELECT status, rows_loaded::int AS rows, archived_path, run_id, created_at FROM ref.file_monitor_tracking WHERE file_path = $1 ORDER BY id', [file],
    )).rows as Array<{ status: string; rows: number | null; archived_path: string | null; run_id: string; created_at: Date }>;
    expect(rows.map((r) => [r.status, r.rows])).toEqual([['loaded', 5], ['loaded', 6], ['vanished', null]]);
    expect(rows.map((r) => r.archived_path)).toEqual([first.result!.archivedTo, second.result!.archivedTo, null]);
    expect(new Set(rows.map((r) => r.run_id)).size).toBe(3);
    expect(rows[0].created_at.getTime()).toBeLessThan(rows[1].created_at.getTime());
    expect(rows[1].created_at.getTime()).toBeLessThan(rows[2].created_at.getTime());
    expect(await pg.query('SELECT count(*)::int AS n FROM data.hist').then((r) => r.rows[0].n)).toBe(11);

    const current = await sys.api.inject({ method: 'GET', url: '/api/v1/files?limit=1000', headers: { authorization: `Bearer ${sys.adminKey}` } });
    const mine = (current.json().items as Array<{ filePath: string; status: string }>).filter((i) => i.filePath === file);
    expect(mine.map((i) => i.status)).toEqual(['vanished']);
    const history = await sys.api.inject({ method: 'GET', url: '/api/v1/files?limit=1000&history=true', headers: { authorization: `Bearer ${sys.adminKey}` } });
    const all = (history.json().items as Array<{ filePath: string; status: string; archivedPath: string | null }>).filter((i) => i.filePath === file);
    expect(all.map((i) => i.status)).toEqual(['vanished', 'loaded', 'loaded']);
    expect(all[2].archivedPath).toBe(first.result!.archivedTo);
  });
});

/** A TCP door in front of the dev server: closed, nothing answers on its port (Temporal unreachable); open, it relays. */
async function temporalDoor(target: string) {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  // Take a free port now, then close it: the client is built against it while it is closed.
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const doorPort = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return {
    address: `127.0.0.1:${doorPort}`,
    open: () => new Promise<void>((r) => server.listen(doorPort, '127.0.0.1', r)),
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('a file dropped while Temporal is unreachable (defect 8)', () => {
  it('is started once Temporal answers again: exactly one workflow run, one ledger row, the rows loaded', async () => {
    const door = await temporalDoor(inject('temporalAddress'));
    // No gRPC retry interceptor: a call fails as soon as Temporal does not answer, as it would after the SDK's retries.
    const connection = Connection.lazy({ address: door.address, interceptors: [] });
    const client = new TemporalClient({ connection, namespace: sys.namespace });
    const watcher = await startWatcher({
      client, dropRoot: sys.dropRoot, stability: sys.stability, log: silentLogger(), rescanIntervalMs: 60_000, retry: { initialMs: 200, maxMs: 1_000 },
    });
    const file = path.join(sys.dropRoot, 'none_reference_data_table/append/outage_fills.csv');
    try {
      await fs.writeFile(file, instrumentCsv(12));
      // Long enough for the watcher to see the file and fail at least once.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await sys.db.getTrackingByPath(file)).toBeNull();
      await door.open();
      const rec = await waitFor('the file loaded after the outage', async () => {
        const r = await sys.db.getTrackingByPath(file);
        return r && ['loaded', 'error'].includes(r.status) ? r : null;
      }, 90_000);
      expect(rec).toMatchObject({ status: 'loaded', rowsLoaded: 12 });
    } finally {
      await watcher.close();
      await door.close();
      await connection.close().catch(() => undefined);
    }
    expect((await pg.query('SELECT count(*)::int AS n FROM ref.file_monitor_tracking WHERE file_path = $1', [file])).rows[0].n).toBe(1);
    expect(await symbols('data.outage_fills')).toEqual(sorted(12));
    const runs: string[] = [];
    for await (const w of sys.client.workflow.list({ query: `WorkflowId = '${fileWorkflowId('none_reference_data_table/append/outage_fills.csv')}'` })) runs.push(w.runId);
    expect(runs).toHaveLength(1);
  });

  it('a file already in a leaf folder when the watcher starts is started by the first scan, once', async () => {
    const file = path.join(sys.dropRoot, 'none_reference_data_table/append/waiting_fills.csv');
    await fs.writeFile(file, instrumentCsv(4));
    const watcher = await sys.watch();
    try {
      const rec = await waitFor('loaded', async () => {
        const r = await sys.db.getTrackingByPath(file);
        return r?.status === 'loaded' ? r : null;
      });
      expect(rec.rowsLoaded).toBe(4);
    } finally {
      await watcher.close();
    }
    expect((await pg.query('SELECT count(*)::int AS n FROM ref.file_monitor_tracking WHERE file_path = $1', [file])).rows[0].n).toBe(1);
  });
});
