// Side effects of the nightly and intraday distribution: claim the watermark, write the files, back them up, hand
// them to the delivery service, record the outcome. Each step is idempotent for Temporal's retries.
import path from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Database } from '../src/db/types';
import type { DistributionRun, DistributionTrigger, RunFile, WatermarkRange } from '../src/db/distribution-runs';
import type { Logger } from '../src/log/logger';
import { backUpFiles } from '../src/distribution/backup';
import { compactDate, type DistributionKind } from '../src/distribution/file-names';
import { generateRunFiles, type GenerateProgress } from '../src/distribution/generate';
import type { DeliveryStarter, DistributionConfig } from '../src/distribution/types';
import { recordDistributionFile, recordDistributionRun } from '../src/metrics/registry';
import { notifyDistributionFailed } from '../src/notify/events';
import type { Notifier } from '../src/notify/notifier';
import type { FireTrigger } from '../src/reporting/trigger-events';

export interface DistributionActivityDeps {
  db: Database;
  log: Logger;
  config: DistributionConfig;
  deliveries: DeliveryStarter;
  /** Tells the workflow how far generation is (a signal in production); optional in tests. */
  notifyProgress?: (workflowId: string, progress: GenerateProgress) => Promise<void>;
  /** How long an export may go without a byte before its keep-alive heartbeats stop (tests shorten it). */
  exportSilenceLimitMs?: number;
  /** Operator notifications: a failed run raises `distribution.failed` here (an API apart hears it from the ledger). */
  notifier?: Notifier;
  /** TRIGGERED subscriptions naming this activity's events get their held deliveries released (src/reporting/trigger-events.ts). */
  fireTrigger?: FireTrigger;
}

/**
 * The keep-alive covers the database sorting before its first byte, which takes seconds to minutes; an export silent
 * for longer is stuck (a connection that vanished without a word), and heartbeating for it would keep Temporal from
 * ever timing it out and retrying.
 */
const EXPORT_SILENCE_LIMIT_MS = 15 * 60_000;

export interface ClaimInput {
  runId: string;
  businessDate: string;
  kind: DistributionKind;
  suffix: string | null;
  trigger: DistributionTrigger;
  submissionId: string;
  workflowId: string;
  workflowRunId: string;
}

/** What the workflow keeps of a claim: small, no rows. */
export interface ClaimResult {
  runId: string;
  submissionId: string;
  watermark: WatermarkRange;
  reused: boolean;
  attempts: number;
  directory: string;
}

export function createDistributionActivities(deps: DistributionActivityDeps) {
  const store = deps.db.distributionRuns;
  let lastNotice = 0;
  /** Progress signals are for people: at most one a second, never waited for, never failing the work. */
  const notify = (workflowId: string, p: GenerateProgress) => {
    if (!deps.notifyProgress || Date.now() - lastNotice < 1000) return;
    lastNotice = Date.now();
    deps.notifyProgress(workflowId, p).catch((err: Error) => deps.log.debug({ err: err.message }, 'progress signal not delivered'));
  };
  const dirOf = (businessDate: string) => path.join(deps.config.dir, compactDate(businessDate));

  async function runOf(runId: string): Promise<DistributionRun> {
    const run = await store.getRun(runId);
    if (!run) throw ApplicationFailure.nonRetryable(`distribution run ${runId} was never claimed; start the workflow again`, 'Internal');
    return run;
  }

  return {
    /** Takes the watermark range once, from the database clock; a re-run of the same key gets the stored one back. */
    async claimDistributionRun(input: ClaimInput): Promise<ClaimResult> {
      const { run, reused } = await store.claimRun({ ...input, directory: dirOf(input.businessDate) });
      deps.log.info(
        { event: 'distribution.claimed', runId: run.runId, workflowId: input.workflowId, watermark: run.watermark, reused, attempts: run.attempts },
        reused ? `distribution ${run.runId}: re-run with its recorded watermark range` : `distribution ${run.runId}: watermark range taken`,
      );
      return { runId: run.runId, submissionId: run.submissionId, watermark: run.watermark, reused, attempts: run.attempts, directory: run.directory ?? dirOf(run.businessDate) };
    },

    /** Streams every file of the run from one snapshot to disk (temporary name, then rename) and records them. */
    async generateDistributionFiles(input: { runId: string }): Promise<RunFile[]> {
      const ctx = Context.current();
      const workflowId = ctx.info.workflowExecution?.workflowId ?? input.runId;
      const run = await runOf(input.runId);
      const datasets = run.kind === 'full' ? await store.listDatasets() : [];
      const started = Date.now();
      let last: GenerateProgress | undefined;
      let lastBeat = 0;
      let lastProgressAt = Date.now();
      const silenceLimit = deps.exportSilenceLimitMs ?? EXPORT_SILENCE_LIMIT_MS;
      // A big sort runs before the first byte arrives: heartbeat meanwhile, so only a dead worker or an export that
      // stopped moving times out.
      const keepAlive = setInterval(() => {
        if (Date.now() - lastProgressAt < silenceLimit) ctx.heartbeat(last);
      }, Math.min(5_000, silenceLimit / 4));
      const files = await generateRunFiles({
        store, run, dir: run.directory ?? dirOf(run.businessDate), datasets,
        onProgress: (p) => {
          last = p;
          lastProgressAt = Date.now();
          // Every chunk reports progress; the SDK encodes each heartbeat it is given, so hand it two a second at most.
          if (Date.now() - lastBeat >= 500) {
            lastBeat = Date.now();
            ctx.heartbeat(p);
          }
          if (ctx.cancellationSignal.aborted) throw new CancelledFailure('distribution cancelled while writing files');
          notify(workflowId, p);
        },
      }).finally(() => clearInterval(keepAlive));
      await store.recordFiles(run.runId, files);
      for (const f of files) recordDistributionFile(f.type, f.rows);
      deps.log.info(
        { event: 'distribution.generated', runId: run.runId, workflowId, ms: Date.now() - started, files: files.map((f) => ({ name: f.name, rows: f.rows, bytes: f.bytes })) },
        `distribution ${run.runId}: ${files.length} files written`,
      );
      return files;
    },

    /**
     * Copies the files to the backup folder (checked by SHA-256). Old runs' files and backups are removed by the cleanup
     * sweep once their deliveries are final (activities/cleanup.ts `removeDeliveredFiles`), not here.
     */
    async backUpDistributionFiles(input: { runId: string }): Promise<{ directory: string; copied: number; pruned: number }> {
      const run = await runOf(input.runId);
      const directory = path.join(deps.config.backupDir, compactDate(run.businessDate));
      const copied = await backUpFiles(run.files, run.directory ?? dirOf(run.businessDate), directory);
      // `pruned` stays in the result for histories recorded when runs pruned their own backups.
      return { directory, copied: copied.length, pruned: 0 };
    },

    /** One delivery per active REFERENCE_DATA subscription × channel; the same run twice hands off nothing new. */
    async handOffDistribution(input: { runId: string }): Promise<string[]> {
      const run = await runOf(input.runId);
      if (run.files.length === 0) throw ApplicationFailure.nonRetryable(`distribution run ${run.runId} has no files to hand off`, 'Internal');
      const dir = run.directory ?? dirOf(run.businessDate);
      const ids = await deps.deliveries.startDeliveries({
        reportId: run.runId,
        reportType: 'REFERENCE_DATA',
        businessDate: run.businessDate,
        files: run.files.map((f) => ({ path: path.join(dir, f.name), fileName: f.name, bytes: f.bytes, sha256: f.sha256 })),
        metadata: {
          business_date: run.businessDate, kind: run.kind, submission_id: run.submissionId, generated_at: run.generatedAt,
          watermark_from: run.watermark.from, watermark_to: run.watermark.to,
        },
      });
      await store.recordDeliveries(run.runId, ids);
      deps.log.info({ event: 'distribution.handed_off', runId: run.runId, deliveries: ids.length }, `distribution ${run.runId}: ${ids.length} deliveries`);
      return ids;
    },

    /** Ends the attempt; only success commits the watermark, so a failed night's changes go out with the next run. */
    async finishDistributionRun(input: { runId: string; status: 'succeeded' | 'failed' | 'cancelled'; message?: string }): Promise<void> {
      const outcome = input.status === 'succeeded' ? { status: input.status } : { status: input.status, message: input.message ?? input.status };
      const run = await store.finishRun(input.runId, outcome);
      recordDistributionRun(input.status);
      // A cancel is an operator's choice, not news; a failure means subscribers did not get the date's files.
      if (input.status === 'failed' && deps.notifier) {
        // The run's recorded workflow id: the ledger watch builds the same notification id from it, so one shows once.
        notifyDistributionFailed(deps.notifier, { workflowId: run?.workflowId ?? input.runId, businessDate: run?.businessDate ?? input.runId, message: input.message ?? 'the run failed' });
      }
      if (input.status !== 'succeeded') deps.log.warn({ event: 'distribution.failed', runId: input.runId, status: input.status, message: input.message }, `distribution ${input.runId} ${input.status}`);
      else deps.log.info({ event: 'distribution.succeeded', runId: input.runId, watermark: run?.watermark }, `distribution ${input.runId} succeeded`);
      await deps.fireTrigger?.(input.status === 'succeeded' ? 'distribution.succeeded' : 'distribution.failed');
    },
  };
}

export type DistributionActivities = ReturnType<typeof createDistributionActivities>;
