// How a distribution run is shown (API and CLI): its files with download paths, row counts, and each delivery's status.
import type { DistributionRun } from '../db/distribution-runs';
import type { Database } from '../db/types';
import { INSTRUMENTS_DATASET } from './file-names';

export interface RunDeliveryStatus {
  deliveryId: string;
  subscriptionId: string | null;
  subscriberId: string | null;
  channel: string | null;
  status: string;
  retryCount: number;
  deliveryTime: string | null;
  errorDetails: string | null;
}

export const fileUrlOf = (runId: string, name: string) => `/api/v1/distribution/runs/${encodeURIComponent(runId)}/files/${encodeURIComponent(name)}`;

export function runSummaryOf(run: DistributionRun) {
  const rowsOf = (type: string) => run.files.find((f) => f.type === type && f.dataset === INSTRUMENTS_DATASET)?.rows ?? null;
  return {
    runId: run.runId, businessDate: run.businessDate, kind: run.kind, suffix: run.suffix, status: run.status, trigger: run.trigger,
    workflowId: run.workflowId, workflowRunId: run.workflowRunId, submissionId: run.submissionId, watermark: run.watermark,
    watermarkCommitted: run.watermarkCommitted, generatedAt: run.generatedAt, attempts: run.attempts, startedAt: run.startedAt,
    finishedAt: run.finishedAt, errorMessage: run.errorMessage,
    counts: { full: rowsOf('full'), delta: rowsOf('delta'), cancellation: rowsOf('cancellation'), invalid: rowsOf('invalid') },
    files: run.files.map((f) => ({ ...f, url: fileUrlOf(run.runId, f.name) })),
    deliveryCount: run.deliveryIds.length,
  };
}

/** Each delivery as the delivery service last recorded it (dist.delivery_history); `unknown` if it is gone. */
export async function deliveryStatusesOf(db: Pick<Database, 'distribution'>, run: DistributionRun): Promise<RunDeliveryStatus[]> {
  return Promise.all(
    run.deliveryIds.map(async (id) => {
      const d = await db.distribution.getDelivery(id);
      if (!d) return { deliveryId: id, subscriptionId: null, subscriberId: null, channel: null, status: 'unknown', retryCount: 0, deliveryTime: null, errorDetails: null };
      return {
        deliveryId: id, subscriptionId: d.subscriptionId, subscriberId: d.subscriberId, channel: d.channel, status: d.status, retryCount: d.retryCount,
        deliveryTime: d.deliveryTime?.toISOString() ?? null, errorDetails: d.errorDetails,
      };
    }),
  );
}
