// Applies sql/mssql/NNN_name.sql in order, each once, in its own transaction, recorded in ref.schema_migrations.
import type sql from 'mssql';
import type { MigrationStatus } from '../types';
import { assertNotNewer, readMigrations } from '../migration-files';
import { rowsOf, runBatch, withTransaction } from './client';
import { migrationFromRow } from './rows';
import {
  ensureMigrationsTableSql, migrationAppliedSql, migrationLockSql, migrationsTableExistsSql, recordMigrationSql, selectMigrationsSql,
} from './sql';

/** Long enough for another starter to finish a migration, short of the request timeout. */
const LOCK_TIMEOUT_MS = 5 * 60 * 1000;

/** What the database has applied; empty before the bookkeeping table exists (nothing is created here). */
export async function appliedMigrations(pool: sql.ConnectionPool): Promise<MigrationStatus[]> {
  const [exists] = await rowsOf(pool, migrationsTableExistsSql);
  if (exists?.object_id === null || exists?.object_id === undefined) return [];
  return (await rowsOf(pool, selectMigrationsSql)).map(migrationFromRow);
}

/** Refuses to run against a schema a newer release migrated. */
export async function assertSchemaKnown(pool: sql.ConnectionPool, migrationsDir: string): Promise<void> {
  assertNotNewer((await appliedMigrations(pool)).map((m) => m.version), readMigrations(migrationsDir));
}

export async function migrationStatus(pool: sql.ConnectionPool, migrationsDir: string): Promise<MigrationStatus[]> {
  const known = readMigrations(migrationsDir);
  const applied = await appliedMigrations(pool);
  assertNotNewer(applied.map((m) => m.version), known);
  const at = new Map(applied.map((m) => [m.version, m.appliedAt]));
  return known.map((m) => ({ version: m.version, name: m.name, appliedAt: at.get(m.version) ?? null }));
}

async function lockMigrations(tx: sql.Transaction): Promise<void> {
  const [row] = await rowsOf(tx, migrationLockSql(LOCK_TIMEOUT_MS));
  // sp_getapplock: 0 granted, 1 granted after waiting, negative = timeout, deadlock or error.
  if (typeof row?.result !== 'number' || row.result < 0) {
    throw new Error(`could not take the migration lock (sp_getapplock returned ${String(row?.result)}); another refdata may be migrating, retry`);
  }
}

export async function migrate(pool: sql.ConnectionPool, migrationsDir: string): Promise<MigrationStatus[]> {
  const known = readMigrations(migrationsDir);
  // Under the lock so two starters do not both create the bookkeeping table.
  await withTransaction(pool, async (tx) => {
    await lockMigrations(tx);
    await runBatch(tx, ensureMigrationsTableSql);
  });
  assertNotNewer((await appliedMigrations(pool)).map((m) => m.version), known);
  for (const m of known) {
    await withTransaction(pool, async (tx) => {
      await lockMigrations(tx);
      if ((await rowsOf(tx, migrationAppliedSql(m.version))).length > 0) return;
      try {
        await runBatch(tx, m.sql);
      } catch (err) {
        throw new Error(`migration ${String(m.version).padStart(3, '0')}_${m.name} failed and was rolled back: ${(err as Error).message}`, { cause: err });
      }
      await rowsOf(tx, recordMigrationSql(m.version, m.name));
    });
  }
  return migrationStatus(pool, migrationsDir);
}
