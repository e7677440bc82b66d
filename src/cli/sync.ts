// `refdata sync [--file PATH | --url URL] [--force] [--json]`: runs one instrument sync, shows progress, exits 0 or not.
import path from 'node:path';
import { Command } from 'commander';
import { ApplicationFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { baseServices, openTemporal } from '../runtime';
import { instrumentSyncWorkflowId } from '../ids';
import { startInstrumentSync } from '../temporal/instrument-sync';
import { describeFormat } from '../instruments/format';
import { sourceFileIn } from '../instruments/source-file';
import type { InstrumentSyncReport } from '../instruments/types';
import { syncProgressQuery, type SyncSource, type SyncState } from '../../workflows/instrument-sync';

/** Exit codes for automation: 0 synced, 1 failed, 3 another sync was running, 4 stopped by the guard. */
export const SYNC_EXIT = { ok: 0, failed: 1, running: 3, guard: 4 } as const;

const fmt = (n: number | null | undefined) => (n ?? 0).toLocaleString('en-US');

export function progressLine(s: SyncState): string {
  const share = s.totalBytes ? Math.min(s.bytes / s.totalBytes, 1) : null;
  const bar = share === null ? '' : `[${'#'.repeat(Math.round(share * 24)).padEnd(24, '.')}] ${Math.round(share * 100)}% `;
  if (s.phase === 'downloading') return `downloading  ${fmt(s.bytes)} bytes`;
  if (s.phase === 'staging') return `staging      ${bar}${fmt(s.records)} records (${fmt(s.invalid)} invalid) ${fmt(s.recordsPerSecond)}/s`;
  return `${s.phase.padEnd(12)} ${fmt(s.records)} records`;
}

export function reportText(r: InstrumentSyncReport): string {
  const lines = [
    `instrument sync ${r.status}: run ${r.runId}${r.forced ? ' (forced)' : ''}`,
    `  source      ${r.source}${r.format ? ` (${describeFormat(r.format, false)}, ${fmt(r.fileBytes)} bytes)` : ''}`,
    `  records     ${fmt(r.records)} read, ${fmt(r.invalid)} invalid (${fmt(r.duplicates)} duplicate keys)`,
    `  active      ${fmt(r.activeBefore)} before, ${fmt(r.activeAfter)} after`,
    `  changes     ${fmt(r.added)} added, ${fmt(r.updated)} updated, ${fmt(r.unchanged)} unchanged, ${fmt(r.deactivated)} deactivated, ${fmt(r.reactivated)} reactivated`,
    `  duration    ${((r.durationMs ?? 0) / 1000).toFixed(1)} s`,
    '  by segment  active  added updated deactivated reactivated',
    ...Object.entries(r.bySegment).map(
      ([k, c]) => `    ${k.padEnd(12)}${fmt(c.activeAfter).padStart(7)}${fmt(c.added).padStart(7)}${fmt(c.updated).padStart(8)}${fmt(c.deactivated).padStart(12)}${fmt(c.reactivated).padStart(12)}`,
    ),
  ];
  if (r.guard?.bypassed) lines.push(`  guard       bypassed by --force: ${r.guard.reasons.join('; ')}`);
  return lines.join('\n');
}

/** Polls the run's progress onto one terminal line until it ends. */
async function follow(client: Client, runId: string, tty: boolean): Promise<InstrumentSyncReport> {
  const handle = client.workflow.getHandle(instrumentSyncWorkflowId, runId);
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const s = await handle.query(syncProgressQuery).catch(() => null);
      if (s && tty) process.stderr.write(`\r\x1b[2K${progressLine(s)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  try {
    return (await handle.result()) as InstrumentSyncReport;
  } finally {
    polling = false;
    await poll;
    if (tty) process.stderr.write('\r\x1b[2K');
  }
}

export function syncCommand(): Command {
  return new Command('sync')
    .description('sync the instrument master now (from INSTRUMENTS_URL, another URL, or a local file); exit 0 on success')
    .option('--file <path>', 'a downloaded instrument file (JSON array, NDJSON or Kite CSV; gzip or not) inside INSTRUMENTS_FILE_DIR, read by the worker')
    .option('--url <url>', 'an http(s) URL instead of INSTRUMENTS_URL (credentials are sent only to INSTRUMENTS_URL\'s origin)')
    .option('--force', 'go past the guard (a real, checked change of the master)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { file?: string; url?: string; force?: boolean; json?: boolean }) => {
      if (opts.file && opts.url) throw new Error('give --file or --url, not both');
      const { config } = baseServices();
      // Refused here already when outside INSTRUMENTS_FILE_DIR; the worker checks the real path again.
      const source: SyncSource | undefined = opts.file ? { file: sourceFileIn(config.instruments.fileDir, path.resolve(opts.file)) } : opts.url ? { url: opts.url } : undefined;
      if (!source && !config.instruments.url) throw new Error('no instrument source: set INSTRUMENTS_URL, or pass --file PATH or --url URL');
      const { connection, client } = await openTemporal(config);
      try {
        const started = await startInstrumentSync(client, { source, force: opts.force ?? false, trigger: 'cli', lockLimitMs: config.instruments.lockLimitMs });
        if (!started.started) {
          process.stderr.write(`refdata sync: an instrument sync is already running (workflow ${started.workflowId}, run ${started.runId}); not starting another\n`);
          process.exitCode = SYNC_EXIT.running;
          return;
        }
        if (!opts.json) process.stderr.write(`instrument sync started: workflow ${started.workflowId}, run ${started.runId} (Web UI: ${config.temporal.uiUrl})\n`);
        const report = await follow(client, started.runId, process.stderr.isTTY === true && !opts.json);
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${reportText(report)}\n`);
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        const cause = err.cause instanceof ApplicationFailure ? err.cause : null;
        const message = cause?.message ?? err.cause?.message ?? err.message;
        if (opts.json) process.stdout.write(`${JSON.stringify({ error: { code: cause?.type ?? 'Failed', message } })}\n`);
        else process.stderr.write(`refdata sync: ${cause?.type ?? 'failed'}: ${message}\n`);
        process.exitCode = cause?.type === 'GuardTripped' ? SYNC_EXIT.guard : SYNC_EXIT.failed;
      } finally {
        await connection.close();
      }
    });
}
