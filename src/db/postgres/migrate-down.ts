// `refdata migrate --down-to N` on PostgreSQL: each down file in its own transaction, its version forgotten in the same one.
import { readMigrations } from '../migration-files';
import { pad, rollbackPlan } from '../migrate-down';
import type { PgExecutor } from './executor';

/** The advisory lock migrate() takes (src/db/postgres/index.ts), so a rollback never interleaves with a migration. */
const MIGRATION_LOCK = 7233001;

export async function migrateDownPostgres(exec: PgExecutor, migrationsDir: string, target: number): Promise<void> {
  const exists = await exec.query(`SELECT to_regclass('ref.schema_migrations') IS NOT NULL AS present`);
  if (!exists[0]?.present) return;
  const applied = (await exec.query<{ version: number }>('SELECT version FROM ref.schema_migrations')).map((r) => Number(r.version));
  for (const step of rollbackPlan(applied, readMigrations(migrationsDir), target)) {
    await exec.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const still = await tx.query('SELECT 1 FROM ref.schema_migrations WHERE version = $1', [step.version]);
      if (still.length === 0) return;
      try {
        await tx.exec(step.downSql);
      } catch (err) {
        throw new Error(`rollback of migration ${pad(step.version)}_${step.name} failed and was undone: ${(err as Error).message}`, { cause: err });
      }
      await tx.query('DELETE FROM ref.schema_migrations WHERE version = $1', [step.version]);
    });
  }
}
