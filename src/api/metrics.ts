// GET /metrics (Prometheus text: refdata's metrics and, when a worker runs in this process, the Temporal SDK's),
// and the periodic jobs of the API process: alert thresholds and the ledger watch.
import type { FastifyPluginAsync } from 'fastify';
import type { AlertConfig } from '../config';
import type { Database } from '../db/types';
import type { Logger } from '../log/logger';
import { metricsContentType, metricsText } from '../metrics/exposition';
import { notificationsTotal } from '../metrics/registry';
import { createThresholdEvaluator, overdueFromStore, type ThresholdDeps } from '../metrics/thresholds';
import { createLedgerWatch } from '../notify/ledger-watch';
import type { Notifier } from '../notify/notifier';

export interface MetricsPluginDeps {
  db: Database;
  log: Logger;
  notifier: Notifier;
  alerts: AlertConfig;
  /** Deliveries past their deadline; read from the delivery store by default. */
  overdueDeliveries?: ThresholdDeps['overdueDeliveries'];
  /** Disk, memory and task-queue pollers (host-health.ts); absent: not checked. */
  host?: ThresholdDeps['host'];
}

export const metricsPlugin = (deps: MetricsPluginDeps): FastifyPluginAsync => async (app) => {
  app.get('/metrics', {
    schema: {
      tags: ['health'],
      summary: 'Prometheus metrics: refdata_* and, where a worker runs in this process, the Temporal SDK\'s temporal_*',
      response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  }, async (_req, reply) => reply.type(metricsContentType).send(await metricsText()));

  const log = deps.log.child({ component: 'alerts' });
  const evaluator = createThresholdEvaluator({ db: deps.db, notifier: deps.notifier, log, config: deps.alerts, overdueDeliveries: deps.overdueDeliveries ?? overdueFromStore(deps.db), host: deps.host });
  const ledger = createLedgerWatch({ db: deps.db, notifier: deps.notifier, log });
  const stops: Array<() => void> = [];
  app.addHook('onReady', async () => {
    stops.push(evaluator.start(), ledger.start(), deps.notifier.subscribe((n) => notificationsTotal.inc({ kind: n.kind })));
  });
  app.addHook('onClose', async () => {
    for (const stop of stops.splice(0)) stop();
  });
};
