// `refdata worker`: runs the Temporal worker until stopped.
import { Command } from 'commander';
import { baseServices, openDb, openTemporal } from '../runtime';
import { startWorker } from '../../workers/worker';
import { onShutdown } from './shutdown';

export function workerCommand(): Command {
  return new Command('worker')
    .description('run the Temporal worker (all task queues, or those given)')
    .option('--queues <list>', 'comma-separated task queues to poll, e.g. ingest or delivery,delivery-priority')
    .action(async (opts: { queues?: string }) => {
    const { config, log } = baseServices();
    const db = await openDb(config, log);
    const { connection, client, address } = await openTemporal(config);
    const worker = await startWorker({ address, namespace: config.temporal.namespace, client, db, log, config, workflowBundlePath: config.workflowBundle, queues: opts.queues?.split(',').map((q) => q.trim()).filter(Boolean) });
    const stopped = onShutdown(log, [['worker', () => worker.shutdown()], ['temporal', () => connection.close()], ['database', () => db.close()]]);
    await Promise.race([worker.done, stopped]);
    await stopped.catch(() => undefined);
  });
}
