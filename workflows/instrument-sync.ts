// Workflows `instrumentSync` (the broker's instrument master → ref.instruments) and `scheduledInstrumentSync`.
import {
  ApplicationFailure, CancellationScope, ParentClosePolicy, defineQuery, defineSignal, isCancellation, proxyActivities, setCurrentDetails,
  setHandler, startChild, workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createInstrumentActivities } from '../activities/instruments';
import type { FailureType } from '../src/errors';
import { instrumentSyncWorkflowId, searchAttributes, taskQueues } from '../src/ids';
import { summaryLine } from '../src/instruments/report';
import type { InstrumentSyncReport, SyncTrigger } from '../src/instruments/types';

type InstrumentActivities = ReturnType<typeof createInstrumentActivities>;

/** Where today's file comes from; absent = the worker's INSTRUMENTS_URL (so credentials never enter history). */
export type SyncSource = { url: string } | { file: string };

export interface InstrumentSyncInput {
  source?: SyncSource;
  /** Go past the guard (a real, checked change of the master). */
  force?: boolean;
  trigger?: SyncTrigger;
  /** Heartbeat timeout of the long activities (default 1 minute); tests shorten it to notice a killed worker quickly. */
  heartbeatTimeoutMs?: number;
}

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

  try {
    enter(state, 'downloading');
    const file = await acts.download.downloadInstruments({ runId, workflowId, source: input.source, force, trigger: input.trigger ?? 'manual' });
    state.totalBytes = file.bytes;

    enter(state, 'staging');
    const staged = await acts.stage.stageInstruments({ runId, path: file.path, bytes: file.bytes, sha256: file.sha256 });
    Object.assign(state, { records: staged.records, invalid: staged.invalid });

    enter(state, 'applying');
    const report = await acts.apply.applyInstrumentSync({ runId, force });
    state.report = report;
    enter(state, 'done');
    return report;
  } catch (err) {
    const cancelled = isCancellation(err);
    const failure = describeFailure(err, cancelled);
    state.error = { type: failure.type, message: failure.message };
    enter(state, cancelled ? 'cancelled' : 'failed');
    const status = cancelled ? 'cancelled' : failure.type === 'GuardTripped' ? 'guard_tripped' : 'failed';
    // Recorded even when the run itself was cancelled.
    await CancellationScope.nonCancellable(() => acts.cleanup.failInstrumentSync({ runId, status, message: failure.message }));
    if (cancelled) throw err;
    throw ApplicationFailure.create({ message: failure.message, type: failure.type, nonRetryable: true, details: [failure.details] });
  } finally {
    // Staging table and downloaded file go whatever happened; ref.instruments was changed all at once or not at all.
    await CancellationScope.nonCancellable(() => acts.cleanup.cleanupInstrumentSync({ runId }));
  }
}

export type ScheduledSyncResult = { status: 'synced'; runId: string; summary: string } | { status: 'skipped'; reason: string };

/**
 * What the daily Schedule starts. A Schedule appends a timestamp to the ids it starts, so the schedule cannot hold
 * the one-sync lock itself: this run starts the fixed-id sync and waits for it, or skips when one is running.
 */
export async function scheduledInstrumentSync(input: { force?: boolean } = {}): Promise<ScheduledSyncResult> {
  try {
    const child = await startChild(instrumentSync, {
      workflowId: instrumentSyncWorkflowId,
      taskQueue: taskQueues.sync,
      args: [{ trigger: 'schedule', force: input.force }],
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
