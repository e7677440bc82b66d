// The one place that names task queues, workflow ids and search attributes (workflows, API and CLI share it).
// Pure and free of Node APIs so workflow code may import it.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const taskQueues = {
  ingest: 'ingest',
  sync: 'sync',
  distribution: 'distribution',
  delivery: 'delivery',
  /** Priority 1 deliveries: polled by a Worker of its own, so they never wait behind bulk deliveries. */
  deliveryPriority: 'delivery-priority',
} as const;

/** Custom search attributes registered on the dev server and set by workflows. */
export const searchAttributeTypes = {
  FilePath: 'Keyword',
  TableName: 'Keyword',
  LoadType: 'Keyword',
  SubscriberId: 'Keyword',
  Channel: 'Keyword',
  ReportType: 'Keyword',
  BusinessDate: 'Keyword',
  SyncTrigger: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof searchAttributeTypes;

/** `--search-attribute` values for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return Object.entries(searchAttributeTypes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]);
}

/**
 * Dynamic config for the dev servers refdata starts; a production cluster sets the same keys.
 * - Eager activity execution: the worker that completes a workflow task starts the activity it just scheduled, instead
 *   of the activity waiting for a poll (off by default in the server).
 * - Eager workflow start: a start that asks for it (deliveries started next to a delivery Worker) gets the first
 *   workflow task in its response, so the run begins without a poll (bench/delivery, docs/reporting.md).
 */
export function devServerDynamicConfigArgs(): string[] {
  return [
    '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
    '--dynamic-config-value', 'system.enableEagerWorkflowStart=true',
  ];
}

/** Workflow id of a dropped file: its path relative to the drop root, with forward slashes. */
export function fileWorkflowId(relativePath: string): string {
  return `file:${relativePath.split('\\').join('/')}`;
}

/**
 * The instrument sync's one workflow id: one running execution per id is the "one sync at a time" lock, for
 * manual, API and scheduled runs alike (scheduled runs start it from a small workflow, as a Schedule appends a
 * timestamp to the ids it starts).
 */
export const instrumentSyncWorkflowId = 'instrument-sync';

/** Ids of the Temporal Schedules refdata creates or updates (`refdata schedules apply`). */
export const scheduleIds = {
  instrumentSync: 'instrument-sync-daily',
  distribution: 'distribution-nightly',
  cleanup: 'cleanup-daily',
  referenceConfigCheck: 'reference-config-check-daily',
} as const;

/**
 * The distribution of one run key (`20250621`, or `20250621T143015` for an intraday delta): one running execution per
 * business date (or intraday instant) is its lock, for scheduled, API and CLI runs alike.
 */
export function distributionWorkflowId(runKey: string): string {
  return `distribution:${runKey}`;
}

/**
 * The one debouncer of intraday deltas (workflows/intraday-deltas.ts). One id for every business date: the deltas
 * form one watermark chain, so they must run one after the other, also across midnight.
 */
export const intradayDeltasWorkflowId = 'intraday-deltas';

/** Base id of the nightly runs the schedule starts; each starts the fixed-id `distribution:<YYYYMMDD>`. */
export const scheduledDistributionWorkflowId = 'distribution-scheduled';

/** Base id of the retention sweeps the cleanup schedule starts. */
export const scheduledCleanupWorkflowId = 'cleanup-scheduled';

/** Base id of the reference-config checks its schedule starts. */
export const scheduledReferenceConfigCheckWorkflowId = 'reference-config-check-scheduled';

/** Base id of the runs a schedule starts (the server appends the scheduled time). */
export const scheduledInstrumentSyncWorkflowId = 'instrument-sync-scheduled';

/** One workflow id per delivery; a replay is a new run of the same id. */
export function deliveryWorkflowId(deliveryId: string): string {
  return `delivery:${deliveryId}`;
}

/** One probe run per paused channel: the id is its lock, so however many deliveries notice the pause, one probes. */
export function channelProbeWorkflowId(channelId: string): string {
  return `channel-probe:${channelId}`;
}

/** Priority 1 goes to its own queue; everything else shares `delivery`. */
export function deliveryTaskQueue(priority: number): string {
  return priority <= 1 ? taskQueues.deliveryPriority : taskQueues.delivery;
}

/** Typed keys for workflows and clients. */
export const searchAttributes = {
  FilePath: defineSearchAttributeKey('FilePath', SearchAttributeType.KEYWORD),
  TableName: defineSearchAttributeKey('TableName', SearchAttributeType.KEYWORD),
  LoadType: defineSearchAttributeKey('LoadType', SearchAttributeType.KEYWORD),
  SubscriberId: defineSearchAttributeKey('SubscriberId', SearchAttributeType.KEYWORD),
  Channel: defineSearchAttributeKey('Channel', SearchAttributeType.KEYWORD),
  ReportType: defineSearchAttributeKey('ReportType', SearchAttributeType.KEYWORD),
  BusinessDate: defineSearchAttributeKey('BusinessDate', SearchAttributeType.KEYWORD),
  SyncTrigger: defineSearchAttributeKey('SyncTrigger', SearchAttributeType.KEYWORD),
};

/** The Temporal Schedule of a SCHEDULED subscription: it releases the subscription's held deliveries on its cron. */
export function subscriptionScheduleId(subscriptionId: string): string {
  return `subscription-delivery:${subscriptionId}`;
}

/** Base id of a subscription's release runs (a schedule appends its timestamp; deliver-now and triggers add their own suffix). */
export function subscriptionReleaseWorkflowId(subscriptionId: string): string {
  return `subscription-release:${subscriptionId}`;
}
