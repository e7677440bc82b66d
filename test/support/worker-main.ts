// The body of a test's worker process: what `refdata worker` runs (config from the environment, startWorker), with an
// optional wrapper around its database (the fault suite's phase holds). Prints "worker ready" once polling.
// WORKER_QUEUES (comma-separated) polls only those task queues, as `refdata worker --queues` does.
import { loadConfig } from '../../src/config';
import { openDatabase } from '../../src/db';
import type { Database } from '../../src/db/types';
import { createLogger } from '../../src/log/logger';
import { connectTemporal } from '../../src/temporal/client';
import { temporalAddressOf } from '../../src/runtime';
import { startWorker } from '../../workers/worker';

export function runWorkerProcess(name: string, wrapDb: (db: Database) => Database = (db) => db): void {
  main(wrapDb).catch((err: unknown) => {
    process.stderr.write(`${name}: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

async function main(wrapDb: (db: Database) => Database): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.log.level, format: 'json' });
  const real = await openDatabase(config);
  const db = wrapDb(real);
  const address = temporalAddressOf(config);
  const { connection, client } = await connectTemporal(address, config.temporal.namespace);
  const queues = process.env.WORKER_QUEUES?.split(',').map((q) => q.trim()).filter(Boolean);
  const worker = await startWorker({ address, namespace: config.temporal.namespace, client, db, log, config, workflowBundlePath: config.workflowBundle, queues });
  process.stdout.write('worker ready\n');
  const stop = () => void worker.shutdown();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await worker.done;
  await connection.close();
  await real.close();
}
