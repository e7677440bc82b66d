// bench/ingest: a 1M-row × 12-column CSV through the whole fileLifecycle workflow vs `psql \copy`, in one run.
// Usage: npx tsx bench/ingest/run.ts [--rows 1000000] [--batch 50000]   → JSON on stdout
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
import { fileLifecycle } from '../../workflows/file-lifecycle';
import { taskQueues } from '../../src/ids';
import { generateCsv } from './generate';
import { createBenchDatabase, psql, startBenchTemporal, timed } from '../lib/env';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, batch: { type: 'string', default: '50000' } } });
  const rows = Number(values.rows);
  const batchRows = Number(values.batch);
  const dropRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-bench-'));
  const leaf = path.join(dropRoot, 'none_reference_data_table/fullload');
  fs.mkdirSync(leaf, { recursive: true });
  const file = path.join(leaf, 'bench_instruments.csv');
  const bytes = await generateCsv(file, rows);

  const bdb = await createBenchDatabase();
  const db = createPostgresDatabase(createNodePgExecutor(bdb.url), 'postgres');
  await db.migrate();
  const server = await startBenchTemporal();
  try {
    // Baseline: the same column types our planner picks, loaded by psql's client-side COPY.
    const plan = await planFile({ filePath: file, loadType: 'fullload', referenceData: false }, null);
    const baseline = { schema: 'data', name: 'psql_baseline' };
    psql(bdb.url, createTableSql(baseline, plan.columns));
    const cols = plan.columns.map((c) => `"${c.name}"`).join(', ');
    const psqlRun = await timed(async () => psql(bdb.url, `\\copy data.psql_baseline (${cols}) FROM '${file}' WITH (FORMAT csv, HEADER true)`));

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
    const rssBeforeMb = worker.peakRssMb();
    const ours = await timed(() =>
      client.workflow.execute(fileLifecycle, {
        taskQueue: taskQueues.ingest,
        workflowId: `bench-ingest-${Date.now()}`,
        args: [{ filePath: file, relativePath: 'none_reference_data_table/fullload/bench_instruments.csv', referenceData: false, loadType: 'fullload', stability: { checks: 0, intervalMs: 0, maxWaitMs: 60_000 }, skipStability: true }],
      }),
    );
    const peakRssMb = worker.peakRssMb();
    if (process.env.BENCH_TRACE) {
      const hist = await client.workflow.getHandle(ours.result.loadId ? (await client.workflow.list({ query: 'WorkflowType = "fileLifecycle"' })[Symbol.asyncIterator]().next()).value.workflowId : '').fetchHistory();
      const t0 = Number(hist.events![0].eventTime!.seconds) * 1000 + (hist.events![0].eventTime!.nanos ?? 0) / 1e6;
      for (const e of hist.events!) {
        const t = Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6 - t0;
        process.stderr.write(`${t.toFixed(0).padStart(6)} ${e.eventType} ${e.activityTaskScheduledEventAttributes?.activityType?.name ?? ''}\n`);
      }
    }
    await worker.stop();
    await connection.close();
    const loaded = await db.countRows({ schema: 'data', name: 'bench_instruments' });
    const out = {
      bench: 'ingest',
      rows,
      bytes,
      batchRows,
      psql: { seconds: round(psqlRun.seconds), rowsPerSecond: Math.round(rows / psqlRun.seconds) },
      refdata: { seconds: round(ours.seconds), rowsPerSecond: Math.round(rows / ours.seconds), status: ours.result.status, rowsLoaded: loaded },
      ratio: round(psqlRun.seconds / ours.seconds),
      workerPeakRssMb: peakRssMb,
      workerRssBeforeRunMb: rssBeforeMb,
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

const round = (n: number) => Math.round(n * 1000) / 1000;

main().catch((err) => {
  process.stderr.write(`bench/ingest failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
