// `refdata worker`: runs the Temporal worker until stopped.
import { Command } from 'commander';
import { baseServices, openDb, openTemporal } from '../runtime';
import { startWorker } from '../../workers/worker';
import { onShutdown } from './shutdown';

export function workerCommand(): Command {
  return new Command('worker').description('run the Temporal worker (task queues ingest, sync, distribution, delivery)').action(async () => {
    const { config, log } = baseServices();
    const db = await openDb(config, log);
    const { connection, client, address } = await openTemporal(config);
    const worker = await startWorker({ address, namespace: config.temporal.namespace, client, db, log, config, workflowBundlePath: config.workflowBundle });
    const stopped = onShutdown(log, [['worker', () => worker.shutdown()], ['temporal', () => connection.close()], ['database', () => db.close()]]);
    await Promise.race([worker.done, stopped]);
    await stopped.catch(() => undefined);
  });
}
