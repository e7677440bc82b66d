// A refdata worker in its own process, configured from the environment (as `refdata worker` is), so that a test
// can SIGKILL it mid-sync and a benchmark can read its peak memory. Prints "worker ready" once polling.
// WORKER_QUEUES (comma-separated) polls only those task queues, as `refdata worker --queues` does.
import { loadConfig } from '../../src/config';
import { openDatabase } from '../../src/db';
import { createLogger } from '../../src/log/logger';
import { connectTemporal } from '../../src/temporal/client';
import { temporalAddressOf } from '../../src/runtime';
import { startWorker } from '../../workers/worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.log.level, format: 'json' });
  const db = await openDatabase(config);
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
  await db.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`worker-process: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
