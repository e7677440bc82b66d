// The fault suite's worker process: what `refdata worker` runs (config from the environment, startWorker), with one
// difference: its database passes through the phase holds of holds.ts when FAULT_HOLD_DIR is set, so a test can stop
// a load at an exact phase, inject a fault there and let it go on. Prints "worker ready" once polling.
import { loadConfig } from '../../../src/config';
import { openDatabase } from '../../../src/db';
import { createLogger } from '../../../src/log/logger';
import { connectTemporal } from '../../../src/temporal/client';
import { temporalAddressOf } from '../../../src/runtime';
import { startWorker } from '../../../workers/worker';
import { withHolds } from './holds';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.log.level, format: 'json' });
  const real = await openDatabase(config);
  const holdDir = process.env.FAULT_HOLD_DIR;
  const db = holdDir ? withHolds(real, holdDir) : real;
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

main().catch((err: unknown) => {
  process.stderr.write(`fault-worker: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
