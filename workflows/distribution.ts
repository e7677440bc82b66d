// Workflows `distribution` (one business date's files: claim, generate, back up, hand off) and `scheduledDistribution`.
import {
  ApplicationFailure, CancellationScope, ParentClosePolicy, defineQuery, defineSignal, isCancellation, proxyActivities, setCurrentDetails,
  setHandler, startChild, uuid4, workflowInfo,
} from '@temporalio/workflow';
import { SearchAttributeType, WorkflowExecutionAlreadyStartedError, defineSearchAttributeKey } from '@temporalio/common';
import type { DistributionActivities } from '../activities/distribution';
import type { DistributionTrigger, RunFile, WatermarkRange } from '../src/db/distribution-runs';
import type { FailureType } from '../src/errors';
import { distributionWorkflowId, searchAttributes, taskQueues } from '../src/ids';
import { scheduledBusinessDate } from '../src/distribution/business-date';
import { runKeyOf, type DistributionKind } from '../src/distribution/file-names';
import type { GenerateProgress } from '../src/distribution/generate';

export interface DistributionInput {
  /** yyyy-MM-dd */
  businessDate: string;
  kind: DistributionKind;
  /** HHmmss of an intraday delta. */
  suffix?: string | null;
  trigger?: DistributionTrigger;
  /** How long file generation may go silent before it is presumed dead and retried (default 1 minute). */
  heartbeatTimeoutMs?: number;
}

export interface DistributionResult {
  runId: string;
  submissionId: string;
  watermark: WatermarkRange;
  /** A re-run of a key that had a run already: same range, same submission id. */
  reused: boolean;
  files: RunFile[];
  deliveryIds: string[];
}

export type DistributionPhase = 'claiming' | 'generating' | 'backing-up' | 'handing-off' | 'done' | 'failed' | 'cancelled';

export interface DistributionState {
  phase: DistributionPhase;
  runId: string;
  file: string | null;
  filesDone: number;
  filesTotal: number;
  bytes: number;
  files: RunFile[];
  deliveryIds: string[];
  error: { type: FailureType; message: string } | null;
}

export const distributionProgressSignal = defineSignal<[GenerateProgress]>('distributionProgress');
export const distributionProgressQuery = defineQuery<DistributionState>('progress');

/** Set by the server on runs a Schedule starts: the nominal time, also for a caught-up or backfilled run. */
const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

function activitiesFor(input: DistributionInput) {
  return {
    step: proxyActivities<DistributionActivities>({
      startToCloseTimeout: '10 minutes',
      retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
    }),
    generate: proxyActivities<DistributionActivities>({
      startToCloseTimeout: '4 hours',
      heartbeatTimeout: input.heartbeatTimeoutMs ?? 60_000,
      retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes', maximumAttempts: 10 },
    }),
    // The outcome must be recorded whatever happened: retried until the database answers.
    record: proxyActivities<DistributionActivities>({
      startToCloseTimeout: '1 minute',
      retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
    }),
  };
}

export async function distribution(input: DistributionInput): Promise<DistributionResult> {
  const { workflowId, runId: workflowRunId } = workflowInfo();
  const runId = runKeyOf(input.businessDate, input.suffix);
  const acts = activitiesFor(input);
  const state: DistributionState = { phase: 'claiming', runId, file: null, filesDone: 0, filesTotal: 0, bytes: 0, files: [], deliveryIds: [], error: null };
  setHandler(distributionProgressQuery, () => state);
  setHandler(distributionProgressSignal, (p) => {
    if (state.phase !== 'generating') return;
    Object.assign(state, p);
    enter(state, 'generating');
  });

  try {
    enter(state, 'claiming');
    const claim = await acts.step.claimDistributionRun({
      runId, businessDate: input.businessDate, kind: input.kind, suffix: input.suffix ?? null, trigger: input.trigger ?? 'api',
      submissionId: uuid4(), workflowId, workflowRunId,
    });

    enter(state, 'generating');
    state.files = await acts.generate.generateDistributionFiles({ runId });

    enter(state, 'backing-up');
    await acts.step.backUpDistributionFiles({ runId });

    enter(state, 'handing-off');
    state.deliveryIds = await acts.step.handOffDistribution({ runId });

    await acts.record.finishDistributionRun({ runId, status: 'succeeded' });
    enter(state, 'done');
    return { runId, submissionId: claim.submissionId, watermark: claim.watermark, reused: claim.reused, files: state.files, deliveryIds: state.deliveryIds };
  } catch (err) {
    const cancelled = isCancellation(err);
    const failure = describeFailure(err, cancelled);
    state.error = { type: failure.type, message: failure.message };
    enter(state, cancelled ? 'cancelled' : 'failed');
    // Recorded even when the run itself was cancelled; the watermark is not committed, so the next run covers it.
    await CancellationScope.nonCancellable(() => acts.record.finishDistributionRun({ runId, status: cancelled ? 'cancelled' : 'failed', message: failure.message }));
    if (cancelled) throw err;
    throw ApplicationFailure.create({ message: failure.message, type: failure.type, nonRetryable: true, details: [failure.details] });
  }
}

export interface ScheduledDistributionInput {
  timeZone: string;
  lagDays: number;
}

export type ScheduledDistributionResult = { status: 'distributed'; runId: string; files: number; deliveries: number } | { status: 'skipped'; reason: string };

/**
 * What the nightly Schedule starts. The business date comes from the scheduled time (so a caught-up or backfilled
 * night sends its own date); the fixed id `distribution:<YYYYMMDD>` is the lock shared with manual runs.
 */
export async function scheduledDistribution(input: ScheduledDistributionInput): Promise<ScheduledDistributionResult> {
  const info = workflowInfo();
  const at = info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime;
  const businessDate = scheduledBusinessDate(at, input.timeZone, input.lagDays);
  const workflowId = distributionWorkflowId(runKeyOf(businessDate));
  try {
    const child = await startChild(distribution, {
      workflowId,
      taskQueue: taskQueues.distribution,
      args: [{ businessDate, kind: 'full', trigger: 'schedule' }],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: `Nightly distribution of ${businessDate} (scheduled)`,
      typedSearchAttributes: [
        { key: searchAttributes.BusinessDate, value: businessDate },
        { key: searchAttributes.ReportType, value: 'REFERENCE_DATA' },
      ],
    });
    const result = await child.result();
    setCurrentDetails(`**distributed** ${businessDate}: ${result.files.length} files, ${result.deliveryIds.length} deliveries`);
    return { status: 'distributed', runId: result.runId, files: result.files.length, deliveries: result.deliveryIds.length };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const reason = `${workflowId} is already running; this scheduled run did not start another`;
      setCurrentDetails(`**skipped**: ${reason}`);
      return { status: 'skipped', reason };
    }
    throw err;
  }
}

function describeFailure(err: unknown, cancelled: boolean): { type: FailureType; message: string; details: unknown } {
  if (cancelled) return { type: 'Cancelled', message: 'cancelled by an operator; the watermark did not move, the next run covers this one', details: null };
  let cause: unknown = err;
  // Activity failures wrap the ApplicationFailure that carries our type.
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && (cause as { cause?: unknown }).cause) {
    cause = (cause as { cause?: unknown }).cause;
  }
  if (cause instanceof ApplicationFailure) return { type: (cause.type ?? 'Internal') as FailureType, message: cause.message, details: cause.details?.[0] ?? null };
  return { type: 'Internal', message: err instanceof Error ? err.message : String(err), details: null };
}

/** Moves to a phase and says where the run is on its page in the Temporal Web UI. */
function enter(state: DistributionState, phase: DistributionPhase): void {
  state.phase = phase;
  const lines: Record<DistributionPhase, () => string> = {
    claiming: () => `**claiming** the watermark range of ${state.runId}`,
    generating: () => `**generating** ${state.file ?? ''} (${state.filesDone}/${state.filesTotal} files, ${state.bytes} bytes)`,
    'backing-up': () => `**backing up** ${state.files.length} files`,
    'handing-off': () => `**handing off** ${state.files.length} files to the REFERENCE_DATA subscriptions`,
    done: () => `**done**: ${state.files.map((f) => `${f.name} (${f.rows} rows)`).join(', ')}; ${state.deliveryIds.length} deliveries`,
    failed: () => `**failed** (${state.error?.type}): ${state.error?.message ?? ''}`,
    cancelled: () => '**cancelled**; the watermark did not move',
  };
  setCurrentDetails(lines[phase]());
}
