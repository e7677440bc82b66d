// Starting and inspecting distribution runs: shared by the API and the CLI. The workflow id `distribution:<key>` is the lock.
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import type { DistributionTrigger } from '../db/distribution-runs';
import { distributionWorkflowId, searchAttributes, taskQueues } from '../ids';
import { distribution, distributionProgressQuery, type DistributionInput, type DistributionState } from '../../workflows/distribution';
import { localDate, localTimeSuffix, scheduledBusinessDate } from './business-date';
import { runKeyOf, type DistributionKind } from './file-names';
import type { DistributionConfig, DistributionRequest } from './types';

/**
 * What "run it now" means. full: the business date the nightly run would send now (yesterday, with the default lag),
 * or the one given — a date already sent is re-run with its recorded range. delta: everything since the last
 * watermark, named by today's date and the time now (`20250621T143015`).
 */
export function distributionRequestOf(kind: DistributionKind, opts: { businessDate?: string; now: Date; config: Pick<DistributionConfig, 'schedule' | 'businessDateLagDays'> }): DistributionRequest {
  const zone = opts.config.schedule.timeZone;
  if (kind === 'delta') return { kind, businessDate: localDate(opts.now, zone), suffix: localTimeSuffix(opts.now, zone) };
  return { kind, businessDate: opts.businessDate ?? scheduledBusinessDate(opts.now, zone, opts.config.businessDateLagDays), suffix: null };
}

export interface StartedDistribution {
  /** false: a run of this key was already running; its ids are returned instead. */
  started: boolean;
  runId: string;
  workflowId: string;
  workflowRunId: string;
}

export async function startDistribution(client: Client, req: DistributionRequest, trigger: DistributionTrigger): Promise<StartedDistribution> {
  const runId = runKeyOf(req.businessDate, req.suffix);
  const workflowId = distributionWorkflowId(runId);
  const input: DistributionInput = { businessDate: req.businessDate, kind: req.kind, suffix: req.suffix, trigger };
  try {
    const handle = await client.workflow.start(distribution, {
      workflowId,
      taskQueue: taskQueues.distribution,
      args: [input],
      // FAIL (the default) is the lock: a running run of this key refuses a second start; a finished one may run again.
      workflowIdConflictPolicy: 'FAIL',
      staticSummary: req.kind === 'full' ? `Distribution of ${req.businessDate} (${trigger})` : `Intraday delta ${runId} (${trigger})`,
      typedSearchAttributes: [
        { key: searchAttributes.BusinessDate, value: req.businessDate },
        { key: searchAttributes.ReportType, value: 'REFERENCE_DATA' },
      ],
    });
    return { started: true, runId, workflowId, workflowRunId: handle.firstExecutionRunId };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const running = await client.workflow.getHandle(workflowId).describe();
    return { started: false, runId, workflowId, workflowRunId: running.runId };
  }
}

export interface DistributionWorkflowView {
  status: WorkflowExecutionDescription['status']['name'];
  workflowRunId: string;
  startTime: string;
  closeTime: string | null;
  /** The progress query while the run is open; null once it closed or when no worker answers. */
  progress: DistributionState | null;
}

/** Temporal's view of the latest run of a key; null when Temporal does not know it (retention, another namespace). */
export async function describeDistribution(client: Client, runId: string): Promise<DistributionWorkflowView | null> {
  const handle = client.workflow.getHandle(distributionWorkflowId(runId));
  const desc = await handle.describe().catch(() => null);
  if (!desc) return null;
  const progress = desc.status.name === 'RUNNING' ? await handle.query(distributionProgressQuery).catch(() => null) : null;
  return { status: desc.status.name, workflowRunId: desc.runId, startTime: desc.startTime.toISOString(), closeTime: desc.closeTime?.toISOString() ?? null, progress };
}
