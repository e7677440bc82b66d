// bench/distribution: the full file of 1,000,000 instruments written by the `distribution` workflow (a `refdata worker
// --queues distribution` process of its own, so its peak RSS is its own) against psql's `\copy (SELECT …) TO` of the
// same SELECT in the same run, taking turns. The first run's delta is every row too; the next three dates have an
// empty delta, so their generation time is the full file's.
// Usage: npx tsx bench/distribution/run.ts [--instruments 1000000]   → JSON on stdout
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { instrumentExportSql } from '../../src/db/postgres/distribution-runs-sql';
import { startDistribution } from '../../src/distribution/start';
import { distributionWorkflowId, taskQueues } from '../../src/ids';
import type { DistributionResult } from '../../workflows/distribution';
import { createBenchDatabase, psql, startBenchTemporal, timed } from '../lib/env';
import { spawnWorker, waitForPollers, writeWorkflowBundle } from '../lib/worker-process';

/** One instrument as COPY text (tab-separated, \N for NULL): 80 % NIFTY options, the rest equities. */
function instrumentLine(i: number): string {
  if (i % 10 < 8) {
    const strike = 18000 + (i % 80) * 50;
    const type = i % 2 === 0 ? 'CE' : 'PE';
    const day = String(1 + (Math.floor(i / 160) % 28)).padStart(2, '0');
    return [`NSE_FO|${1_000_000 + i}`, 'NSE_FO', 'NSE', type, 'NIFTY', `NIFTY ${strike} ${type} ${day} FEB 24`, '\\N', `2024-02-${day}`, `${strike}.5`, '50', '0.05', '1800',
      'NSE_INDEX|Nifty 50', type, 't', `{"token":${i}}`, String(i).padStart(64, '0')].join('\t');
  }
  const isin = `INE${String(i).padStart(7, '0')}01`;
  return [`NSE_EQ|${isin}`, 'NSE_EQ', 'NSE', 'EQ', `COMPANY ${i} LIMITED`, `SYM${i}`, isin, '\\N', '\\N', '1', '0.05', '100000', '\\N', '\\N', '\\N', `{"token":${i}}`,
    String(i).padStart(64, '0')].join('\t');
}

async function* copyText(n: number): AsyncGenerator<string> {
  for (let at = 0; at < n; at += 20_000) {
    const lines: string[] = [];
    for (let i = at; i < Math.min(at + 20_000, n); i++) lines.push(instrumentLine(i));
    yield `${lines.join('\n')}\n`;
  }
}

const COLUMNS = 'instrument_key, segment, exchange, instrument_type, name, trading_symbol, isin, expiry, strike_price, lot_size, tick_size, freeze_quantity, underlying_key, option_type, weekly, source_record, row_hash';

/** Seconds the generate activity ran (started → completed), from the run's history. */
async function generateSeconds(client: Client, runId: string, workflowRunId: string): Promise<number> {
  const events = (await client.workflow.getHandle(distributionWorkflowId(runId), workflowRunId).fetchHistory()).events ?? [];
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'generateDistributionFiles');
  const started = events.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(scheduled?.eventId));
  const completed = events.find((e) => e.activityTaskCompletedEventAttributes && String(e.activityTaskCompletedEventAttributes.scheduledEventId) === String(scheduled?.eventId));
  return (ms(completed?.eventTime) - ms(started?.eventTime)) / 1000;
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { instruments: { type: 'string', default: '1000000' } } });
  const n = Number(values.instruments);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-bench-dist-'));
  const loadBefore = os.loadavg();
  const bdb = await createBenchDatabase();
  const exec = createNodePgExecutor(bdb.url);
  const db = createPostgresDatabase(exec, 'postgres');
  await db.migrate();
  const server = await startBenchTemporal();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  let worker: ReturnType<typeof spawnWorker> | null = null;
  try {
    // The trigram index serves name searches, not the distribution; without it the million rows load in seconds.
    await exec.exec('DROP INDEX IF EXISTS ref.ix_instruments_name_trgm');
    const load = await timed(() => exec.copyFromCsv(`COPY ref.instruments (${COLUMNS}) FROM STDIN`, copyText(n)));
    await exec.exec('VACUUM ANALYZE ref.instruments');

    const select = instrumentExportSql('full', { from: null, to: '2100-01-01T00:00:00.000000Z' }).sql;
    const psqlFile = path.join(tmp, 'psql_full.csv');
    const psqlCopy = async () => (await timed(async () => psql(bdb.url, `\\copy (${select}) TO '${psqlFile}' WITH (FORMAT csv, HEADER true)`))).seconds;

    const bundle = await writeWorkflowBundle(path.join(tmp, 'workflow-bundle.js'));
    worker = spawnWorker({ DATABASE_URL: bdb.url, TEMPORAL_ADDRESS: server.address, REFDATA_STATE_DIR: tmp, REFDATA_WORKFLOW_BUNDLE: bundle, REFDATA_DISTRIBUTION_TIMEZONE: 'UTC' }, [taskQueues.distribution]);
    await waitForPollers(client, 'default', taskQueues.distribution);
    const rssIdleMb = worker.peakRssMb();
    const run = async (businessDate: string) => {
      const started = await startDistribution(client, { kind: 'full', businessDate, suffix: null }, 'cli');
      const total = await timed(async () => (await client.workflow.getHandle(started.workflowId, started.workflowRunId).result()) as DistributionResult);
      return { result: total.result, workflowSeconds: total.seconds, generateSeconds: await generateSeconds(client, started.runId, started.workflowRunId) };
    };
    // psql and the worker take turns, so both see the same (shared, busy) machine: psql, run, psql, run, …, psql.
    const psqlSeconds = [await psqlCopy()];
    const first = await run('2024-03-01');
    psqlSeconds.push(await psqlCopy());
    const later: Array<Awaited<ReturnType<typeof run>>> = [];
    for (const date of ['2024-03-02', '2024-03-03', '2024-03-04']) {
      later.push(await run(date));
      psqlSeconds.push(await psqlCopy());
    }
    const workerPeakRssMb = worker.peakRssMb();
    const second = later[0]!;
    const full = second.result.files.find((f) => f.type === 'full' && f.dataset === 'instruments')!;
    const psqlBytes = fs.statSync(psqlFile).size;
    const sameBytes = fs.readFileSync(psqlFile).equals(fs.readFileSync(path.join(tmp, 'distribution', '20240302', full.name)));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const generate = later.map((r) => r.generateSeconds);
    const throughput = (bytes: number, sec: number) => round(bytes / 1024 / 1024 / sec, 1);
    const ratioMedian = median(psqlSeconds) / median(generate);
    process.stdout.write(`${JSON.stringify({
      bench: 'distribution',
      instruments: n,
      fullFile: { rows: full.rows, bytes: full.bytes, identicalToPsql: sameBytes },
      seconds: {
        loadByCopy: round(load.seconds),
        psqlCopyOut: psqlSeconds.map((x) => round(x)),
        firstRun: { generate: round(first.generateSeconds), workflow: round(first.workflowSeconds), files: first.result.files.map((f) => `${f.name}:${f.rows}`) },
        fullFileRuns: later.map((r) => ({ generate: round(r.generateSeconds), workflow: round(r.workflowSeconds) })),
        fullFileRunFiles: second.result.files.map((f) => `${f.name}:${f.rows}`),
      },
      throughputMBps: {
        psqlMedian: throughput(psqlBytes, median(psqlSeconds)), distributionMedian: throughput(full.bytes, median(generate)),
        psqlBest: throughput(psqlBytes, Math.min(...psqlSeconds)), distributionBest: throughput(full.bytes, Math.min(...generate)),
      },
      ratioToPsql: { median: round(ratioMedian), best: round(Math.min(...psqlSeconds) / Math.min(...generate)) },
      workerRssMb: { idle: rssIdleMb, peak: workerPeakRssMb },
      targets: { atLeast0_7xPsqlThroughputMedian: ratioMedian >= 0.7, workerPeakRssUnder300Mb: workerPeakRssMb < 300 },
      machine: { cpus: os.cpus().length, loadAverageBefore: loadBefore.map((l) => round(l)), loadAverageAfter: os.loadavg().map((l) => round(l)) },
    }, null, 2)}\n`);
  } finally {
    await worker?.stop();
    await connection.close();
    await db.close();
    await server.stop();
    await bdb.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench/distribution failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
