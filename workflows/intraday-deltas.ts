// Workflow `intradayDeltas`: collapses the requests of syncs and loads that changed rows into one intraday delta per
// debounce window, run as a child `distribution` (kind delta), one after the other so the watermark chain holds.
import {
  ParentClosePolicy, condition, continueAsNew, defineQuery, defineSignal, executeChild, isCancellation, setCurrentDetails, setHandler, sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { distributionWorkflowId, searchAttributes, taskQueues } from '../src/ids';
import { localDate, localTimeSuffix } from '../src/distribution/business-date';
import { runKeyOf } from '../src/distribution/file-names';
import { addChange, mergePending, type IntradayChange, type PendingChanges } from '../src/distribution/intraday-requests';
import { distribution } from './distribution';

export interface IntradayDeltasInput {
  /** Requests within this long of the first one collapse into one run (REFDATA_INTRADAY_DEBOUNCE_SECONDS). */
  debounceMs: number;
  /** Time zone of the business date and the HHmmss suffix of each run (REFDATA_DISTRIBUTION_TIMEZONE). */
  timeZone: string;
  /** How long the debouncer waits without a request before it ends; the next request starts it again (default 1 hour). */
  idleMs?: number;
  /** A failed delta is tried again no sooner than this after its window (default 1 minute). */
  failedRunBackoffMs?: number;
  /** Continue as new once the history has this many events (default 2,000). */
  historyLimit?: number;
  /** Carried across continue-as-new: requests not yet answered, refs already counted, runs so far. */
  pending?: PendingChanges | null;
  seen?: string[];
  runs?: number;
}

export type IntradayPhase = 'idle' | 'waiting' | 'running';

export interface IntradayDeltasState {
  phase: IntradayPhase;
  pending: PendingChanges | null;
  /** Deltas this chain of runs has completed. */
  runs: number;
  lastRunId: string | null;
  lastError: string | null;
}

export const intradayChangeSignal = defineSignal<[IntradayChange]>('intradayChange');
export const intradayDeltasQuery = defineQuery<IntradayDeltasState>('progress');

const DEFAULT_IDLE_MS = 60 * 60_000;
/** Its watermark did not move, so the next run covers its rows; waiting keeps a broken database from a busy loop. */
const FAILED_RUN_BACKOFF_MS = 60_000;
/** Well below the server's 50k-event limit; each run adds about a dozen events. */
const HISTORY_LIMIT = 2_000;

export async function intradayDeltas(input: IntradayDeltasInput): Promise<{ runs: number }> {
  const seen = [...(input.seen ?? [])];
  const state: IntradayDeltasState = { phase: 'idle', pending: input.pending ?? null, runs: input.runs ?? 0, lastRunId: null, lastError: null };
  setHandler(intradayDeltasQuery, () => state);
  setHandler(intradayChangeSignal, (change) => {
    state.pending = addChange(state.pending, seen, change);
    if (state.phase === 'idle' && state.pending) enter(state, 'waiting');
  });

  for (;;) {
    if (!state.pending) {
      enter(state, 'idle');
      const arrived = await condition(() => state.pending !== null, input.idleMs ?? DEFAULT_IDLE_MS);
      if (!arrived) return { runs: state.runs };
    }
    // Requests that arrive during the window join this batch; those during the run below make the next one.
    enter(state, 'waiting');
    if (input.debounceMs > 0) await sleep(input.debounceMs);
    const batch = state.pending;
    state.pending = null;
    enter(state, 'running');
    const answered = await runDelta(input, state, batch);
    if (!answered) state.pending = mergePending(batch, state.pending);
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > (input.historyLimit ?? HISTORY_LIMIT)) {
      await continueAsNew<typeof intradayDeltas>({ ...input, pending: state.pending, seen, runs: state.runs });
    }
  }
}

/** One intraday delta named by the time now; false when it did not cover the batch (the caller keeps it pending). */
async function runDelta(input: IntradayDeltasInput, state: IntradayDeltasState, batch: PendingChanges | null): Promise<boolean> {
  const now = new Date(Date.now());
  const businessDate = localDate(now, input.timeZone);
  const suffix = localTimeSuffix(now, input.timeZone);
  const runKey = runKeyOf(businessDate, suffix);
  try {
    const result = await executeChild(distribution, {
      workflowId: distributionWorkflowId(runKey),
      taskQueue: taskQueues.distribution,
      args: [{ businessDate, kind: 'delta', suffix, trigger: 'change' }],
      // Cancelling the debouncer cancels its run (which then records itself cancelled; the watermark stays).
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: `Intraday delta ${runKey} (${batch?.requests ?? 0} change requests)`,
      typedSearchAttributes: [
        { key: searchAttributes.BusinessDate, value: businessDate },
        { key: searchAttributes.ReportType, value: 'REFERENCE_DATA' },
      ],
    });
    // A key someone already ran (an on-demand delta in the same second) re-runs that run's range: not this batch.
    if (result.reused) {
      await sleep(1_000);
      return false;
    }
    state.runs += 1;
    state.lastRunId = result.runId;
    state.lastError = null;
    return true;
  } catch (err) {
    if (isCancellation(err)) throw err;
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      // An on-demand delta of the same second is running: take the next second.
      await sleep(1_000);
      return false;
    }
    state.lastError = `${runKey}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`;
    // The window before the next run counts towards the wait.
    const backoff = (input.failedRunBackoffMs ?? FAILED_RUN_BACKOFF_MS) - input.debounceMs;
    if (backoff > 0) await sleep(backoff);
    return false;
  }
}

/** Moves to a phase and says where the debouncer is on its page in the Temporal Web UI. */
function enter(state: IntradayDeltasState, phase: IntradayPhase): void {
  state.phase = phase;
  const p = state.pending;
  const last = state.lastRunId ? `; last delta ${state.lastRunId}` : '';
  const error = state.lastError ? `; last failure ${state.lastError}` : '';
  const lines: Record<IntradayPhase, string> = {
    idle: `**idle**: ${state.runs} intraday deltas so far${last}${error}`,
    waiting: `**waiting** for the debounce window: ${p?.requests ?? 0} requests, ${p?.rows ?? 0} changed rows${last}${error}`,
    running: `**running** an intraday delta${last}`,
  };
  setCurrentDetails(lines[phase]);
}
