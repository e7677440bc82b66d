// What a load records must be what its table holds: the plan, ingest and finish activities (and revert) against a real
// PostgreSQL, with the values read back. Quarantined rows counted apart from loaded ones; rows in the columns the
// schema match paired; duplicates judged against the loads still in effect; reverts that never strand a later load.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { PgExecutor } from '../../src/db/postgres/executor';
import type { Database, LoadMode } from '../../src/db/types';
import { createPlanActivities, type LoadPlan } from '../../activities/plan';
import { createIngestActivities } from '../../activities/ingest';
import type { InvalidRowPolicy } from '../../src/invalid-row-policy';
import { silentLogger } from '../../src/log/logger';
import { revertLoad, toLoadView } from '../../src/loads';
import { planForCli } from '../../src/cli/plan';
import { createTestDatabase } from '../support/pg';
import { makeTempDir, type TempDir } from '../support/temp';

let db: Database;
let pg: PgExecutor;
let drop: () => Promise<void>;
let temp: TempDir;
const auditLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const tdb = await createTestDatabase(inject('pgUrl'));
  drop = tdb.drop;
  db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
  pg = createNodePgExecutor(tdb.url);
  await db.migrate();
  temp = await makeTempDir('refdata-load-truth-');
});
afterAll(async () => {
  await pg?.close();
  await db?.close();
  await drop?.();
  await temp?.cleanup();
});

/** A logger that keeps the audit events, to check what they say. */
function capturingLogger() {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.audit) auditLines.push(entry);
      }
      done();
    },
  });
  return pino({ level: 'info' }, stream);
}

const quarantine: InvalidRowPolicy = { mode: 'quarantine', maxErrorRatio: 0.5 };

function activities(policy: InvalidRowPolicy = { mode: 'reject-file' }, batchRows = 1000) {
  const log = capturingLogger();
  return {
    ...createPlanActivities({ db, log: silentLogger() }),
    ...createIngestActivities({ db, log, batchRows, policyFor: () => policy, progressIntervalMs: 0 }),
  };
}

/** Runs an activity the way a worker would (activity context, heartbeats), with its own types. */
function run<A extends unknown[], R>(env: MockActivityEnvironment, fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env.run(fn as (...a: unknown[]) => Promise<R>, ...args) as Promise<R>;
}

let fileNo = 0;
/** Writes `content` as `<folder>/<name>` under the temp dir (a fresh sub-folder each time, so names may repeat). */
async function writeFile(name: string, content: string): Promise<string> {
  const dir = path.join(temp.path, String(++fileNo));
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await fs.writeFile(file, content);
  return file;
}

/** Plans, ingests and finishes one file as the workflow does (no duplicate short-cut): the plan, the ingest result, the load id. */
async function loadFile(
  file: string, loadType: LoadMode, opts: { policy?: InvalidRowPolicy; batchRows?: number } = {},
): Promise<{ plan: LoadPlan; loadId: string; ingested: { rows: number; quarantined: number; batches: number; fileHash: string } }> {
  const env = new MockActivityEnvironment();
  const acts = activities(opts.policy, opts.batchRows);
  const plan = await run(env, acts.planLoad, { filePath: file, loadType, referenceData: false });
  // Backup names keep only the id's first characters: make those differ (two swaps can share a second).
  const loadId = `l${Math.random().toString(36).slice(2, 10)}_${++fileNo}`;
  const ingested = await run(env, acts.ingestFile, { loadId, filePath: file, plan, workflowId: 'wf-test' });
  await run(env, acts.finishLoad, { loadId, plan, filePath: file, fileHash: ingested.fileHash });
  return { plan, loadId, ingested };
}

/** `n` rows `id,name,day`; the rows numbered in `bad` carry a day that is not a date. */
function dayCsv(n: number, bad: number[] = [], header = 'id,name,day'): string {
  const lines = [header];
  for (let i = 1; i <= n; i++) lines.push(`${i},name ${i},${bad.includes(i) ? 'not-a-date' : `2024-01-${String((i % 28) + 1).padStart(2, '0')}`}`);
  return `${lines.join('\n')}\n`;
}

describe('quarantined rows are counted apart from loaded rows', () => {
  it('ref.loads, the ingest result, load.finished and the load view say loaded and quarantined separately, across a retried ingest', async () => {
    // The table exists with a date column, so the append converts to date (the planner would type a sample with
    // `not-a-date` in it as text).
    await loadFile(await writeFile('quarantine_counts.csv', dayCsv(0, [], 'id,name,day\n0,zero,2024-01-01')), 'append');
    const file = await writeFile('quarantine_counts.csv', dayCsv(3000, [1500, 2500]));
    const env = new MockActivityEnvironment();
    const acts = activities(quarantine);
    const plan = await run(env, acts.planLoad, { filePath: file, loadType: 'append', referenceData: false });
    const loadId = 'load_quarantine_counts';
    const first = await run(env, acts.ingestFile, { loadId, filePath: file, plan, workflowId: 'wf-q' });
    expect(first).toMatchObject({ rows: 2998, quarantined: 2 });
    // The result of that attempt was lost (a worker died before reporting it): Temporal runs the activity again.
    const retried = await run(env, acts.ingestFile, { loadId, filePath: file, plan, workflowId: 'wf-q' });
    expect(retried).toMatchObject({ rows: 2998, quarantined: 2 });

    auditLines.length = 0;
    await run(env, acts.finishLoad, { loadId, plan, filePath: file, fileHash: first.fileHash });
    const load = await db.getLoad(loadId);
    expect(load).toMatchObject({ status: 'loaded', rowsCommitted: 2998, rowsQuarantined: 2 });
    expect(toLoadView(load!)).toMatchObject({ rows: 2998, quarantined: 2 });
    expect(auditLines.find((l) => l.event === 'load.finished')).toMatchObject({ rows: 2998, quarantined: 2 });

    const [{ n, ids }] = await pg.query<{ n: string; ids: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS ids FROM data.quarantine_counts WHERE refdata_load_id = $1`, [loadId]);
    expect([Number(n), Number(ids)]).toEqual([2998, 2998]);
    const bad = await pg.query<{ row_number: string }>(`SELECT row_number FROM ref.invalid_records WHERE source_ref = $1 ORDER BY row_number`, [loadId]);
    expect(bad.map((r) => Number(r.row_number))).toEqual([1500, 2500]);
    const [{ missing }] = await pg.query<{ missing: string }>(`SELECT count(*) AS missing FROM data.quarantine_counts WHERE id IN (1500, 2500)`);
    expect(Number(missing)).toBe(0);
  });
});

describe('rows go into the columns the schema match paired', () => {
  const rows = (from: number) => [1, 2, 3].map((i) => [from + i, `name ${from + i}`, `${from + i}.25`]);
  const csv = (header: string, from: number) => `${header}\n${rows(from).map((r) => r.join(',')).join('\n')}\n`;
  const variants: [string, string][] = [
    ['camelCase with an upper-case id', 'CustomerID,Name,Amount'],
    ['spaces and upper case', 'Customer ID,NAME,amount'],
    ['camelCase', 'customerId,name,AMOUNT'],
    ['underscores doubled', 'customer__id,_name_,amount'],
    ['a BOM before the first name', '\uFEFFCustomerID,Name,Amount'],
  ];

  async function columnsOf(table: string): Promise<string[]> {
    const cols = await pg.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'data' AND table_name = $1 ORDER BY ordinal_position`, [table],
    );
    return cols.map((c) => c.column_name);
  }

  async function valuesOf(table: string, loadId: string): Promise<string[][]> {
    const got = await pg.query<{ customer_id: number; name: string; amount: string }>(
      `SELECT customer_id, name, amount::text AS amount FROM data.${table} WHERE refdata_load_id = $1 ORDER BY customer_id`, [loadId],
    );
    return got.map((r) => [String(r.customer_id), r.name, r.amount]);
  }

  it.each(variants)('append, %s: the values land in customer_id, name, amount and no column is added', async (_name, header) => {
    const table = `paired_append_${variants.findIndex((v) => v[1] === header)}`;
    await loadFile(await writeFile(`${table}.csv`, csv('customer_id,name,amount', 0)), 'append');
    const { loadId, plan } = await loadFile(await writeFile(`${table}.csv`, csv(header, 10)), 'append');
    expect(plan.columns.map((c) => c.name)).toEqual(['customer_id', 'name', 'amount']);
    expect(await columnsOf(table)).toEqual(['customer_id', 'name', 'amount', 'refdata_load_id']);
    expect(await valuesOf(table, loadId)).toEqual(rows(10).map((r) => r.map(String)));
    const [{ nulls }] = await pg.query<{ nulls: string }>(`SELECT count(*) AS nulls FROM data.${table} WHERE customer_id IS NULL OR name IS NULL OR amount IS NULL`);
    expect(Number(nulls)).toBe(0);
  });

  it.each(variants)('fullload, %s: the new table keeps the column names the match paired', async (_name, header) => {
    const table = `paired_full_${variants.findIndex((v) => v[1] === header)}`;
    await loadFile(await writeFile(`${table}.csv`, csv('customer_id,name,amount', 0)), 'fullload');
    const { loadId } = await loadFile(await writeFile(`${table}.csv`, csv(header, 20)), 'fullload');
    expect(await columnsOf(table)).toEqual(['customer_id', 'name', 'amount', 'refdata_load_id']);
    expect(await valuesOf(table, loadId)).toEqual(rows(20).map((r) => r.map(String)));
  });

  it('refdata plan shows each file header and the table column it goes into', async () => {
    await loadFile(await writeFile('paired_plan.csv', csv('customer_id,name,amount', 0)), 'append');
    const file = await writeFile('paired_plan.csv', `CustomerID,Name,Amount,Desk Code\n${rows(30).map((r) => [...r, 'D1'].join(',')).join('\n')}\n`);
    const plan = await planForCli(file, { loadType: 'append', referenceData: false, db }, temp.path);
    expect(plan.mapping).toEqual([
      { header: 'CustomerID', column: 'customer_id', existing: true },
      { header: 'Name', column: 'name', existing: true },
      { header: 'Amount', column: 'amount', existing: true },
      { header: 'Desk Code', column: 'desk_code', existing: false },
    ]);
  });
});

describe('a duplicate is judged against the loads still in effect', () => {
  const plan = (file: string, loadType: LoadMode) => run(new MockActivityEnvironment(), activities().planLoad, { filePath: file, loadType, referenceData: false });
  const idsOf = async (table: string) => (await pg.query<{ id: number }>(`SELECT id FROM data.${table} ORDER BY id`)).map((r) => Number(r.id));
  const csvOf = (ids: number[]) => `id,name\n${ids.map((i) => `${i},n${i}`).join('\n')}\n`;

  it('fullload: yesterday\'s file restores the table after today\'s replaced it; sending it again then is a duplicate', async () => {
    const yesterday = csvOf([1, 2, 3]);
    const first = await loadFile(await writeFile('restore_me.csv', yesterday), 'fullload');
    await loadFile(await writeFile('restore_me.csv', csvOf([7, 8])), 'fullload');
    const again = await writeFile('restore_me.csv', yesterday);
    expect((await plan(again, 'fullload')).duplicateOf).toBeNull();
    const restore = await loadFile(again, 'fullload');
    expect(await idsOf('restore_me')).toEqual([1, 2, 3]);
    expect(restore.loadId).not.toBe(first.loadId);
    expect((await plan(await writeFile('restore_me.csv', yesterday), 'fullload')).duplicateOf).toBe(restore.loadId);
  });

  it('fullload: the same file is not a duplicate once an append changed the table it loaded', async () => {
    const base = csvOf([1, 2]);
    const full = await loadFile(await writeFile('full_then_append.csv', base), 'fullload');
    expect((await plan(await writeFile('full_then_append.csv', base), 'fullload')).duplicateOf).toBe(full.loadId);
    await loadFile(await writeFile('full_then_append.csv', csvOf([3])), 'append');
    expect((await plan(await writeFile('full_then_append.csv', base), 'fullload')).duplicateOf).toBeNull();
  });

  it('append: a file whose rows are in the table is a duplicate; once a fullload replaced them, it is not', async () => {
    const extra = csvOf([10, 11]);
    const appended = await loadFile(await writeFile('append_dup.csv', extra), 'append');
    await loadFile(await writeFile('append_dup.csv', csvOf([12])), 'append');
    expect((await plan(await writeFile('append_dup.csv', extra), 'append')).duplicateOf).toBe(appended.loadId);
    await loadFile(await writeFile('append_dup.csv', csvOf([1])), 'fullload');
    expect((await plan(await writeFile('append_dup.csv', extra), 'append')).duplicateOf).toBeNull();
  });
});

describe('a revert never strands a load on top of it', () => {
  const idsOf = async (table: string) => (await pg.query<{ id: number }>(`SELECT id FROM data.${table} ORDER BY id`)).map((r) => Number(r.id));
  const csvOf = (ids: number[]) => `id,name\n${ids.map((i) => `${i},n${i}`).join('\n')}\n`;
  const statusOf = async (loadId: string) => (await db.getLoad(loadId))?.status;

  it('a fullload with appends on top is refused, naming them; reverted in the order given, the table is back to the earlier fullload', async () => {
    await loadFile(await writeFile('stacked.csv', csvOf([1, 2, 3])), 'fullload');
    const today = await loadFile(await writeFile('stacked.csv', csvOf([7, 8])), 'fullload');
    const a1 = await loadFile(await writeFile('stacked.csv', csvOf([9])), 'append');
    const a2 = await loadFile(await writeFile('stacked.csv', csvOf([10])), 'append');

    const refused = await revertLoad(db, today.loadId).then(() => null, (err: Error) => err.message);
    expect(refused).toBe(`load ${today.loadId} cannot be reverted: 2 appends ${a2.loadId}, ${a1.loadId} loaded into data.stacked after it; revert them, in that order (newest first), first`);
    expect([await statusOf(today.loadId), await statusOf(a1.loadId), await statusOf(a2.loadId)]).toEqual(['loaded', 'loaded', 'loaded']);
    expect(await idsOf('stacked')).toEqual([7, 8, 9, 10]);

    expect((await revertLoad(db, a2.loadId)).rows).toBe(1);
    expect((await revertLoad(db, a1.loadId)).rows).toBe(1);
    await revertLoad(db, today.loadId);
    expect(await idsOf('stacked')).toEqual([1, 2, 3]);
    // The reverted append's file is no duplicate now: it loads again.
    const plan = await run(new MockActivityEnvironment(), activities().planLoad, { filePath: await writeFile('stacked.csv', csvOf([9])), loadType: 'append', referenceData: false });
    expect(plan.duplicateOf).toBeNull();
  });

  it('an append a later fullload replaced is refused: its rows are not in the live table', async () => {
    const appended = await loadFile(await writeFile('replaced_append.csv', csvOf([20])), 'append');
    const full = await loadFile(await writeFile('replaced_append.csv', csvOf([30, 31])), 'fullload');
    const refused = await revertLoad(db, appended.loadId).then(() => null, (err: Error) => err.message);
    expect(refused).toBe(`load ${appended.loadId} cannot be reverted: the later fullload ${full.loadId} replaced data.replaced_append, so its rows are not in the live table; revert ${full.loadId} first`);
    expect(await statusOf(appended.loadId)).toBe('loaded');
    expect(await idsOf('replaced_append')).toEqual([30, 31]);
    await revertLoad(db, full.loadId);
    expect(await idsOf('replaced_append')).toEqual([20]);
    await revertLoad(db, appended.loadId);
    expect(await idsOf('replaced_append')).toEqual([]);
  });
});

describe('two identical files finishing at the same moment', () => {
  it('only one is made visible; the other is answered as its duplicate and leaves nothing in the table', async () => {
    const content = `id,name\n${[1, 2, 3].map((i) => `${i},n${i}`).join('\n')}\n`;
    const acts = activities();
    // Two paths, one table, the same bytes; both planned before either finished, so planning saw no duplicate.
    const files = [await writeFile('twin_race.csv', content), await writeFile('twin_race.csv', content)];
    const staged = await Promise.all(files.map(async (file, i) => {
      const env = new MockActivityEnvironment();
      const plan = await run(env, acts.planLoad, { filePath: file, loadType: 'append', referenceData: false });
      expect(plan.duplicateOf ?? null).toBeNull();
      const loadId = `load_twin_${i}_${fileNo}`;
      const ingested = await run(env, acts.ingestFile, { loadId, filePath: file, plan, workflowId: `wf-twin-${i}` });
      return { file, plan, loadId, ingested };
    }));
    const finished = await Promise.all(staged.map((s) =>
      run(new MockActivityEnvironment(), acts.finishLoad, { loadId: s.loadId, plan: s.plan, filePath: s.file, fileHash: s.ingested.fileHash })));
    const winner = staged[finished.findIndex((f) => f.duplicateOf === null)];
    const loser = staged[finished.findIndex((f) => f.duplicateOf !== null)];
    expect(winner).toBeDefined();
    expect(loser).toBeDefined();
    expect(finished.map((f) => f.duplicateOf).sort()).toEqual([null, winner.loadId].sort());
    const rows = await pg.query<{ id: string; name: string; refdata_load_id: string }>('SELECT id, name, refdata_load_id FROM data.twin_race ORDER BY id');
    expect(rows.map((r) => [String(r.id), r.name, r.refdata_load_id])).toEqual([1, 2, 3].map((i) => [String(i), `n${i}`, winner.loadId]));
    expect((await db.getLoad(winner.loadId))?.status).toBe('loaded');
    expect((await db.getLoad(loser.loadId))?.status).toBe('loading');
  });
});

describe('planning heartbeats', () => {
  it('planLoad heartbeats while it reads, so a killed worker is noticed after the heartbeat timeout', async () => {
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => {
      beats += 1;
    });
    const file = await writeFile('heartbeat_plan.csv', `id,name\n${Array.from({ length: 5000 }, (_, i) => `${i},n${i}`).join('\n')}\n`);
    const plan = await run(env, activities().planLoad, { filePath: file, loadType: 'append', referenceData: false });
    expect(plan.fileHash).toMatch(/^[0-9a-f]{64}$/);
    expect(beats).toBeGreaterThanOrEqual(3);
  });
});

describe('compensation after a finish that committed', () => {
  it('abortLoad leaves a committed load and its rows as they are and says so; an unfinished one it undoes', async () => {
    const acts = activities();
    const done = await loadFile(await writeFile('committed_then_failed.csv', dayCsv(7)), 'append');
    // The workflow's compensation, as after a finish whose every retry failed although one attempt had committed.
    const kept = await run(new MockActivityEnvironment(), acts.abortLoad, { loadId: done.loadId });
    expect(kept).toEqual({ committed: true, rows: 7, quarantined: 0 });
    expect((await db.getLoad(done.loadId))?.status).toBe('loaded');
    const rows = await pg.query<{ id: string; refdata_load_id: string }>('SELECT id, refdata_load_id FROM data.committed_then_failed ORDER BY id');
    expect(rows.map((r) => [String(r.id), r.refdata_load_id])).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => [String(i), done.loadId]));

    // An append ingested but never finished: its rows are taken out, and the answer says nothing was committed.
    const file = await writeFile('committed_then_failed.csv', dayCsv(3, [], 'id,name,day').replace(/name /g, 'other '));
    const env = new MockActivityEnvironment();
    const plan = await run(env, acts.planLoad, { filePath: file, loadType: 'append', referenceData: false });
    const loadId = `l_unfinished_${++fileNo}`;
    await run(env, acts.ingestFile, { loadId, filePath: file, plan, workflowId: 'wf-unfinished' });
    expect(await run(env, acts.abortLoad, { loadId })).toEqual({ committed: false, rows: 0, quarantined: 0 });
    expect((await db.getLoad(loadId))?.status).toBe('aborted');
    const after = await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM data.committed_then_failed');
    expect(after[0]!.n).toBe(7);
  });
});
