// `refdata worker`: runs the Temporal worker until stopped.
import { Command } from 'commander';
import { baseServices, openDb, openTemporal } from '../runtime';
import { startWorker } from '../../workers/worker';
import { onShutdown } from './shutdown';
import { ensureSecretsKey } from '../reporting/secrets-key';
import { startEventRelay } from '../events';
import { startDeliveriesVia } from '../events/start-deliveries';
import { createOutboxPublisher } from '../events/outbox-publisher';
import { deliveredTopic } from '../reporting/event';

export function workerCommand(): Command {
  return new Command('worker')
    .description('run the Temporal worker (all task queues, or those given)')
    .option('--queues <list>', 'comma-separated task queues to poll, e.g. ingest or delivery,delivery-priority')
    .action(async (opts: { queues?: string }) => {
    const { config, log } = baseServices();
    const db = await openDb(config, log);
    const { connection, client, address } = await openTemporal(config);
    // Outbox relay (Kafka or, without KAFKA_BROKERS, the bus of this process) and the upstream report consumer.
    const events = await startEventRelay({
      db, config, log,
      startDeliveries: startDeliveriesVia({
        db, client, reportRoots: config.reporting.reportRoots, retry: config.reporting.retry,
        events: createOutboxPublisher(db.outbox), topicFor: (reportType) => deliveredTopic(reportType, config.events.topics.deliveredTemplate),
      }),
    });
    const worker = await startWorker({ address, namespace: config.temporal.namespace, client, db, log, config, workflowBundlePath: config.workflowBundle, delivery: { secretsKey: ensureSecretsKey(config).key, events: events.publisher }, queues: opts.queues?.split(',').map((q) => q.trim()).filter(Boolean) });
    const stopped = onShutdown(log, [['worker', () => worker.shutdown()], ['events', () => events.stop()], ['temporal', () => connection.close()], ['database', () => db.close()]]);
    await Promise.race([worker.done, stopped]);
    await stopped.catch(() => undefined);
  });
}
