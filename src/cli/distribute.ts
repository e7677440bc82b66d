// `refdata distribute [--date D] [--kind full|delta]`: one run now, with progress; `distribute retry-failed [--date D]`.
import { Command } from 'commander';
import { ApplicationFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { baseServices, openDb, openTemporal } from '../runtime';
import { addDays, localDate, parseBusinessDate } from '../distribution/business-date';
import { retryFailedDistributions } from '../distribution/retry';
import type { DistributionKind } from '../distribution/file-names';
import { distributionRequestOf, startDistribution } from '../distribution/start';
import { distributionWorkflowId } from '../ids';
import { distributionProgressQuery, type DistributionResult, type DistributionState } from '../../workflows/distribution';

/** Exit codes for automation: 0 distributed, 1 failed, 3 a run of that key was already running. */
export const DISTRIBUTE_EXIT = { ok: 0, failed: 1, running: 3 } as const;

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

export function progressLine(s: DistributionState): string {
  if (s.phase !== 'generating') return `${s.phase.padEnd(12)} ${s.runId}`;
  const share = s.filesTotal ? s.filesDone / s.filesTotal : 0;
  return `generating   [${'#'.repeat(Math.round(share * 20)).padEnd(20, '.')}] ${s.filesDone}/${s.filesTotal} files  ${s.file ?? ''} ${mb(s.bytes)}`;
}

export function resultText(r: DistributionResult, uiUrl: string): string {
  const lines = [
    `distribution ${r.runId}${r.reused ? ' (re-run with its recorded watermark range)' : ''}: submission ${r.submissionId}`,
    `  watermark   ${r.watermark.from ?? '(beginning)'} → ${r.watermark.to}`,
    ...r.files.map((f) => `  ${f.name.padEnd(36)} ${String(f.rows).padStart(10)} rows ${String(f.bytes).padStart(12)} bytes  ${f.sha256}`),
    `  deliveries  ${r.deliveryIds.length} handed to the delivery workflow (status: GET /api/v1/distribution/runs/${r.runId})`,
    `  Web UI      ${uiUrl}`,
  ];
  return lines.join('\n');
}

async function follow(client: Client, runId: string, workflowRunId: string, tty: boolean): Promise<DistributionResult> {
  const handle = client.workflow.getHandle(distributionWorkflowId(runId), workflowRunId);
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const s = await handle.query(distributionProgressQuery).catch(() => null);
      if (s && tty) process.stderr.write(`\r\x1b[2K${progressLine(s)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  try {
    return (await handle.result()) as DistributionResult;
  } finally {
    polling = false;
    await poll;
    if (tty) process.stderr.write('\r\x1b[2K');
  }
}

function runCommand(): (opts: { date?: string; kind: string; json?: boolean }) => Promise<void> {
  return async (opts) => {
    if (opts.kind !== 'full' && opts.kind !== 'delta') throw new Error(`--kind must be full or delta, not ${opts.kind}`);
    const date = opts.date === undefined ? undefined : parseBusinessDate(opts.date);
    if (date === null) throw new Error(`--date ${opts.date} is not a calendar date (yyyy-MM-dd or yyyyMMdd)`);
    if (date && opts.kind === 'delta') throw new Error('an intraday delta is always taken now; --date goes with --kind full');
    const { config } = baseServices();
    const { connection, client } = await openTemporal(config);
    try {
      const request = distributionRequestOf(opts.kind as DistributionKind, { businessDate: date, now: new Date(), config: config.distribution });
      const started = await startDistribution(client, request, 'cli');
      if (!started.started) {
        process.stderr.write(`refdata distribute: ${started.workflowId} is already running (run ${started.workflowRunId}); not starting another\n`);
        process.exitCode = DISTRIBUTE_EXIT.running;
        return;
      }
      if (!opts.json) process.stderr.write(`distribution started: workflow ${started.workflowId}, run ${started.workflowRunId}\n`);
      const result = await follow(client, started.runId, started.workflowRunId, process.stderr.isTTY === true && !opts.json);
      const ui = `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(started.workflowId)}`;
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${resultText(result, ui)}\n`);
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = err.cause instanceof ApplicationFailure ? err.cause : null;
      const message = cause?.message ?? err.cause?.message ?? err.message;
      if (opts.json) process.stdout.write(`${JSON.stringify({ error: { code: cause?.type ?? 'Failed', message } })}\n`);
      else process.stderr.write(`refdata distribute: ${cause?.type ?? 'failed'}: ${message}\n`);
      process.exitCode = DISTRIBUTE_EXIT.failed;
    } finally {
      await connection.close();
    }
  };
}

/** Failed runs of the date(s) start again (same key, same range); their failed deliveries are replayed. */
async function retryFailed(opts: { date?: string; json?: boolean }): Promise<void> {
  const date = opts.date === undefined ? undefined : parseBusinessDate(opts.date);
  if (date === null) throw new Error(`--date ${opts.date} is not a calendar date (yyyy-MM-dd or yyyyMMdd)`);
  const { config, log } = baseServices();
  const db = await openDb(config, log);
  const { connection, client } = await openTemporal(config);
  try {
    const since = addDays(localDate(new Date(), config.distribution.schedule.timeZone), -7);
    const summary = await retryFailedDistributions({ db, client, retry: config.reporting.retry }, { businessDate: date, since });
    const replayed = summary.deliveriesReplayed.length;
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      process.stdout.write(`checked ${summary.runsChecked} run(s)${date ? ` of ${date}` : ` since ${since}`}\n`);
      process.stdout.write(`  runs started again     ${summary.runsRestarted.length ? summary.runsRestarted.join(', ') : 'none'}\n`);
      process.stdout.write(`  deliveries replayed    ${replayed} of ${summary.deliveriesFailed} failed${replayed < summary.deliveriesFailed ? ' (the rest are running again already)' : ''}\n`);
    }
  } finally {
    await connection.close();
    await db.close();
  }
}

export function distributeCommand(): Command {
  const cmd = new Command('distribute')
    .description('run the distribution now (the nightly set, or an intraday delta), showing progress; exit 0 on success')
    .option('--date <date>', 'business date of a full run (default: the date the nightly run would send now); a sent date is re-run identically')
    .option('--kind <kind>', 'full (full, delta, cancellation, invalid, manifest) or delta (intraday: changes since the last watermark)', 'full')
    .option('--json', 'print the result as JSON')
    .action(runCommand());
  cmd
    .command('retry-failed')
    .description('start failed runs again (same watermark range) and replay their failed deliveries')
    .option('--date <date>', 'only this business date (default: the last 7 days)')
    .option('--json', 'print the result as JSON')
    // `--date` and `--json` are also options of `distribute` itself, which may claim them: read both levels.
    .action((_opts: unknown, command: Command) => retryFailed(command.optsWithGlobals<{ date?: string; json?: boolean }>()));
  return cmd;
}
