// The SQL Server dialect of the database port, over the mssql package (tedious): pool, transactions, TDS bulk load.
import path from 'node:path';
import sql from 'mssql';
import type { Database, TableRef } from '../types';
import { migrationsRoot } from '../migration-files';
import { rowsOf, run, withTransaction } from './client';
import * as loads from './loads';
import { assertSchemaKnown, migrate, migrationStatus } from './migrations';
import { trackingFromRow } from './rows';
import { createMssqlInstrumentStore } from './instruments';
import { createMssqlDistributionStore } from './distribution';
import { createMssqlOutboxStore } from './outbox';
import { createMssqlCatalogStore } from './catalog-store';
import { createMssqlFailureStore } from './failures';
import { createMssqlChartStore } from './charts';
import { createMssqlDistributionRunStore } from './distribution-runs';
import { createMssqlRetentionStore } from './retention';
import { createMssqlNotificationStore } from './notifications';
import { migrateDownMssql } from './migrate-down';
import {
  countRowsSql, deleteTrackingSql, dropTableIfExistsSql, insertInvalidRecordsSql, listTrackingSql, selectTrackingSql, tablesWithPrefixSql, upsertReferenceConfigSql,
  upsertTrackingSql,
} from './sql';
import { parseMssqlUrl } from './url';

export interface MssqlOptions {
  migrationsDir?: string;
  /** Errors the pool raises outside any request (a dropped idle connection); requests report their own. */
  onPoolError?: (err: Error) => void;
}

async function openPool(url: string, onPoolError?: (err: Error) => void): Promise<sql.ConnectionPool> {
  const config = parseMssqlUrl(url);
  const pool = new sql.ConnectionPool(config);
  // An 'error' event with no listener would crash the process.
  pool.on('error', (err: Error) => onPoolError?.(err));
  try {
    await pool.connect();
  } catch (err) {
    const where = `${config.server}:${config.port ?? config.options?.instanceName ?? ''}/${config.database ?? ''}`;
    throw new Error(`could not connect to SQL Server at ${where}: ${(err as Error).message}`, { cause: err });
  }
  return pool;
}

export async function createMssqlDatabase(url: string, opts: MssqlOptions = {}): Promise<Database> {
  const migrationsDir = opts.migrationsDir ?? path.join(migrationsRoot, 'mssql');
  const pool = await openPool(url, opts.onPoolError);
  try {
    await assertSchemaKnown(pool, migrationsDir);
  } catch (err) {
    await pool.close();
    throw err;
  }

  const tracking = async (stmt: Parameters<typeof rowsOf>[1]) => {
    const [row] = await rowsOf(pool, stmt);
    return row ? trackingFromRow(row) : null;
  };

  return {
    kind: 'mssql',
    instruments: createMssqlInstrumentStore(pool),
    distribution: createMssqlDistributionStore(pool),
    outbox: createMssqlOutboxStore(pool),
    catalog: createMssqlCatalogStore(pool),
    failures: createMssqlFailureStore(pool),
    charts: createMssqlChartStore(pool),
    distributionRuns: createMssqlDistributionRunStore(pool),
    retention: createMssqlRetentionStore(pool),
    notifications: createMssqlNotificationStore(pool),
    migrate: () => migrate(pool, migrationsDir),
    migrationStatus: () => migrationStatus(pool, migrationsDir),
    async migrateDown(version) {
      await migrateDownMssql(pool, migrationsDir, version);
      return migrationStatus(pool, migrationsDir);
    },
    async ping() {
      await run(pool, 'SELECT 1 AS ok');
    },
    close: () => pool.close(),

    async upsertTracking(update) {
      const row = await tracking(upsertTrackingSql(update));
      if (!row) throw new Error(`tracking upsert for ${update.filePath} returned no row`);
      return row;
    },
    getTracking: (id) => tracking(selectTrackingSql({ id })),
    getTrackingByPath: (filePath) => tracking(selectTrackingSql({ filePath })),
    async listTracking(filter) {
      return (await rowsOf(pool, listTrackingSql(filter))).map(trackingFromRow);
    },
    async deleteTracking(filePath) {
      await run(pool, deleteTrackingSql(filePath));
    },

    describeTable: (table) => loads.describeTable(pool, table),
    async countRows(table) {
      const [row] = await rowsOf(pool, countRowsSql(table));
      return Number(row?.row_count);
    },

    beginLoad: (input) => withTransaction(pool, (tx) => loads.beginLoad(tx, input)),
    getLoad: (loadId) => loads.getLoad(pool, loadId),
    writeBatch: (loadId, columns, rows, expected, next, invalid) =>
      withTransaction(pool, (tx) => loads.writeBatch(tx, loadId, columns, rows, expected, next, invalid)),
    finishLoad: (loadId, fileHash) => withTransaction(pool, (tx) => loads.finishLoad(tx, loadId, fileHash)),
    abortLoad: (loadId) => withTransaction(pool, (tx) => loads.abortLoad(tx, loadId)),
    revertLoad: (loadId) => withTransaction(pool, (tx) => loads.revertLoad(tx, loadId)),
    findLoadedByHash: (target, fileHash, mode) => loads.findLoadedByHash(pool, target, fileHash, mode),
    listLoads: (filter) => loads.listLoads(pool, filter),
    dropBackupsOlderThan: (cutoff) => loads.dropBackupsOlderThan(pool, cutoff),

    async insertInvalidRecords(records) {
      const statements = insertInvalidRecordsSql(records);
      if (statements.length === 0) return;
      // All chunks or none: a retried activity then writes the records once.
      await withTransaction(pool, async (tx) => {
        for (const stmt of statements) await run(tx, stmt);
      });
    },

    async upsertReferenceConfig(input) {
      await run(pool, upsertReferenceConfigSql(input));
    },
  };
}

/** Drops every table in `schemas` whose name starts with `prefix` (test clean-up; the port has no such intention). */
export async function dropTablesWithPrefix(url: string, prefix: string, schemas = ['data', 'ref', 'bkp']): Promise<TableRef[]> {
  const pool = await openPool(url);
  try {
    const found = (await rowsOf(pool, tablesWithPrefixSql(schemas, prefix))).map((r) => ({ schema: String(r.schema_name), name: String(r.table_name) }));
    for (const table of found) await run(pool, dropTableIfExistsSql(table));
    return found;
  } finally {
    await pool.close();
  }
}

export interface MssqlContractTarget {
  name: 'mssql';
  /** True when MSSQL_URL is unset: SQL Server is optional on a developer machine. */
  skip: boolean;
  /** A migrated database; cleanup drops the tables named `<tablePrefix>…` (data, ref, bkp) and closes it. */
  open(tablePrefix?: string): Promise<{ db: Database; cleanup(): Promise<void> }>;
}

/** How the integration contract suite runs against SQL Server when `MSSQL_URL` is set. */
export function mssqlContractTarget(env: NodeJS.ProcessEnv = process.env): MssqlContractTarget {
  const url = env.MSSQL_URL;
  return {
    name: 'mssql',
    skip: !url,
    async open(tablePrefix) {
      if (!url) throw new Error('MSSQL_URL is not set');
      const db = await createMssqlDatabase(url);
      await db.migrate();
      return {
        db,
        async cleanup() {
          await db.close();
          if (tablePrefix) await dropTablesWithPrefix(url, tablePrefix);
        },
      };
    },
  };
}

export { parseMssqlUrl } from './url';
