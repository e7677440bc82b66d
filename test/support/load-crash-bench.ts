// What the tests that crash PostgreSQL in the middle of a load share: a private cluster (the shared test server is
// never restarted), the plan and ingest activities over it, CSV files whose every value follows from its id, the
// check that a load's rows are exactly the file's, and the crash itself.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { MockActivityEnvironment } from '@temporalio/testing';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { PgExecutor } from '../../src/db/postgres/executor';
import type { Database } from '../../src/db/types';
import { createPlanActivities } from '../../activities/plan';
import { createIngestActivities } from '../../activities/ingest';
import { silentLogger } from '../../src/log/logger';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from './private-pg';
import { makeTempDir, type TempDir } from './temp';
import { waitFor } from '../e2e/harness';

export interface LoadCrashBench {
  /** Why the private cluster cannot run here, or null. */
  unavailable: string | null;
  /** The loader's database and a second connection for checks (set by beforeAll). */
  db: Database;
  pg: PgExecutor;
  /** Plan and ingest activities; `onProgress` runs at each progress report (tests cancel there). */
  activities(opts?: { onProgress?: () => void; loadStreams?: number; minPartBytes?: number }): ReturnType<typeof createPlanActivities> & ReturnType<typeof createIngestActivities>;
  /** Rows `id,code,note,price` (or `id,code,price` without a note): ids from, from+1, … each value derived from its id. */
  writeCsv(name: string, from: number, rows: number, note?: 'none' | 'short' | 'multiline'): Promise<string>;
  /** The table's rows of one load are exactly ids [from, from + rows), each once, with the values writeCsv wrote. */
  expectExactly(table: string, loadId: string, from: number, rows: number, note?: 'none' | 'short' | 'multiline'): Promise<void>;
  /** An immediate stop (no checkpoint, no flush of unlogged tables), then a start; waits until it answers. */
  crash(): Promise<void>;
}

/** Runs an activity in a mock activity environment with its types kept. */
export function runActivity<A extends unknown[], R>(env: MockActivityEnvironment, fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env.run(fn as (...a: unknown[]) => Promise<R>, ...args) as Promise<R>;
}

const NOTE_SQL = {
  none: null,
  short: `'n' || id || ', a'`,
  multiline: `'n' || id || ' ' || repeat('x', 40) || E'\\n' || repeat('y', 40) || E'\\n' || repeat('z', 40) || ', end'`,
} as const;

function noteOf(kind: 'short' | 'multiline', i: number): string {
  return kind === 'multiline' ? `"n${i} ${'x'.repeat(40)}\n${'y'.repeat(40)}\n${'z'.repeat(40)}, end"` : `"n${i}, a"`;
}

/** Registers the suite's beforeAll/afterAll and returns the bench they fill. */
export function useLoadCrashBench(opts: { name: string; batchRows: number }): LoadCrashBench {
  let server: PrivatePostgres | undefined;
  let temp: TempDir | undefined;
  const bench: LoadCrashBench = {
    unavailable: privatePostgresUnavailable(),
    db: undefined as unknown as Database,
    pg: undefined as unknown as PgExecutor,
    activities(a = {}) {
      return {
        ...createPlanActivities({ db: bench.db, log: silentLogger() }),
        ...createIngestActivities({
          db: bench.db, log: silentLogger(), batchRows: opts.batchRows, progressIntervalMs: 0,
          ...(a.loadStreams !== undefined ? { loadStreams: a.loadStreams } : {}),
          ...(a.minPartBytes !== undefined ? { minPartBytes: a.minPartBytes } : {}),
          notifyProgress: async () => a.onProgress?.(),
        }),
      };
    },
    async writeCsv(name, from, rows, note = 'none') {
      const lines = [note === 'none' ? 'id,code,price' : 'id,code,note,price'];
      for (let i = from; i < from + rows; i++) lines.push(note === 'none' ? `${i},C${i},${(i % 997) / 4}` : `${i},C${i},${noteOf(note, i)},${(i % 997) / 4}`);
      const file = path.join(temp!.path, `${Math.random().toString(36).slice(2, 8)}`, name);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, `${lines.join('\n')}\n`);
      return file;
    },
    async expectExactly(table, loadId, from, rows, note = 'none') {
      const noteCheck = NOTE_SQL[note] ? ` OR note <> ${NOTE_SQL[note]}` : '';
      const [stats] = await bench.pg.query<{ n: string; ids: string; lo: number; hi: number; wrong: string }>(
        `SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS lo, max(id) AS hi,
                count(*) FILTER (WHERE code <> 'C' || id OR price <> (id % 997) / 4.0${noteCheck}) AS wrong
           FROM data.${table} WHERE refdata_load_id = $1`,
        [loadId],
      );
      expect({ n: Number(stats.n), ids: Number(stats.ids), lo: Number(stats.lo), hi: Number(stats.hi), wrong: Number(stats.wrong) })
        .toEqual({ n: rows, ids: rows, lo: from, hi: from + rows - 1, wrong: 0 });
    },
    async crash() {
      await server!.restart('immediate');
      await waitFor('PostgreSQL back after the crash', async () => (await bench.db.ping().then(() => true, () => false)), 60_000);
    },
  };
  beforeAll(async () => {
    if (bench.unavailable) return;
    server = await startPrivatePostgres();
    bench.db = createPostgresDatabase(createNodePgExecutor(server.url, { applicationName: `refdata-${opts.name}` }), 'postgres');
    bench.pg = createNodePgExecutor(server.url, { applicationName: `refdata-${opts.name}-check` });
    await bench.db.migrate();
    temp = await makeTempDir(`refdata-${opts.name}-`);
  });
  afterAll(async () => {
    await bench.pg?.close();
    await bench.db?.close();
    await temp?.cleanup();
    await server?.stop();
  });
  return bench;
}
