// Workflow `intradayDeltas`: collapses the requests of syncs and loads that changed rows into one intraday delta per
// debounce window, run as a child `distribution` (kind delta), one after the other so the watermark chain holds.
import {
  CancellationScope, ParentClosePolicy, condition, continueAsNew, defineQuery, defineSignal, executeChild, isCancellation, setCurrentDetails, setHandler, sleep,
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
  /** The key of a delta that failed: tried again under the same key, so its recorded range is sent once, not twice. */
  retry?: DeltaKey | null;
}

/** A delta's business date and HHmmss suffix: its run key. */
export interface DeltaKey {
  businessDate: string;
  suffix: string;
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
  let retry = input.retry ?? null;
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
    const outcome = await runDelta(input, state, batch, retry);
    retry = outcome.retry;
    if (!outcome.answered) {
      state.pending = mergePending(batch, state.pending);
      enter(state, 'waiting');
      if (outcome.waitMs > 0) await sleep(outcome.waitMs);
    }
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > (input.historyLimit ?? HISTORY_LIMIT)) {
      await continueAsNew<typeof intradayDeltas>({ ...input, pending: state.pending, seen, runs: state.runs, retry });
    }
  }
}

/**
 * One intraday delta, named by the time now, or under the key of the one that failed before. answered: it covered the
 * batch; otherwise the caller keeps the batch pending and waits `waitMs` (on top of the next window); retry: the key
 * to run next time.
 */
async function runDelta(
  input: IntradayDeltasInput, state: IntradayDeltasState, batch: PendingChanges | null, retry: DeltaKey | null,
): Promise<{ answered: boolean; retry: DeltaKey | null; waitMs: number }> {
  const now = new Date(Date.now());
  const key: DeltaKey = retry ?? { businessDate: localDate(now, input.timeZone), suffix: localTimeSuffix(now, input.timeZone) };
  const runKey = runKeyOf(key.businessDate, key.suffix);
  // The window before the next run counts towards the wait after a failure.
  const backOffMs = Math.max((input.failedRunBackoffMs ?? FAILED_RUN_BACKOFF_MS) - input.debounceMs, 0);
  try {
    const result = await executeChild(distribution, {
      workflowId: distributionWorkflowId(runKey),
      taskQueue: taskQueues.distribution,
      args: [{ businessDate: key.businessDate, kind: 'delta', suffix: key.suffix, trigger: 'change' }],
      // Cancelling the debouncer cancels its run (which then records itself cancelled; the watermark stays).
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: `Intraday delta ${runKey} (${batch?.requests ?? 0} change requests${retry ? ', again' : ''})`,
      typedSearchAttributes: [
        { key: searchAttributes.BusinessDate, value: key.businessDate },
        { key: searchAttributes.ReportType, value: 'REFERENCE_DATA' },
      ],
    });
    // A new key someone already ran (an on-demand delta in the same second) re-ran that run's range: not this batch.
    // Our own failed key re-runs the range it claimed, which holds the batch.
    if (result.reused && !retry) return { answered: false, retry: null, waitMs: 1_000 };
    state.runs += 1;
    state.lastRunId = result.runId;
    state.lastError = null;
    return { answered: true, retry: null, waitMs: 0 };
  } catch (err) {
    if (isCancellation(err) && CancellationScope.current().consideredCancelled) throw err;
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      // A new key: an on-demand delta of the same second is running; take the next second. Our failed key: someone
      // (retry-failed) is running it; wait, then run it again, which finds its outcome.
      return { answered: false, retry, waitMs: retry ? backOffMs : 1_000 };
    }
    // Failed, or cancelled by someone on its own: its watermark did not move; run the same key again after a while.
    state.lastError = `${runKey}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`;
    return { answered: false, retry: key, waitMs: backOffMs };
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
