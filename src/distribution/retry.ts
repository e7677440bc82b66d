// Retrying what failed (the original plan's retryFailedDistributions): failed runs start again with their recorded
// range, failed deliveries of the other runs are replayed as new runs of the same delivery ids.
import type { Client } from '@temporalio/client';
import type { ChannelType } from '../channels/types';
import type { Database } from '../db/types';
import type { DeliveryRetryPolicy } from '../reporting/retry-policy';
import { createDeliveryStarter } from './delivery-starter';
import { startDistribution } from './start';
import { deliveryStatusesOf } from './views';

export interface RetrySummary {
  runsChecked: number;
  runsRestarted: string[];
  deliveriesFailed: number;
  deliveriesReplayed: string[];
}

/** `businessDate` picks one date; otherwise every run whose business date is on or after `since` (yyyy-MM-dd). */
export async function retryFailedDistributions(
  deps: { db: Database; client: Client; retry: Record<ChannelType, DeliveryRetryPolicy> },
  filter: { businessDate?: string; since: string },
): Promise<RetrySummary> {
  const runs = (await deps.db.distributionRuns.listRuns({ businessDate: filter.businessDate, limit: 1000 })).filter((r) => filter.businessDate || r.businessDate >= filter.since);
  const runsRestarted: string[] = [];
  const failed: string[] = [];
  for (const run of runs) {
    if (run.status === 'failed' || run.status === 'cancelled') {
      const s = await startDistribution(deps.client, { kind: run.kind, businessDate: run.businessDate, suffix: run.suffix }, 'retry');
      if (s.started) runsRestarted.push(run.runId);
      continue;
    }
    for (const d of await deliveryStatusesOf(deps.db, run)) if (d.status === 'failed') failed.push(d.deliveryId);
  }
  const deliveriesReplayed = await createDeliveryStarter(deps).replayDeliveries(failed);
  return { runsChecked: runs.length, runsRestarted, deliveriesFailed: failed.length, deliveriesReplayed };
}
