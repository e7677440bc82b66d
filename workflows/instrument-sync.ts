// Workflows `instrumentSync` (the broker's instrument master → ref.instruments) and `scheduledInstrumentSync`.
import {
  ApplicationFailure, CancellationScope, ParentClosePolicy, defineQuery, defineSignal, isCancellation, patched, proxyActivities, setCurrentDetails,
  setHandler, sleep, startChild, workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createInstrumentActivities } from '../activities/instruments';
import type { createIntradayActivities } from '../activities/intraday';
import type { FailureType } from '../src/errors';
import { instrumentSyncWorkflowId, searchAttributes, taskQueues } from '../src/ids';
import { summaryLine } from '../src/instruments/report';
import type { InstrumentSyncReport, SyncTrigger } from '../src/instruments/types';

type InstrumentActivities = ReturnType<typeof createInstrumentActivities>;
type IntradayActivities = ReturnType<typeof createIntradayActivities>;

/** Where today's file comes from; absent = the worker's INSTRUMENTS_URL (so credentials never enter history). */
export type SyncSource = { url: string } | { file: string };

export interface InstrumentSyncInput {
  source?: SyncSource;
  /** Go past the guard (a real, checked change of the master). */
  force?: boolean;
  trigger?: SyncTrigger;
  /** Heartbeat timeout of the long activities (default 1 minute); tests shorten it to notice a killed worker quickly. */
  heartbeatTimeoutMs?: number;
  /** How long this run may hold the one-sync lock (INSTRUMENTS_SYNC_LOCK_LIMIT_MINUTES; default 30 minutes). */
  lockLimitMs?: number;
}

/** Runs started before the lock had a time limit replay without its timer. */
export const LOCK_LIMIT_PATCH = 'sync-lock-time-limit';
export const DEFAULT_LOCK_LIMIT_MS = 30 * 60_000;
/** Runs from before intraday deltas replay without the request. */
export const INTRADAY_REQUEST_PATCH = 'sync-requests-intraday-delta';

export type SyncPhase = 'downloading' | 'staging' | 'applying' | 'done' | 'failed' | 'cancelled';

/** What the activities report while they work (a signal), for the progress query, the CLI bar and the Web UI. */
export interface SyncProgress {
  bytes: number;
  totalBytes: number | null;
  records: number;
  invalid: number;
  recordsPerSecond: number;
}

export interface SyncState extends SyncProgress {
  phase: SyncPhase;
  runId: string;
  report: InstrumentSyncReport | null;
  error: { type: FailureType; message: string } | null;
}

export const syncProgressSignal = defineSignal<[SyncProgress]>('syncProgress');
export const syncProgressQuery = defineQuery<SyncState>('progress');

/** Proxies are built from the input because the heartbeat timeout is an input (durations are inputs, STYLE.md). */
function activitiesFor(input: InstrumentSyncInput) {
  const heartbeatTimeout = input.heartbeatTimeoutMs ?? 60_000;
  return {
    // 401/403/404 fail at once (non-retryable); 5xx, resets and timeouts back off up to 5 minutes apart.
    download: proxyActivities<InstrumentActivities>({
      startToCloseTimeout: '2 hours',
      heartbeatTimeout,
      retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8 },
    }),
    stage: proxyActivities<InstrumentActivities>({
      startToCloseTimeout: '4 hours',
      heartbeatTimeout,
      retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 20 },
    }),
    apply: proxyActivities<InstrumentActivities>({
      startToCloseTimeout: '1 hour',
      heartbeatTimeout,
      retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
    }),
    cleanup: proxyActivities<InstrumentActivities>({
      startToCloseTimeout: '5 minutes',
      retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
    }),
    intraday: proxyActivities<IntradayActivities>({
      startToCloseTimeout: '1 minute',
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
    }),
  };
}

export async function instrumentSync(input: InstrumentSyncInput = {}): Promise<InstrumentSyncReport> {
  const { runId, workflowId } = workflowInfo();
  const force = input.force ?? false;
  const acts = activitiesFor(input);
  const state: SyncState = { phase: 'downloading', runId, bytes: 0, totalBytes: null, records: 0, invalid: 0, recordsPerSecond: 0, report: null, error: null };
  setHandler(syncProgressQuery, () => state);
  setHandler(syncProgressSignal, (p) => {
    Object.assign(state, p);
    enter(state, state.phase);
  });

  // The work runs in its own scope so the time limit can end it, however stuck, and the cleanup below still runs.
  const work = new CancellationScope();
  const limit = startLockLimit(input, work);
  try {
    const report = await work.run(async () => {
      enter(state, 'downloading');
      const file = await acts.download.downloadInstruments({ runId, workflowId, source: input.source, force, trigger: input.trigger ?? 'manual' });
      state.totalBytes = file.bytes;

      enter(state, 'staging');
      const staged = await acts.stage.stageInstruments({ runId, path: file.path, bytes: file.bytes, sha256: file.sha256 });
      Object.assign(state, { records: staged.records, invalid: staged.invalid });

      enter(state, 'applying');
      return acts.apply.applyInstrumentSync({ runId, force });
    });
    state.report = report;
    await requestIntradayDelta(acts.intraday, report, runId);
    enter(state, 'done');
    return report;
  } catch (err) {
    const timedOut = limit?.expired() === true && isCancellation(err);
    const cancelled = !timedOut && isCancellation(err);
    const failure = timedOut ? timeLimitFailure(limit!.ms) : describeFailure(err, cancelled);
    state.error = { type: failure.type, message: failure.message };
    enter(state, cancelled ? 'cancelled' : 'failed');
    const status = timedOut ? 'timed_out' : cancelled ? 'cancelled' : failure.type === 'GuardTripped' ? 'guard_tripped' : 'failed';
    // Recorded even when the run itself was cancelled. A run marked timed_out can no longer be applied (applySync
    // needs it staged, under the run row's lock), and an apply that won the race keeps its succeeded record.
    await CancellationScope.nonCancellable(() => acts.cleanup.failInstrumentSync({ runId, status, message: failure.message }));
    if (cancelled) throw err;
    throw ApplicationFailure.create({ message: failure.message, type: failure.type, nonRetryable: true, details: [failure.details] });
  } finally {
    limit?.stop();
    // Staging table and downloaded file go whatever happened; ref.instruments was changed all at once or not at all.
    await CancellationScope.nonCancellable(() => acts.cleanup.cleanupInstrumentSync({ runId }));
  }
}

export type ScheduledSyncResult = { status: 'synced'; runId: string; summary: string } | { status: 'skipped'; reason: string };

/**
 * What the daily Schedule starts. A Schedule appends a timestamp to the ids it starts, so the schedule cannot hold
 * the one-sync lock itself: this run starts the fixed-id sync and waits for it, or skips when one is running.
 */
export async function scheduledInstrumentSync(input: { force?: boolean; lockLimitMs?: number } = {}): Promise<ScheduledSyncResult> {
  try {
    const child = await startChild(instrumentSync, {
      workflowId: instrumentSyncWorkflowId,
      taskQueue: taskQueues.sync,
      args: [{ trigger: 'schedule', force: input.force, lockLimitMs: input.lockLimitMs }],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: 'Daily instrument master sync (scheduled)',
      typedSearchAttributes: [
        { key: searchAttributes.SyncTrigger, value: 'schedule' },
        { key: searchAttributes.TableName, value: 'instruments' },
      ],
    });
    const report = await child.result();
    setCurrentDetails(`**synced**: ${summaryLine(report)}`);
    return { status: 'synced', runId: child.firstExecutionRunId, summary: summaryLine(report) };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const reason = `a sync (${instrumentSyncWorkflowId}) is already running; this scheduled run did not start another`;
      setCurrentDetails(`**skipped**: ${reason}`);
      return { status: 'skipped', reason };
    }
    throw err;
  }
}

/**
 * Starts the lock's time limit (new runs only): when it passes, the work scope is cancelled and the run ends as
 * timed_out, so a stuck sync cannot keep every later one (the daily schedule's included) waiting.
 */
function startLockLimit(input: InstrumentSyncInput, work: CancellationScope): { ms: number; expired(): boolean; stop(): void } | null {
  if (!patched(LOCK_LIMIT_PATCH)) return null;
  const ms = input.lockLimitMs ?? DEFAULT_LOCK_LIMIT_MS;
  let expired = false;
  const timer = new CancellationScope();
  timer.run(() => sleep(ms)).then(
    () => {
      expired = true;
      work.cancel();
    },
    () => undefined, // stopped: the run ended first
  );
  return { ms, expired: () => expired, stop: () => timer.cancel() };
}

/**
 * A sync that changed instruments asks for an intraday delta (the activity does nothing while they are off). One
 * that changed none asks for nothing. A request that fails does not fail the applied sync: its rows are in the next
 * delta or the nightly run either way, since the watermark did not move past them.
 */
async function requestIntradayDelta(acts: IntradayActivities, report: InstrumentSyncReport, runId: string): Promise<void> {
  const rows = (report.added ?? 0) + (report.updated ?? 0) + (report.deactivated ?? 0) + (report.reactivated ?? 0);
  if (rows <= 0 || !patched(INTRADAY_REQUEST_PATCH)) return;
  try {
    await acts.requestIntradayDelta({ source: 'instrument-sync', ref: runId, rows });
  } catch {
    // Logged by the activity's failure in history; see above.
  }
}

function timeLimitFailure(ms: number): { type: FailureType; message: string; details: unknown } {
  const minutes = ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${ms} ms`;
  return {
    type: 'TimeLimitExceeded',
    message: `the sync held the one-sync lock past its limit of ${minutes} and was ended; its staged rows were discarded and nothing of it was applied to ref.instruments`,
    details: { code: 'LOCK_TIME_LIMIT', limitMs: ms },
  };
}

function describeFailure(err: unknown, cancelled: boolean): { type: FailureType; message: string; details: unknown } {
  if (cancelled) return { type: 'Cancelled', message: 'cancelled by an operator; ref.instruments was not changed by this run', details: null };
  let cause: unknown = err;
  // Activity failures wrap the ApplicationFailure that carries our type.
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && (cause as { cause?: unknown }).cause) {
    cause = (cause as { cause?: unknown }).cause;
  }
  if (cause instanceof ApplicationFailure) {
    return { type: (cause.type ?? 'Internal') as FailureType, message: cause.message, details: cause.details?.[0] ?? null };
  }
  return { type: 'Internal', message: err instanceof Error ? err.message : String(err), details: null };
}

/** Moves to a phase and says where the run is on its page in the Temporal Web UI. */
function enter(state: SyncState, phase: SyncPhase): void {
  state.phase = phase;
  const size = state.totalBytes ? ` of ${state.totalBytes}` : '';
  const detail: Record<SyncPhase, () => string> = {
    downloading: () => `**downloading**: ${state.bytes}${size} bytes`,
    staging: () => `**staging**: ${state.records} records read (${state.invalid} invalid), ${state.recordsPerSecond}/s`,
    applying: () => `**applying**: guard, upsert and soft delete in one transaction (${state.records} records)`,
    done: () => `**done**: ${state.report ? summaryLine(state.report) : ''}`,
    failed: () => `**failed** (${state.error?.type}): ${state.error?.message ?? ''}`,
    cancelled: () => '**cancelled**; nothing was applied',
  };
  setCurrentDetails(detail[phase]());
}
