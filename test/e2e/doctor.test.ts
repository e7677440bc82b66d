// `refdata doctor` against a real setup (dev server namespace, PostgreSQL, drop folders, schedules), healthy and then broken.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { loadConfig } from '../../src/config';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { connectTemporal } from '../../src/temporal/client';
import { applySchedules, scheduleSpecs } from '../../src/temporal/schedules';
import { ensureDropFolders } from '../../src/watcher';
import { exitCodeOf, runDoctor } from '../../src/cli/doctor';
import { createTestDatabase } from '../support/pg';
import { namespaceForTestFile } from '../support/namespaces';

const run = promisify(execFile);
const bin = path.join(__dirname, '../../bin/refdata');

let env: Record<string, string>;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const tdb = await createTestDatabase(inject('pgUrl'));
  const db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
  await db.migrate();
  await db.close();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-doctor-'));
  const dropRoot = path.join(dir, 'dropoff');
  await ensureDropFolders(dropRoot);
  env = {
    DATABASE_URL: tdb.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: namespaceForTestFile(__filename),
    REFDATA_DROPOFF_DIR: dropRoot,
    REFDATA_STATE_DIR: path.join(dir, 'state'),
    LOG_LEVEL: 'silent',
    // No worker runs here: test/integration/host-health.test.ts covers the task-queue pollers.
    REFDATA_ALERT_TASK_QUEUES: 'none',
  };
  const { connection, client } = await connectTemporal(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
  await applySchedules(client, scheduleSpecs(loadConfig(env)));
  await connection.close();
  cleanup = async () => {
    await fs.rm(dir, { recursive: true, force: true });
    await tdb.drop();
  };
});
afterAll(async () => cleanup?.());

/** The real command line, as an operator runs it; resolves whatever the exit code. */
async function doctor(extraEnv: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [bin, 'doctor', '--timeout', '3000'], { env: { PATH: process.env.PATH ?? '', HOME: os.homedir(), ...env, ...extraEnv }, timeout: 60_000 });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? -1, out: e.stdout ?? '' };
  }
}

describe('refdata doctor', () => {
  it('finds nothing wrong with a healthy setup', async () => {
    const results = await runDoctor(loadConfig(env), { timeoutMs: 3000 });
    expect(results.filter((r) => r.level === 'fail')).toEqual([]);
    expect(exitCodeOf(results)).toBe(0);
    const areas = (level: string) => results.filter((r) => r.level === level).map((r) => r.area);
    expect(areas('ok')).toEqual(expect.arrayContaining(['config', 'temporal', 'schedules', 'database', 'drop folders']));
    expect(results.find((r) => /search attributes registered/.test(r.detail))?.level).toBe('ok');
    expect(results.find((r) => r.area === 'schedules')?.detail).toMatch(/instrument-sync-daily: paused as configured/);

    const cli = await doctor();
    expect(cli.code).toBe(0);
    expect(cli.out).toContain('everything checked is healthy');
  });

  it('names a wrong TEMPORAL_ADDRESS and a missing drop folder, says how to fix each, and exits non-zero', async () => {
    const missing = path.join(env.REFDATA_DROPOFF_DIR, 'none_reference_data_table/append/error');
    await fs.rm(missing, { recursive: true });
    try {
      const cli = await doctor({ TEMPORAL_ADDRESS: '127.0.0.1:1' });
      expect(cli.code).toBe(1);
      expect(cli.out).toMatch(/✘ temporal\s+not reachable at 127\.0\.0\.1:1/);
      expect(cli.out).toContain('fix: start the Temporal server at 127.0.0.1:1, or correct TEMPORAL_ADDRESS');
      expect(cli.out).toMatch(/✘ drop folders\s+.*none_reference_data_table\/append\/error: missing/);
      expect(cli.out).toMatch(/- schedules\s+not checked: Temporal is not reachable/);
      expect(cli.out).toMatch(/✔ database/);
      expect(cli.out).toContain('2 problems');
      expect(cli.out).not.toContain(env.DATABASE_URL);
    } finally {
      await fs.mkdir(missing, { recursive: true });
    }
  });
});
