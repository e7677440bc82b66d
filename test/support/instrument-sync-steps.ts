// Runs the instrument activities in the workflow's order, in a mock activity context, against a real database.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { inject } from 'vitest';
import { createInstrumentActivities } from '../../activities/instruments';
import { loadConfig, type InstrumentsConfig } from '../../src/config';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { silentLogger } from '../../src/log/logger';
import type { InstrumentSyncReport } from '../../src/instruments/types';
import type { SyncSource } from '../../workflows/instrument-sync';
import { createTestDatabase, type TestDatabase } from './pg';
import { makeTempDir, type TempDir } from './temp';

/** An activity context whose expected failures stay out of the test output. */
export function mockActivityEnv(info: Partial<Info> = {}): MockActivityEnvironment {
  return new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
}

/** Runs an activity in the mock context with its own result type (MockActivityEnvironment.run infers unknown). */
export function runActivity<A extends unknown[], R>(env: MockActivityEnvironment, fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env.run(fn, ...args) as Promise<R>;
}

/** Small masters pass the production guard only with a lower equity minimum. */
export function testInstrumentsConfig(over: Partial<InstrumentsConfig> = {}): InstrumentsConfig {
  const base = loadConfig({}).instruments;
  // Test brokers listen on loopback, which the destination policy refuses unless allowed.
  return { ...base, batchSize: 25, allowPrivateNetworks: true, ...over, guard: { ...base.guard, minEquities: 5, ...(over.guard ?? {}) } };
}

export interface SyncHarness {
  db: Database;
  pg: TestDatabase;
  temp: TempDir;
  /** Download → stage → apply → cleanup as the workflow runs them; failures are recorded as the workflow would. */
  sync(source: SyncSource, opts?: { force?: boolean; config?: Partial<InstrumentsConfig>; runId?: string }): Promise<InstrumentSyncReport>;
  activities(config?: Partial<InstrumentsConfig>): ReturnType<typeof createInstrumentActivities>;
  query<T extends Record<string, unknown>>(sql: string, params?: (string | number | boolean | null)[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function startSyncHarness(): Promise<SyncHarness> {
  const pg = await createTestDatabase(inject('pgUrl'));
  const exec = createNodePgExecutor(pg.url);
  const db = createPostgresDatabase(exec, 'postgres');
  await db.migrate();
  const temp = await makeTempDir('refdata-sync-');
  const activities = (config: Partial<InstrumentsConfig> = {}) =>
    createInstrumentActivities({ db, log: silentLogger(), config: testInstrumentsConfig({ fileDir: temp.path, ...config }), tempDir: temp.path });

  return {
    db, pg, temp, activities,
    async sync(source, opts = {}) {
      const runId = opts.runId ?? randomUUID();
      const acts = activities(opts.config);
      const env = mockActivityEnv({ workflowExecution: { workflowId: 'instrument-sync', runId } });
      const force = opts.force ?? false;
      try {
        const file = await runActivity(env, acts.downloadInstruments, { runId, workflowId: 'instrument-sync', source, force, trigger: 'manual' as const });
        await runActivity(env, acts.stageInstruments, { runId, path: file.path, bytes: file.bytes, sha256: file.sha256 });
        return await runActivity(env, acts.applyInstrumentSync, { runId, force });
      } catch (err) {
        const type = err instanceof ApplicationFailure ? err.type : null;
        await acts.failInstrumentSync({ runId, status: type === 'GuardTripped' ? 'guard_tripped' : 'failed', message: (err as Error).message });
        throw err;
      } finally {
        await acts.cleanupInstrumentSync({ runId });
      }
    },
    query: <T extends Record<string, unknown>>(sql: string, params: (string | number | boolean | null)[] = []) => exec.query<T>(sql, params),
    async close() {
      await db.close();
      await pg.drop();
      await temp.cleanup();
    },
  };
}
