// `refdata migrate --down-to N` on SQL Server: each down file as one batch in its own transaction, under the migration lock.
import type sql from 'mssql';
import { readMigrations } from '../migration-files';
import { pad, rollbackPlan } from '../migrate-down';
import { rowsOf, runBatch, withTransaction } from './client';
import { appliedMigrations } from './migrations';
import { migrationAppliedSql, migrationLockSql } from './sql';
import { intParam, type Statement } from './statement';

/** The lock timeout migrate() uses. */
const LOCK_TIMEOUT_MS = 5 * 60 * 1000;

export function forgetMigrationSql(version: number): Statement {
  return { text: 'DELETE FROM ref.schema_migrations WHERE version = @version', params: { version: intParam(version) } };
}

export async function migrateDownMssql(pool: sql.ConnectionPool, migrationsDir: string, target: number): Promise<void> {
  const applied = (await appliedMigrations(pool)).map((m) => m.version);
  for (const step of rollbackPlan(applied, readMigrations(migrationsDir), target)) {
    await withTransaction(pool, async (tx) => {
      const [lock] = await rowsOf(tx, migrationLockSql(LOCK_TIMEOUT_MS));
      if (typeof lock?.result !== 'number' || lock.result < 0) {
        throw new Error(`could not take the migration lock (sp_getapplock returned ${String(lock?.result)}); another refdata may be migrating, retry`);
      }
      if ((await rowsOf(tx, migrationAppliedSql(step.version))).length === 0) return;
      try {
        await runBatch(tx, step.downSql);
      } catch (err) {
        throw new Error(`rollback of migration ${pad(step.version)}_${step.name} failed and was undone: ${(err as Error).message}`, { cause: err });
      }
      await rowsOf(tx, forgetMigrationSql(step.version));
    });
  }
}
