// Starts the `delivery` workflow of a delivery: its id, queue by priority, summary and search attributes for the Web UI.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { ChannelType } from '../channels/types';
import { deliveryTaskQueue, deliveryWorkflowId, searchAttributes } from '../ids';
import type { DeliveryInput } from '../../workflows/delivery';
import type { DeliveryRetryPolicy } from './retry-policy';
import type { DeliveryRecord } from './types';

export type DeliveryRef = Pick<DeliveryRecord, 'deliveryId' | 'subscriptionId' | 'subscriberId' | 'channel' | 'reportId' | 'reportType' | 'priority'>;

/**
 * Channels whose attempts are this short (webhook, Slack, dashboard, push) make their first attempt as a local activity
 * in the first workflow task: a delivery that succeeds at once costs two server calls instead of six. Longer attempts
 * (email, SFTP) would hold the workflow task open, and local activities cannot heartbeat, so they keep regular ones.
 */
export const LOCAL_FIRST_ATTEMPT_MAX_MS = 15_000;

export function deliveryInputOf(d: DeliveryRef, policy: DeliveryRetryPolicy, replay?: DeliveryInput['replay']): DeliveryInput {
  return {
    deliveryId: d.deliveryId, subscriptionId: d.subscriptionId, subscriberId: d.subscriberId, channel: d.channel, reportId: d.reportId,
    reportType: d.reportType, priority: d.priority, policy, ...(replay ? { replay } : {}),
    localFirstAttempt: policy.attemptTimeoutMs <= LOCAL_FIRST_ATTEMPT_MAX_MS,
  };
}

/**
 * eager: ask for eager workflow start. Only for a client on the NativeConnection of a Worker in this process that polls
 * the delivery queues (the SDK refuses it on other connections); the server then returns the first workflow task in
 * the start response and that Worker runs it at once — start, first attempt and completion without a poll. Without a
 * free slot in such a Worker, or on a server with eager start disabled, it is an ordinary start.
 */
export interface StartMode {
  eager?: boolean;
}

function startOptions(input: DeliveryInput, mode: StartMode) {
  const replay = input.replay ? ` — replay #${input.replay.number}${input.replay.reason ? `: ${input.replay.reason}` : ''}` : '';
  return {
    workflowId: deliveryWorkflowId(input.deliveryId),
    taskQueue: deliveryTaskQueue(input.priority),
    args: [input] as [DeliveryInput],
    requestEagerStart: mode.eager === true,
    staticSummary: `${input.channel} delivery of ${input.reportType} ${input.reportId} to ${input.subscriberId} (priority ${input.priority})${replay}`,
    // Orders bulk deliveries within the shared queue; priority 1 has a queue of its own.
    priority: { priorityKey: Math.min(Math.max(input.priority, 1), 5) },
    typedSearchAttributes: [
      { key: searchAttributes.SubscriberId, value: input.subscriberId },
      { key: searchAttributes.Channel, value: input.channel as ChannelType },
      { key: searchAttributes.ReportType, value: input.reportType },
    ],
  };
}

/**
 * First run of a delivery. Idempotent: a running run is kept (USE_EXISTING), and a finished one is not started again
 * (REJECT_DUPLICATE) — replays go through startReplayRun. Returns whether this call started it.
 */
export async function startFirstRun(client: Client, input: DeliveryInput, mode: StartMode = {}): Promise<{ started: boolean; runId: string | null }> {
  try {
    const handle = await client.workflow.start('delivery', { ...startOptions(input, mode), workflowIdReusePolicy: 'REJECT_DUPLICATE', workflowIdConflictPolicy: 'USE_EXISTING' });
    return { started: true, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { started: false, runId: null };
    throw err;
  }
}

/** A replay: a new run of the same workflow id, refused (AlreadyStarted) while a run is still going. */
export async function startReplayRun(client: Client, input: DeliveryInput, mode: StartMode = {}): Promise<{ runId: string }> {
  const handle = await client.workflow.start('delivery', { ...startOptions(input, mode), workflowIdReusePolicy: 'ALLOW_DUPLICATE', workflowIdConflictPolicy: 'FAIL' });
  return { runId: handle.firstExecutionRunId };
}
