// bench/ingest: a 1M-row × 12-column CSV through the whole fileLifecycle workflow vs `psql \copy`, in one run.
// Usage: npx tsx bench/ingest/run.ts [--rows 1000000] [--batch 50000] [--repeat 3]   → JSON on stdout
// Each repetition loads a fresh copy of the file into a fresh table both ways, alternating which goes first; the
// ratio reported is the median of the repetitions' ratios (the machine has 2 cores: one busy moment skews one run).
// BENCH_TRACE=1 prints the last measured workflow's history events with their times on stderr.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { createTableSql } from '../../src/db/postgres/sql';
import { planFile } from '../../activities/plan';
import { spawnWorker, waitForPollers, writeWorkflowBundle } from '../lib/worker-process';
import { fileLifecycle, type FileLifecycleResult } from '../../workflows/file-lifecycle';
import { taskQueues } from '../../src/ids';
import { generateCsv } from './generate';
import { createBenchDatabase, psql, startBenchTemporal, timed } from '../lib/env';

const round = (n: number) => Math.round(n * 1000) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, batch: { type: 'string', default: '50000' }, repeat: { type: 'string', default: '3' } } });
  const rows = Number(values.rows);
  const batchRows = Number(values.batch);
  const repeat = Math.max(1, Number(values.repeat));
  const dropRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-bench-'));
  const leaf = path.join(dropRoot, 'none_reference_data_table/fullload');
  fs.mkdirSync(leaf, { recursive: true });
  const source = path.join(dropRoot, 'source.csv');
  const bytes = await generateCsv(source, rows);

  const bdb = await createBenchDatabase();
  const db = createPostgresDatabase(createNodePgExecutor(bdb.url), 'postgres');
  await db.migrate();
  const server = await startBenchTemporal();
  try {
    // Baseline: the same column types our planner picks, loaded by psql's client-side COPY.
    const plan = await planFile({ filePath: source, loadType: 'fullload', referenceData: false }, null);
    const cols = plan.columns.map((c) => `"${c.name}"`).join(', ');

    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    // The worker runs as `refdata worker` in its own process with a prebuilt bundle, as in production,
    // so its peak memory is its own (not the benchmark's or webpack's).
    const bundle = await writeWorkflowBundle(path.join(dropRoot, 'workflow-bundle.js'));
    const worker = spawnWorker({
      DATABASE_URL: bdb.url, TEMPORAL_ADDRESS: server.address, REFDATA_DROPOFF_DIR: dropRoot,
      REFDATA_BATCH_ROWS: String(batchRows), REFDATA_WORKFLOW_BUNDLE: bundle,
    }, [taskQueues.ingest]);
    await waitForPollers(client, 'default', taskQueues.ingest);

    const load = (name: string) => {
      const workflowId = `bench-ingest-${name}-${Date.now()}`;
      const result = client.workflow.execute(fileLifecycle, {
        taskQueue: taskQueues.ingest,
        workflowId,
        args: [{ filePath: path.join(leaf, `${name}.csv`), relativePath: `none_reference_data_table/fullload/${name}.csv`, referenceData: false, loadType: 'fullload', stability: { checks: 0, intervalMs: 0, maxWaitMs: 60_000 }, skipStability: true }],
      });
      return { workflowId, result: result as Promise<FileLifecycleResult> };
    };
    // A long-running worker has loaded a file before: one small warm-up file first, so the measured runs do not
    // pay for the worker's first workflow context and first database connections.
    await generateCsv(path.join(leaf, 'bench_warmup.csv'), 1000);
    await load('bench_warmup').result;
    const rssBeforeMb = worker.peakRssMb();

    const runs: Array<{ psqlSeconds: number; refdataSeconds: number; ratio: number; workerCpuSeconds: number; rowsLoaded: number; status: string; loadAverage1m: number }> = [];
    let lastWorkflowId = '';
    /** The worker's resident memory during the last measured load: [ms since its start, MB]. */
    const rssTimeline: Array<[number, number]> = [];
    for (let i = 1; i <= repeat; i++) {
      const name = `bench_instruments_${i}`;
      const baseline = { schema: 'data', name: `psql_baseline_${i}` };
      psql(bdb.url, createTableSql(baseline, plan.columns));
      fs.copyFileSync(source, path.join(leaf, `${name}.csv`));
      const viaPsql = () => timed(async () => psql(bdb.url, `\\copy data.${baseline.name} (${cols}) FROM '${source}' WITH (FORMAT csv, HEADER true)`));
      let workerCpuSeconds = 0;
      const viaRefdata = () => timed(async () => {
        const cpu0 = worker.cpuSeconds();
        const t0 = Date.now();
        rssTimeline.length = 0;
        const sampler = setInterval(() => rssTimeline.push([Date.now() - t0, worker.rssMb()]), 25);
        const run = load(name);
        lastWorkflowId = run.workflowId;
        const result = await run.result.finally(() => clearInterval(sampler));
        workerCpuSeconds = worker.cpuSeconds() - cpu0;
        return result;
      });
      // Alternate the order, so neither side always runs on a cache the other warmed.
      const [p, o] = i % 2 === 1 ? [await viaPsql(), await viaRefdata()] : await (async () => { const ours = await viaRefdata(); return [await viaPsql(), ours] as const; })();
      runs.push({
        psqlSeconds: round(p.seconds), refdataSeconds: round(o.seconds), ratio: round(p.seconds / o.seconds), workerCpuSeconds: round(workerCpuSeconds),
        rowsLoaded: await db.countRows({ schema: 'data', name }), status: o.result.status, loadAverage1m: round(os.loadavg()[0]!),
      });
    }
    const peakRssMb = worker.peakRssMb();
    if (process.env.BENCH_TRACE) {
      const hist = await client.workflow.getHandle(lastWorkflowId).fetchHistory();
      const t0 = Number(hist.events![0].eventTime!.seconds) * 1000 + (hist.events![0].eventTime!.nanos ?? 0) / 1e6;
      for (const e of hist.events!) {
        const t = Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6 - t0;
        process.stderr.write(`${t.toFixed(0).padStart(6)} ${e.eventType} ${e.activityTaskScheduledEventAttributes?.activityType?.name ?? ''}\n`);
      }
      process.stderr.write(`worker RSS (ms MB): ${rssTimeline.map(([t, mb]) => `${t} ${mb}`).join(', ')}\n`);
    }
    await worker.stop();
    await connection.close();
    const psqlMedian = median(runs.map((r) => r.psqlSeconds));
    const oursMedian = median(runs.map((r) => r.refdataSeconds));
    const out = {
      bench: 'ingest',
      rows,
      bytes,
      batchRows,
      repeat,
      psql: { seconds: psqlMedian, rowsPerSecond: Math.round(rows / psqlMedian) },
      refdata: { seconds: oursMedian, rowsPerSecond: Math.round(rows / oursMedian), allLoaded: runs.every((r) => r.status === 'loaded' && r.rowsLoaded === rows) },
      ratio: median(runs.map((r) => r.ratio)),
      runs,
      workerPeakRssMb: peakRssMb,
      workerRssBeforeRunMb: rssBeforeMb,
      loadAverage: os.loadavg().map(round),
      target: { ratio: 0.7, aim: 0.9, workerPeakRssMb: 300 },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await db.close();
    await server.stop();
    await bdb.drop();
    fs.rmSync(dropRoot, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench/ingest failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
