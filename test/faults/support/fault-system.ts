// The whole system for the fault matrix, every piece of it breakable: a private PostgreSQL (immediate stop, refusing
// connections), a Temporal dev server of its own (SIGKILL, restart on its database file), a worker process (SIGKILL,
// replaced), the watcher and the API in this process, drop folders in a temporary directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { CancelledFailure, ApplicationFailure, WorkflowFailedError, type Client, type Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createPostgresDatabase } from '../../../src/db/postgres';
import { createNodePgExecutor } from '../../../src/db/postgres/node-pg';
import type { Database } from '../../../src/db/types';
import { connectTemporal } from '../../../src/temporal/client';
import { ensureDropFolders, startWatcher } from '../../../src/watcher';
import { buildApi } from '../../../src/api/server';
import { silentLogger } from '../../../src/log/logger';
import { fileWorkflowId } from '../../../src/ids';
import type { FileLifecycleResult, StabilityOptions } from '../../../workflows/file-lifecycle';
import { startPrivatePostgres, type PrivatePostgres } from '../../support/private-pg';
import { startKillableTemporal, type KillableTemporal } from './temporal-server';

/** Rows per committed batch: a cell's file of a few thousand rows takes several batches. */
export const BATCH_ROWS = 400;
/** The watcher's stability wait: long enough (≥ 2 s) for a test to act while a file is in it. */
export const STABILITY: StabilityOptions = { checks: 2, intervalMs: 1_000, maxWaitMs: 120_000 };

export type OutcomeStatus = FileLifecycleResult['status'] | 'stranded';

/** What Temporal says became of one run of a file's workflow. */
export interface Outcome {
  status: OutcomeStatus;
  runId: string | null;
  rows: number;
  loadId: string | null;
  archivedTo: string | null;
  errorType: string | null;
  message: string | null;
  /** What the run said beside its status (a file changed after its load committed, left as a new drop). */
  note?: string | null;
}

export interface FaultSystem {
  dir: string;
  dropRoot: string;
  holdDir: string;
  pg: PrivatePostgres;
  temporal: KillableTemporal;
  db: Database;
  client: Client;
  api: FastifyInstance;
  adminKey: string;
  /** One query on a fresh connection (survives the server's restarts). */
  sql<R>(text: string, params?: unknown[]): Promise<R[]>;
  /** Starts a worker process; resolves when it polls. */
  startWorker(): Promise<void>;
  /** SIGKILL of the current worker process. */
  killWorker(): Promise<void>;
  /** Moves a file in (written beside the drop root first, as an upload that is complete when it appears). */
  drop(relativePath: string, content: string): Promise<string>;
  /** The run of the file's workflow started at or after `since` (or the run given), followed to its end. */
  outcomeOf(relativePath: string, since: number, timeoutMs?: number, knownRunId?: string): Promise<Outcome>;
  /** The id of the file's latest run, once one started at or after `since`. */
  runOf(relativePath: string, since: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startFaultSystem(opts: { workflowBundlePath: string }): Promise<FaultSystem> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-faults-'));
  const dropRoot = path.join(dir, 'dropoff');
  const holdDir = path.join(dir, 'holds');
  const staging = path.join(dir, 'staging');
  await Promise.all([ensureDropFolders(dropRoot), fs.mkdir(holdDir), fs.mkdir(staging)]);
  const [pg, temporal] = await Promise.all([startPrivatePostgres(), startKillableTemporal(dir)]);
  const db = createPostgresDatabase(createNodePgExecutor(pg.url), 'postgres');
  await db.migrate();
  const { connection, client }: { connection: Connection; client: Client } = await connectTemporal(temporal.address, 'default');
  const log = silentLogger();
  const watcher = await startWatcher({ client, dropRoot, stability: STABILITY, log });
  const adminKey = 'fault-matrix-admin-key-0123456789';
  const api = await buildApi({ db, client, log, dropRoot, adminKey });

  let worker: ChildProcess | null = null;
  const workers: ChildProcess[] = [];

  // A few at a time: the cells check side by side, and the private server has 50 connections for everyone.
  const sqlSlots = limiter(6);
  const sql = <R>(text: string, params: unknown[] = []): Promise<R[]> => sqlSlots(async () => {
    const c = new PgClient({ connectionString: pg.url, connectionTimeoutMillis: 5_000 });
    c.on('error', () => undefined); // a server stopped by the test ends the connection; the query says so
    await c.connect();
    try {
      return (await c.query(text, params)).rows as R[];
    } finally {
      await c.end().catch(() => undefined);
    }
  });

  const startWorker = async (): Promise<void> => {
    const workerLog = openSync(path.join(dir, 'worker.log'), 'a');
    // setpriv: the worker dies with this process, even when the test run itself is killed.
    const child = spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', process.execPath, '-r', 'tsx/cjs', path.join(__dirname, 'fault-worker.ts')], {
      env: {
        ...process.env,
        DATABASE_URL: pg.url,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: 'default',
        REFDATA_DROPOFF_DIR: dropRoot,
        REFDATA_STATE_DIR: path.join(dir, 'state'),
        REFDATA_BATCH_ROWS: String(BATCH_ROWS),
        REFDATA_PROGRESS_INTERVAL_MS: '50',
        REFDATA_WORKFLOW_BUNDLE: opts.workflowBundlePath,
        WORKER_QUEUES: 'ingest',
        FAULT_HOLD_DIR: holdDir,
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
      },
      // Its warnings (each retried activity) go to a file beside the servers' logs, not into the test output.
      stdio: ['ignore', 'pipe', workerLog],
    });
    closeSync(workerLog); // the child has its own copy
    workers.push(child);
    worker = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('worker ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the worker exited before it was ready (code ${code})`)));
    });
    child.stdout?.resume();
  };

  const killWorker = async (): Promise<void> => {
    const child = worker;
    worker = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };

  const drop = async (relativePath: string, content: string): Promise<string> => {
    const target = path.join(dropRoot, relativePath);
    const tmp = path.join(staging, `${path.basename(relativePath)}.${process.hrtime.bigint()}`);
    await fs.writeFile(tmp, content);
    await fs.rename(tmp, target);
    return target;
  };

  const outcomeOf = async (relativePath: string, since: number, timeoutMs = 120_000, knownRunId?: string): Promise<Outcome> => {
    const workflowId = fileWorkflowId(relativePath);
    const deadline = Date.now() + timeoutMs;
    let runId: string | null = knownRunId ?? null;
    for (;;) {
      if (Date.now() > deadline) {
        if (!runId) return { status: 'stranded', runId: null, rows: 0, loadId: null, archivedTo: null, errorType: null, message: 'no workflow ran for the file' };
        throw new Error(`the run ${runId} of ${workflowId} did not finish within ${timeoutMs / 1000} s`);
      }
      try {
        if (!runId) {
          const desc = await client.workflow.getHandle(workflowId).describe();
          // A run started before this drop (a finished earlier one) is not this drop's run.
          if (desc.startTime.getTime() < since - 1_000) throw new Error('only an earlier run');
          runId = desc.runId;
        }
        const result = (await client.workflow.getHandle(workflowId, runId).result()) as FileLifecycleResult;
        return { status: result.status, runId, rows: result.rows, loadId: result.loadId, archivedTo: result.archivedTo, errorType: null, message: null, note: result.note ?? null };
      } catch (err) {
        if (err instanceof WorkflowFailedError) {
          const cause = err.cause;
          if (cause instanceof CancelledFailure) return { status: 'cancelled', runId, rows: 0, loadId: null, archivedTo: null, errorType: 'Cancelled', message: cause.message };
          const type = cause instanceof ApplicationFailure ? (cause.type ?? null) : null;
          return { status: 'error', runId, rows: 0, loadId: null, archivedTo: null, errorType: type, message: cause?.message ?? err.message };
        }
        // Not found yet, or the server is away (a fault of this very test): ask again.
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };

  const runOf = async (relativePath: string, since: number): Promise<string> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const desc = await client.workflow.getHandle(fileWorkflowId(relativePath)).describe().catch(() => null);
      if (desc && desc.startTime.getTime() >= since - 1_000) return desc.runId;
      if (Date.now() > deadline) throw new Error(`no run of ${relativePath} started`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  return {
    dir, dropRoot, holdDir, pg, temporal, db, client, api, adminKey, sql, startWorker, killWorker, drop, outcomeOf, runOf,
    async stop() {
      for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
      await pg.stop().catch(() => undefined);
      await temporal.stop().catch(() => undefined);
      await watcher.close().catch(() => undefined);
      await api.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await db.close().catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs at most `n` of the given tasks at once. */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}
