// PostgreSQL crashes (pg_ctl stop -m immediate, then start) in the middle of a load: the append stage is unlogged, so
// crash recovery empties it while the checkpoint in ref.loads survives. The retried ingest (and a finish after a
// crash) must notice, load the file again from its first byte, and end with exactly the file's rows.
// The cluster is a private one (test/support/load-crash-bench.ts): the shared test server is never restarted.
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { LoadMode } from '../../src/db/types';
import type { LoadPlan } from '../../activities/plan';
import { runActivity as run, useLoadCrashBench } from '../support/load-crash-bench';

const ROWS = 20_000;
const BATCH = 1000;
const bench = useLoadCrashBench({ name: 'crash-load', batchRows: BATCH });
const { unavailable } = bench;
const activities = (onProgress?: () => void) => bench.activities({ onProgress });
const { writeCsv, expectExactly, crash } = bench;

/** Plans the file and runs the ingest until at least one batch is committed, then stops it as a dying worker would. */
async function ingestPartly(file: string, loadType: LoadMode, loadId: string): Promise<LoadPlan> {
  const env = new MockActivityEnvironment();
  const plan = await run(env, activities().planLoad, { filePath: file, loadType, referenceData: false });
  // Cancelled at the first progress report, the activity stops at the next one: two batches committed.
  const acts = activities(() => env.cancel());
  await expect(run(env, acts.ingestFile, { loadId, filePath: file, plan, workflowId: 'wf-crash' })).rejects.toThrow();
  const load = (await bench.db.getLoad(loadId))!;
  expect(load.rowsCommitted).toBeGreaterThanOrEqual(BATCH);
  expect(load.rowsCommitted).toBeLessThan(ROWS);
  return plan;
}

async function retryAndFinish(file: string, plan: LoadPlan, loadId: string): Promise<{ rows: number; quarantined: number }> {
  const env = new MockActivityEnvironment();
  const acts = activities();
  const result = await run(env, acts.ingestFile, { loadId, filePath: file, plan, workflowId: 'wf-crash' });
  await run(env, acts.finishLoad, { loadId, plan, filePath: file, fileHash: result.fileHash });
  return result;
}

describe.skipIf(unavailable)('PostgreSQL crash during a load', () => {
  it('append: the retried ingest finds the stage emptied by crash recovery, loads the file again, and the table holds exactly its rows', async () => {
    // The table exists before: the append goes through its stage.
    const seed = await writeCsv('crash_append.csv', 1, 5);
    await retryAndFinish(seed, await run(new MockActivityEnvironment(), activities().planLoad, { filePath: seed, loadType: 'append', referenceData: false }), 'load_crash_seed');
    const file = await writeCsv('crash_append.csv', 1000, ROWS);
    const plan = await ingestPartly(file, 'append', 'load_crash_append');
    await crash();
    const result = await retryAndFinish(file, plan, 'load_crash_append');
    expect(result).toMatchObject({ rows: ROWS, quarantined: 0 });
    expect(await bench.db.getLoad('load_crash_append')).toMatchObject({ status: 'loaded', rowsCommitted: ROWS });
    await expectExactly('crash_append', 'load_crash_append', 1000, ROWS);
    const [{ n }] = await bench.pg.query<{ n: string }>('SELECT count(*) AS n FROM data.crash_append');
    expect(Number(n)).toBe(ROWS + 5);
  });

  it('append: a crash after the last batch and before finishing does not finish an empty stage; the file is loaded again', async () => {
    const file = await writeCsv('crash_before_finish.csv', 1, ROWS);
    const env = new MockActivityEnvironment();
    const acts = activities();
    const plan = await run(env, acts.planLoad, { filePath: file, loadType: 'append', referenceData: false });
    const ingested = await run(env, acts.ingestFile, { loadId: 'load_crash_finish', filePath: file, plan, workflowId: 'wf-crash' });
    expect(ingested.rows).toBe(ROWS);
    await crash();
    await run(new MockActivityEnvironment(), activities().finishLoad, { loadId: 'load_crash_finish', plan, filePath: file, fileHash: ingested.fileHash, ingested });
    expect(await bench.db.getLoad('load_crash_finish')).toMatchObject({ status: 'loaded', rowsCommitted: ROWS });
    await expectExactly('crash_before_finish', 'load_crash_finish', 1, ROWS);
  });

  it('fullload: the logged shadow survives the crash; the retried ingest resumes and the table holds exactly the file', async () => {
    const file = await writeCsv('crash_full.csv', 500, ROWS);
    const plan = await ingestPartly(file, 'fullload', 'load_crash_full');
    await crash();
    const result = await retryAndFinish(file, plan, 'load_crash_full');
    expect(result.rows).toBe(ROWS);
    await expectExactly('crash_full', 'load_crash_full', 500, ROWS);
    const [{ n }] = await bench.pg.query<{ n: string }>('SELECT count(*) AS n FROM data.crash_full');
    expect(Number(n)).toBe(ROWS);
  });
});

if (unavailable) describe('PostgreSQL crash during a load', () => it.skip(`skipped: ${unavailable}`, () => undefined));
