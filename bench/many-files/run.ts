// bench/many-files: 500 small files dropped at once into the watched folders: all loaded, files per minute.
// Usage: npx tsx bench/many-files/run.ts [--files 500] [--rows 200]   → JSON on stdout
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { silentLogger } from '../../src/log/logger';
import { startWatcher, ensureDropFolders } from '../../src/watcher';
import { taskQueues } from '../../src/ids';
import { rowAt, HEADER } from '../ingest/generate';
import { createBenchDatabase, startBenchTemporal } from '../lib/env';
import { spawnWorker, waitForPollers, writeWorkflowBundle } from '../lib/worker-process';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { files: { type: 'string', default: '500' }, rows: { type: 'string', default: '200' } } });
  const files = Number(values.files);
  const rows = Number(values.rows);
  const dropRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-many-'));
  await ensureDropFolders(dropRoot);
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-many-src-'));
  const body = [HEADER.join(','), ...Array.from({ length: rows }, (_, i) => rowAt(i))].join('\n');
  // Date-and-time stamped names all map to one table, `trades`, as a day of upstream drops would.
  const stamp = (f: number) => `T${String(Math.floor(f / 3600)).padStart(2, '0')}${String(Math.floor(f / 60) % 60).padStart(2, '0')}${String(f % 60).padStart(2, '0')}`;
  for (let f = 0; f < files; f++) fs.writeFileSync(path.join(staging, `trades_20241201${stamp(f)}.csv`), `${body}\n${rowAt(rows + f)}\n`);

  const bdb = await createBenchDatabase();
  const db = createPostgresDatabase(createNodePgExecutor(bdb.url), 'postgres');
  await db.migrate();
  const server = await startBenchTemporal();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const bundle = await writeWorkflowBundle(path.join(staging, 'workflow-bundle.js'));
  const worker = spawnWorker({ DATABASE_URL: bdb.url, TEMPORAL_ADDRESS: server.address, REFDATA_DROPOFF_DIR: dropRoot, REFDATA_WORKFLOW_BUNDLE: bundle }, [taskQueues.ingest]);
  try {
    await waitForPollers(client, 'default', taskQueues.ingest);
    // One stability check 1 s apart (the dev server's timer resolution): the bench measures throughput, not patience.
    const watcher = await startWatcher({ client, dropRoot, stability: { checks: 1, intervalMs: 1000, maxWaitMs: 600_000 }, log: silentLogger() });
    const leaf = path.join(dropRoot, 'none_reference_data_table/append');
    const t0 = Date.now();
    // Dropped as a user would: a rename into the folder, all at once.
    for (const name of fs.readdirSync(staging).filter((n) => n.endsWith('.csv'))) fs.renameSync(path.join(staging, name), path.join(leaf, name));
    let done = 0;
    let failed = 0;
    while (done + failed < files) {
      const all = await db.listTracking({ limit: 1000 });
      done = all.filter((r) => r.status === 'loaded').length;
      failed = all.filter((r) => r.status === 'error').length;
      if (Date.now() - t0 > 15 * 60_000) throw new Error(`only ${done} of ${files} loaded after 15 minutes`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (Date.now() - t0) / 1000;
    await watcher.close();
    const loadedRows = await db.countRows({ schema: 'data', name: 'trades' });
    process.stdout.write(`${JSON.stringify({
      bench: 'many-files', files, rowsPerFile: rows + 1, loaded: done, failed, seconds: Math.round(seconds * 100) / 100,
      filesPerMinute: Math.round((done / seconds) * 60), tableRows: loadedRows, workerPeakRssMb: worker.peakRssMb(),
    }, null, 2)}\n`);
  } finally {
    await worker.stop();
    await connection.close();
    await db.close();
    await server.stop();
    await bdb.drop();
    fs.rmSync(dropRoot, { recursive: true, force: true });
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench/many-files failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
