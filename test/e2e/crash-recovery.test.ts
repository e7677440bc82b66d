// kill -9 of the worker mid-file: a new worker resumes from the last committed batch and every row lands exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { connectTemporal, signalFileWorkflow } from '../../src/temporal/client';
import { createTestDatabase } from '../support/pg';
import { namespaceForTestFile } from '../support/namespaces';
import { waitFor } from './harness';
import { generateCsv } from '../../bench/ingest/generate';
import type { FileLifecycleResult } from '../../workflows/file-lifecycle';

const ROWS = 400_000;
let dropRoot: string;
let dbUrl: string;
let dropDb: () => Promise<void>;
let db: Database;
let connection: Connection;
let client: Client;
const children: ChildProcess[] = [];

/** The real `refdata worker` command in its own process, so it can be killed outright. */
function startWorkerProcess(): ChildProcess {
  const child = spawn(process.execPath, [path.join(__dirname, '../../bin/refdata'), 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: namespaceForTestFile(__filename),
      REFDATA_DROPOFF_DIR: dropRoot,
      REFDATA_BATCH_ROWS: '20000',
      REFDATA_WORKFLOW_BUNDLE: inject('workflowBundlePath') || '',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  dropRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-crash-'));
  const tdb = await createTestDatabase(inject('pgUrl'));
  dbUrl = tdb.url;
  dropDb = tdb.drop;
  db = createPostgresDatabase(createNodePgExecutor(dbUrl), 'postgres');
  await db.migrate();
  ({ connection, client } = await connectTemporal(inject('temporalAddress'), namespaceForTestFile(__filename)));
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await connection?.close();
  await db?.close();
  await dropDb?.();
  await fs.rm(dropRoot, { recursive: true, force: true });
});

describe('crash recovery', () => {
  it('a worker killed with SIGKILL mid-file is replaced and the table holds every row exactly once', async () => {
    const file = path.join(dropRoot, 'none_reference_data_table/append/crash_test.csv');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await generateCsv(file, ROWS);

    const first = startWorkerProcess();
    const started = await signalFileWorkflow(client, {
      dropRoot, filePath: file, stability: { checks: 1, intervalMs: 0, maxWaitMs: 60_000 }, skipStability: true, ingestHeartbeatTimeoutMs: 3_000,
    });
    if (!('workflowId' in started)) throw new Error(started.ignored);

    // Mid-file: some batches committed, not all.
    const midway = await waitFor('a committed batch', async () => {
      const [load] = await db.listLoads({ table: 'crash_test', status: 'loading' });
      return load && load.rowsCommitted > 0 && load.rowsCommitted < ROWS ? load : null;
    }, 120_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const atKill = (await db.getLoad(midway.loadId))!;
    expect(atKill.rowsCommitted).toBeLessThan(ROWS);

    startWorkerProcess();
    const result = (await client.workflow.getHandle(started.workflowId).result()) as FileLifecycleResult;
    expect(result.status).toBe('loaded');
    expect(result.rows).toBe(ROWS);

    const count = await db.countRows({ schema: 'data', name: 'crash_test' });
    expect(count).toBe(ROWS);
    const pg = createNodePgExecutor(dbUrl);
    try {
      const [{ n }] = await pg.query<{ n: string }>('SELECT count(DISTINCT instrument_key) AS n FROM data.crash_test');
      expect(Number(n)).toBe(ROWS);
      const [{ loads }] = await pg.query<{ loads: string }>('SELECT count(DISTINCT refdata_load_id) AS loads FROM data.crash_test');
      expect(Number(loads)).toBe(1);
    } finally {
      await pg.close();
    }
    const load = (await db.getLoad(midway.loadId))!;
    expect(load.status).toBe('loaded');
    expect(load.rowsCommitted).toBe(ROWS);
  });
});
