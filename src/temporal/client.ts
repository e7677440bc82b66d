// Connecting to Temporal and starting file workflows: shared by the watcher, the API and the CLI.
import { Client, Connection, WorkflowIdConflictPolicy } from '@temporalio/client';
import path from 'node:path';
import { fileWorkflowId, searchAttributes, taskQueues } from '../ids';
import { fileChangedSignal, fileLifecycle, loadNowSignal, type FileLifecycleInput, type StabilityOptions } from '../../workflows/file-lifecycle';
import { classifyPath } from '../drop-folders';

export async function connectTemporal(address: string, namespace: string): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect({ address });
  return { connection, client: new Client({ connection, namespace }) };
}

export interface StartFileOptions {
  dropRoot: string;
  filePath: string;
  stability: StabilityOptions;
  skipStability?: boolean;
  ingestHeartbeatTimeoutMs?: number;
}

/**
 * Signal-with-start: starts the file's workflow, or tells the running one that the file changed.
 * Returns null (and the reason) for a path that is not an input.
 */
export async function signalFileWorkflow(client: Client, opts: StartFileOptions): Promise<{ workflowId: string; runId: string } | { ignored: string }> {
  const c = classifyPath(opts.dropRoot, opts.filePath);
  if (c.kind === 'ignored') return { ignored: c.reason };
  const input = fileInput(c, opts);
  const workflowId = fileWorkflowId(c.relativePath);
  const handle = await client.workflow.signalWithStart(fileLifecycle, {
    ...fileStartOptions(c, input, workflowId),
    signal: fileChangedSignal,
    signalArgs: [],
  });
  return { workflowId, runId: handle.signaledRunId };
}

/**
 * For a file put in place whole (an API upload or copy): starts its workflow without the stability wait, or, when the
 * watcher saw it first and started one, tells that run to stop waiting. Returns the run that will load the file.
 */
export async function startFileWorkflowNow(client: Client, opts: Omit<StartFileOptions, 'skipStability'>): Promise<{ workflowId: string; runId: string } | { ignored: string }> {
  const c = classifyPath(opts.dropRoot, opts.filePath);
  if (c.kind === 'ignored') return { ignored: c.reason };
  const input = fileInput(c, { ...opts, skipStability: true });
  const workflowId = fileWorkflowId(c.relativePath);
  const handle = await client.workflow.signalWithStart(fileLifecycle, {
    ...fileStartOptions(c, input, workflowId),
    signal: loadNowSignal,
    signalArgs: [],
  });
  return { workflowId, runId: handle.signaledRunId };
}

/**
 * Starts the file's workflow unless one is already running for its path (then leaves it alone: no signal, so a
 * rescan never resets a running stability wait). For rescans of the drop folders and retries after an outage.
 */
export async function startFileWorkflowIfIdle(client: Client, opts: StartFileOptions): Promise<{ workflowId: string; runId: string } | { ignored: string }> {
  const c = classifyPath(opts.dropRoot, opts.filePath);
  if (c.kind === 'ignored') return { ignored: c.reason };
  const input = fileInput(c, opts);
  const workflowId = fileWorkflowId(c.relativePath);
  const handle = await client.workflow.start(fileLifecycle, {
    ...fileStartOptions(c, input, workflowId),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
  return { workflowId, runId: handle.firstExecutionRunId };
}

type InputPath = Extract<ReturnType<typeof classifyPath>, { kind: 'input' }>;

function fileInput(c: InputPath, opts: StartFileOptions): FileLifecycleInput {
  return {
    filePath: path.resolve(opts.filePath),
    relativePath: c.relativePath,
    referenceData: c.referenceData,
    loadType: c.loadType,
    stability: opts.stability,
    skipStability: opts.skipStability,
    ingestHeartbeatTimeoutMs: opts.ingestHeartbeatTimeoutMs,
  };
}

function fileStartOptions(c: InputPath, input: FileLifecycleInput, workflowId: string) {
  return {
    workflowId,
    taskQueue: taskQueues.ingest,
    args: [input] as [FileLifecycleInput],
    typedSearchAttributes: [
      { key: searchAttributes.FilePath, value: c.relativePath },
      { key: searchAttributes.LoadType, value: c.loadType },
    ],
    staticSummary: `Load ${c.fileName} (${c.referenceData ? 'reference data' : 'non-reference data'}, ${c.loadType})`,
  };
}

export { WorkflowIdConflictPolicy };
