// Starts the real system for a test file: database, Temporal client and worker on the run's dev server, watcher, API.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/types';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { SqlValue } from '../../src/db/postgres/executor';
import { connectTemporal, signalFileWorkflow } from '../../src/temporal/client';
import { startWorker, type RunningWorker } from '../../workers/worker';
import { ensureDropFolders, startWatcher } from '../../src/watcher';
import { buildApi } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log/logger';
import { createTestDatabase, queryRows } from '../support/pg';
import { openEmbeddedLikeDev } from '../support/embedded';
import { createMssqlTestDatabase } from '../support/mssql';
import { namespaceForTestFile } from '../support/namespaces';
import type { FileLifecycleResult, StabilityOptions } from '../../workflows/file-lifecycle';
import type { Config } from '../../src/config';
import type { DeliveryWiring } from '../../src/reporting/delivery-wiring';

export interface System {
  dropRoot: string;
  db: Database;
  /** URL of the test's own PostgreSQL (or, for 'mssql', SQL Server) database (the embedded server's on the embedded one), for asserting with plain SQL. */
  dbUrl: string | null;
  client: Client;
  namespace: string;
  api: FastifyInstance;
  adminKey: string;
  stability: StabilityOptions;
  /** Which database the system runs on. */
  database: 'postgres' | 'embedded' | 'mssql';
  /**
   * Rows of one SQL statement on the test's own database (PostgreSQL or SQL Server; not the embedded one). Parameters
   * ($1, $2, …) are for PostgreSQL only.
   */
  rows<T extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: SqlValue[]): Promise<T[]>;
  /** Starts a watcher over the drop root; tests that drive workflows themselves keep it off. */
  watch(): Promise<{ close(): Promise<void> }>;
  stop(): Promise<void>;
}

/** Namespace of a test file: created by the global setup, one per file, so workers never share a task queue. */
export const namespaceFor = namespaceForTestFile;

export async function startSystem(opts: {
  testFile: string;
  /** 'mssql': a database of its own on MSSQL_URL's server (Babelfish in the test run). */
  database: 'postgres' | 'embedded' | 'mssql';
  stability?: StabilityOptions;
  batchRows?: number;
  invalidRows?: Config['invalidRows'];
  /** Delivery channels and keys for the worker (tests script a sender instead of real peers). */
  delivery?: DeliveryWiring;
  /** The API's per-key limits (the API fuzzer sends thousands of requests from one address). */
  rateLimit?: { max: number; windowMs: number };
}): Promise<System> {
  const dropRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-drop-'));
  await ensureDropFolders(dropRoot);
  const log = silentLogger();
  let dropDb: () => Promise<void> = async () => undefined;
  let dbUrl: string | null = null;
  let db: Database;
  if (opts.database === 'postgres') {
    const tdb = await createTestDatabase(inject('pgUrl'));
    dropDb = tdb.drop;
    dbUrl = tdb.url;
    db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
  } else if (opts.database === 'mssql') {
    if (!process.env.MSSQL_URL) throw new Error('MSSQL_URL is not set; skip SQL Server suites without it');
    const tdb = await createMssqlTestDatabase(process.env.MSSQL_URL);
    dropDb = tdb.drop;
    dbUrl = tdb.url;
    const { createMssqlDatabase } = await import('../../src/db/mssql');
    db = await createMssqlDatabase(tdb.url);
  } else {
    // Its own embedded server under a temporary state dir, opened as `refdata dev` opens it.
    const embedded = await openEmbeddedLikeDev();
    db = embedded.db;
    dbUrl = embedded.url;
    dropDb = embedded.removeStateDir;
  }
  await db.migrate();
  const namespace = namespaceFor(opts.testFile);
  const address = inject('temporalAddress');
  const { connection, client }: { connection: Connection; client: Client } = await connectTemporal(address, namespace);
  const stability = opts.stability ?? { checks: 2, intervalMs: 100, maxWaitMs: 60_000 };
  const worker: RunningWorker = await startWorker({
    address, namespace, client, db, log,
    // Instrument files the tests sync lie in the drop root (INSTRUMENTS_FILE_DIR).
    config: { dropoffDir: dropRoot, batchRows: opts.batchRows ?? 1000, invalidRows: opts.invalidRows, progressIntervalMs: 50, instruments: { ...loadConfig({}).instruments, fileDir: dropRoot } },
    delivery: opts.delivery,
    workflowBundlePath: inject('workflowBundlePath') || undefined,
  });
  const watchers: Array<{ close(): Promise<void> }> = [];
  const adminKey = 'test-admin-key-0123456789';
  const api = await buildApi({ db, client, log, dropRoot, adminKey, rateLimit: opts.rateLimit });
  return {
    dropRoot, db, dbUrl, client, namespace, api, adminKey, stability, database: opts.database,
    async rows<T extends Record<string, unknown>>(text: string, params: SqlValue[] = []): Promise<T[]> {
      if (!dbUrl) throw new Error('the embedded database has no URL to query');
      if (opts.database === 'mssql') {
        if (params.length > 0) throw new Error('rows() takes parameters on PostgreSQL only');
        const { default: sql } = await import('mssql');
        const { parseMssqlUrl } = await import('../../src/db/mssql/url');
        const pool = await new sql.ConnectionPool(parseMssqlUrl(dbUrl)).connect();
        try {
          return ((await pool.request().query(text)).recordset ?? []) as T[];
        } finally {
          await pool.close();
        }
      }
      return queryRows<T>(dbUrl, text, params);
    },
    async watch() {
      const w = await startWatcher({ client, dropRoot, stability, log });
      watchers.push(w);
      return w;
    },
    async stop() {
      for (const w of watchers) await w.close();
      await api.close();
      await worker.shutdown();
      await connection.close();
      await db.close();
      await dropDb();
      await fs.rm(dropRoot, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** A deterministic instrument-style CSV with `rows` data rows. */
export function instrumentCsv(rows: number, opts: { delimiter?: string; header?: boolean } = {}): string {
  const d = opts.delimiter ?? ',';
  const lines = opts.header === false ? [] : [['instrument_key', 'symbol', 'lot_size', 'tick_size', 'expiry', 'active'].join(d)];
  for (let i = 1; i <= rows; i++) {
    lines.push([`NSE_EQ|INE${String(i).padStart(6, '0')}`, `SYM${i}`, String((i % 50) + 1), (0.05 * ((i % 4) + 1)).toFixed(2), `2025-${String((i % 12) + 1).padStart(2, '0')}-15`, i % 3 === 0 ? 'false' : 'true'].join(d));
  }
  return `${lines.join('\n')}\n`;
}

export async function listDir(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch(() => []);
}

/** Writes a file into a drop folder, runs its workflow at once (no stability wait), and returns its result or failure message. */
export async function dropAndRun(sys: System, folder: string, name: string, content: string | Buffer): Promise<{ result: FileLifecycleResult | null; error: string | null; file: string }> {
  const file = path.join(sys.dropRoot, folder, name);
  await fs.writeFile(file, content);
  const started = await signalFileWorkflow(sys.client, { dropRoot: sys.dropRoot, filePath: file, stability: sys.stability, skipStability: true });
  if (!('workflowId' in started)) throw new Error(started.ignored);
  try {
    return { result: (await sys.client.workflow.getHandle(started.workflowId).result()) as FileLifecycleResult, error: null, file };
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    return { result: null, error: cause?.message ?? (err as Error).message, file };
  }
}
