// Side effect of a sync or load that changed rows: ask the intraday-deltas debouncer for a delta (signal-with-start).
import type { Client } from '@temporalio/client';
import type { Logger } from '../src/log/logger';
import { intradayDeltasWorkflowId, taskQueues } from '../src/ids';
import type { IntradayChange } from '../src/distribution/intraday-requests';
import type { IntradayConfig } from '../src/distribution/types';
import { intradayChangeSignal, intradayDeltas } from '../workflows/intraday-deltas';

export interface IntradayActivityDeps {
  client: Client;
  log: Logger;
  /** REFDATA_INTRADAY_DELTAS and REFDATA_INTRADAY_DEBOUNCE_SECONDS; absent = off. */
  config: IntradayConfig | undefined;
  /** Time zone of business dates and intraday suffixes (REFDATA_DISTRIBUTION_TIMEZONE). */
  timeZone: string;
}

export function createIntradayActivities(deps: IntradayActivityDeps) {
  return {
    /**
     * Requests an intraday delta when they are on. Signal-with-start: the running debouncer counts the request, or a
     * new one starts with it. A retried call sends the same ref again, which the debouncer counts once.
     */
    async requestIntradayDelta(change: IntradayChange): Promise<{ requested: boolean }> {
      if (!deps.config?.enabled || change.rows <= 0) return { requested: false };
      await deps.client.workflow.signalWithStart(intradayDeltas, {
        workflowId: intradayDeltasWorkflowId,
        taskQueue: taskQueues.distribution,
        args: [{ debounceMs: deps.config.debounceMs, timeZone: deps.timeZone }],
        signal: intradayChangeSignal,
        signalArgs: [change],
        staticSummary: 'Intraday deltas as records change (debouncer)',
      });
      deps.log.info({ source: change.source, ref: change.ref, rows: change.rows }, 'intraday delta requested');
      return { requested: true };
    },
  };
}
