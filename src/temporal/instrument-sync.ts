// Starting and inspecting the one instrument sync: shared by the API and the CLI. The fixed workflow id is the lock.
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import path from 'node:path';
import { instrumentSyncWorkflowId, searchAttributes, taskQueues } from '../ids';
import { redactUrl } from '../instruments/download';
import { instrumentSync, syncProgressQuery, type InstrumentSyncInput, type SyncState } from '../../workflows/instrument-sync';

export type StartSyncResult = { started: true; workflowId: string; runId: string } | { started: false; workflowId: string; runId: string };

function summaryOf(input: InstrumentSyncInput): string {
  const from = !input.source ? 'INSTRUMENTS_URL' : 'url' in input.source ? redactUrl(input.source.url) : path.basename(input.source.file);
  return `Instrument master sync from ${from}${input.force ? ' (forced past the guard)' : ''}`;
}

/** Starts a sync, or, when one is running, returns that run's id instead of starting a second. */
export async function startInstrumentSync(client: Client, input: InstrumentSyncInput): Promise<StartSyncResult> {
  const workflowId = instrumentSyncWorkflowId;
  try {
    const handle = await client.workflow.start(instrumentSync, {
      workflowId,
      taskQueue: taskQueues.sync,
      args: [input],
      // FAIL (the default) is the lock: a running sync with this id refuses a second start.
      workflowIdConflictPolicy: 'FAIL',
      staticSummary: summaryOf(input),
      typedSearchAttributes: [
        { key: searchAttributes.SyncTrigger, value: input.trigger ?? 'manual' },
        { key: searchAttributes.TableName, value: 'instruments' },
        ...(input.source && 'file' in input.source ? [{ key: searchAttributes.FilePath, value: path.resolve(input.source.file) }] : []),
      ],
    });
    return { started: true, workflowId, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const running = await client.workflow.getHandle(workflowId).describe();
    return { started: false, workflowId, runId: running.runId };
  }
}

export interface SyncRunView {
  status: WorkflowExecutionDescription['status']['name'];
  startTime: string;
  closeTime: string | null;
  /** The run's progress query while it runs (or its last state); null when the worker cannot answer. */
  progress: SyncState | null;
}

/** Temporal's view of one sync run; null when Temporal does not know the run id. */
export async function describeSyncRun(client: Client, runId: string): Promise<SyncRunView | null> {
  const handle = client.workflow.getHandle(instrumentSyncWorkflowId, runId);
  const desc = await handle.describe().catch(() => null);
  if (!desc) return null;
  const progress = desc.status.name === 'RUNNING' ? await handle.query(syncProgressQuery).catch(() => null) : null;
  return { status: desc.status.name, startTime: desc.startTime.toISOString(), closeTime: desc.closeTime?.toISOString() ?? null, progress };
}
