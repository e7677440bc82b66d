// bench/sync: 150,000 instruments as gzip JSON over loopback HTTP through the whole instrumentSync workflow (first sync,
// unchanged re-sync of the same file, re-sync of the same rows in other bytes, day-2 sync), against `psql \copy` of
// the same rows and against only downloading and parsing.
// The worker runs in its own process (as `refdata worker` would) so its peak RSS is its own.
// Usage: npx tsx bench/sync/run.ts [--instruments 150000] [--batch 2000] [--queues sync]   → JSON on stdout
// (--queues: the worker polls only those task queues, as `refdata worker --queues sync` does; default all four.
//  --node-options: NODE_OPTIONS for the worker process, e.g. "--max-old-space-size=160".)
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { startInstrumentSync } from '../../src/temporal/instrument-sync';
import { instrumentSyncWorkflowId } from '../../src/ids';
import type { InstrumentSyncReport } from '../../src/instruments/types';
import { gzip, masterRecords, nextDay, startBroker, toJsonArray } from '../../test/support/instrument-files';
import { createBenchDatabase, psql, startBenchTemporal, timed } from '../lib/env';
import { downloadAndParse, writeBaselineCsv } from './baseline';

const root = path.resolve(__dirname, '../..');
/** The history event types the trace prints (temporal.api.enums.v1.EventType). */
const EVENT_TYPES: Record<number, string> = { 1: 'workflow started', 2: 'workflow completed', 10: 'scheduled', 11: 'started', 12: 'completed', 13: 'failed' };

function spawnWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  // As the image starts every refdata process (NODE_OPTIONS and MALLOC_ARENA_MAX in the Dockerfile): the heap
  // preload, in every thread, and two malloc arenas.
  const child = spawn(process.execPath, ['-r', path.join(root, 'workers/heap-preload.cjs'), '-r', 'tsx/cjs', path.join(root, 'test/support/worker-process.ts')], {
    cwd: root, env: { MALLOC_ARENA_MAX: '2', ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('worker ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  });
}

const loadAverage = () => os.loadavg().map((l) => Math.round(l * 100) / 100);

/** A process's resident set (Linux VmRSS), or its peak so far (VmHWM), in MB. */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kb) / 1024);
}
const peakRssMb = (pid: number) => statusMb(pid, 'VmHWM');
const rssMb = (pid: number) => statusMb(pid, 'VmRSS');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { instruments: { type: 'string', default: '150000' }, batch: { type: 'string', default: '2000' }, queues: { type: 'string', default: '' }, 'node-options': { type: 'string', default: '' } } });
  const n = Number(values.instruments);
  const options = Math.round(n * 0.83);
  const spec = { equities: Math.round(n * 0.13), indices: 150, futures: Math.round(n * 0.02), options, mcx: 0 };
  spec.mcx = n - spec.equities - spec.indices - spec.futures - spec.options;
  const day1 = masterRecords(spec);
  const day2 = nextDay(day1, { remove: Math.round(n * 0.02), modify: Math.round(n * 0.01), add: Math.round(n * 0.025) });
  const day1Json = toJsonArray(day1);
  const day1Gz = gzip(day1Json);
  // The same rows in other bytes (no line breaks): not the file the last sync applied, so every record is read,
  // hashed and compared with its stored row — the row-by-row "unchanged" path.
  const day1OtherBytesGz = gzip(Buffer.from(JSON.stringify(day1)));
  const day2Gz = gzip(toJsonArray(day2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-bench-sync-'));

  const bdb = await createBenchDatabase();
  const exec = createNodePgExecutor(bdb.url);
  const db = createPostgresDatabase(exec, 'postgres');
  await db.migrate();
  const server = await startBenchTemporal();
  const broker = await startBroker();
  broker.set('/day1.json.gz', { body: day1Gz });
  broker.set('/day2.json.gz', { body: day2Gz });
  broker.set('/day1-other-bytes.json.gz', { body: day1OtherBytesGz });
  const loadAtStart = loadAverage();
  let worker: ChildProcess | null = null;
  try {
    // Baseline: the same rows (typed columns, source record, hash) into a table shaped like ref.instruments, indexes and all.
    const csv = path.join(tmp, 'instruments.csv');
    const columns = await writeBaselineCsv(day1, csv);
    psql(bdb.url, 'CREATE TABLE ref.psql_baseline (LIKE ref.instruments INCLUDING ALL)');
    const psqlCopy = await timed(async () => psql(bdb.url, `\\copy ref.psql_baseline (${columns.join(', ')}) FROM '${csv}' WITH (FORMAT csv)`));
    const parseOnly = await timed(() => downloadAndParse(broker.url('/day1.json.gz'), path.join(tmp, 'parse.download'), false));
    const parseValidate = await timed(() => downloadAndParse(broker.url('/day1.json.gz'), path.join(tmp, 'parse.download'), true));

    const bundle = path.join(tmp, 'workflow-bundle.js');
    fs.writeFileSync(bundle, (await bundleWorkflowCode({ workflowsPath: path.join(root, 'workflows'), logger: new DefaultLogger('WARN') })).code);
    worker = await spawnWorker({
      DATABASE_URL: bdb.url, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'default', REFDATA_STATE_DIR: tmp, REFDATA_WORKFLOW_BUNDLE: bundle,
      INSTRUMENTS_URL: broker.url('/day1.json.gz'), REFDATA_ALLOW_PRIVATE_DESTINATIONS: 'true', INSTRUMENTS_BATCH_SIZE: String(values.batch), LOG_LEVEL: 'warn', WORKER_QUEUES: values.queues,
      ...(values['node-options'] ? { NODE_OPTIONS: values['node-options'] } : {}),
    });
    const rssIdleMb = peakRssMb(worker.pid!);
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    /** The worker's highest RSS seen during each sync (sampled every 50 ms), so a peak can be put down to one. */
    const peakRssBySync: Record<string, number> = {};
    const sync = async (label: string, url: string) => {
      let peak = 0;
      const t0 = Date.now();
      const timeline: string[] = [];
      const sampler = setInterval(() => {
        const now = rssMb(worker!.pid!);
        peak = Math.max(peak, now);
        if (process.env.BENCH_TRACE) timeline.push(`${Date.now() - t0}:${now}`);
      }, 50);
      try {
        return await timed(async () => {
          const started = await startInstrumentSync(client, { source: { url }, trigger: 'cli' });
          return (await client.workflow.getHandle(instrumentSyncWorkflowId, started.runId).result()) as InstrumentSyncReport;
        });
      } finally {
        clearInterval(sampler);
        peakRssBySync[label] = Math.max(peak, rssMb(worker!.pid!));
        // BENCH_TRACE=1: the worker's RSS (MB) every 50 ms of the sync, as ms:MB, to set beside its events below.
        if (process.env.BENCH_TRACE) process.stderr.write(`${label} rss ${timeline.join(' ')}\n`);
      }
    };
    /** BENCH_TRACE=1: each run's activity timeline (ms from its start) on stderr. */
    const trace = async (label: string, runId: string) => {
      if (!process.env.BENCH_TRACE) return;
      const events = (await client.workflow.getHandle(instrumentSyncWorkflowId, runId).fetchHistory()).events ?? [];
      const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
      const t0 = ms(events[0]?.eventTime);
      for (const e of events) {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
        const type = EVENT_TYPES[Number(e.eventType)];
        if (type) process.stderr.write(`${label} ${(ms(e.eventTime) - t0).toFixed(0).padStart(6)} ${type} ${name}\n`);
      }
    };
    const first = await sync('first', broker.url('/day1.json.gz'));
    const unchanged = await sync('unchanged', broker.url('/day1.json.gz'));
    const unchangedRows = await sync('unchangedRows', broker.url('/day1-other-bytes.json.gz'));
    const second = await sync('day2', broker.url('/day2.json.gz'));
    for (const [label, r] of [['first', first], ['unchanged', unchanged], ['unchangedRows', unchangedRows], ['day2', second]] as const) await trace(label, r.result.runId);
    const workerPeakRssMb = peakRssMb(worker.pid!);
    await connection.close();

    const counts = (r: InstrumentSyncReport) => ({ records: r.records, added: r.added, updated: r.updated, unchanged: r.unchanged, deactivated: r.deactivated, reactivated: r.reactivated, invalid: r.invalid, dbMs: r.durationMs });
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    process.stdout.write(`${JSON.stringify({
      instruments: n,
      batchSize: Number(values.batch),
      workerQueues: values.queues || 'all',
      workerNodeOptions: values['node-options'] || null,
      // 1, 5 and 15 minute load averages when the syncs began and when they ended (2 cores shared: read ratios, not seconds).
      loadAverage: { atStart: loadAtStart, atEnd: loadAverage() },
      fileBytes: { json: day1Json.length, gzip: day1Gz.length },
      seconds: {
        psqlCopy: psqlCopy.seconds, downloadAndParse: parseOnly.seconds, downloadParseAndValidate: parseValidate.seconds,
        firstSync: first.seconds, unchangedResync: unchanged.seconds, unchangedRowsResync: unchangedRows.seconds, day2Sync: second.seconds,
      },
      ratios: {
        firstSyncOverPsqlCopy: ratio(first.seconds, psqlCopy.seconds),
        unchangedResyncOverDownloadAndParse: ratio(unchanged.seconds, parseOnly.seconds),
        // No target: the same rows in a file with other bytes (every record hashed and compared).
        unchangedRowsResyncOverDownloadAndParse: ratio(unchangedRows.seconds, parseOnly.seconds),
      },
      workerRssMb: { idle: rssIdleMb, peak: workerPeakRssMb, peakBySync: peakRssBySync },
      targets: {
        firstSyncAtMost3xPsqlCopy: first.seconds <= 3 * psqlCopy.seconds,
        unchangedResyncAtMost1_5xDownloadAndParse: unchanged.seconds <= 1.5 * parseOnly.seconds,
        workerPeakRssUnder250Mb: workerPeakRssMb < 250,
      },
      reports: { first: counts(first.result), unchanged: counts(unchanged.result), unchangedRows: counts(unchangedRows.result), day2: counts(second.result) },
    }, null, 2)}\n`);
  } finally {
    worker?.kill('SIGTERM');
    await broker.close();
    await server.stop();
    await exec.close();
    await bdb.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/sync: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
