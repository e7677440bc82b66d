// The PostgreSQL dialect of the database port, over node-postgres (an external server or the embedded one).
import path from 'node:path';
import type {
  Database, MigrationStatus, ReferenceConfigInput, TableColumn, TableRef, TrackingFilter, TrackingUpdate,
} from '../types';
import { assertNotNewer, migrationsRoot, readMigrations } from '../migration-files';
import type { PgExecutor, PgSession, Row, SqlValue } from './executor';
import { qualified } from './sql';
import { createPgLoads, insertInvalid, tableExists } from './loads';
import { createPgLoadParts } from './load-parts';
import { trackingFromRow, trackingColumns } from './rows';
import { createPostgresInstrumentStore } from './instruments';
import { createPostgresDistributionStore } from './distribution';
import { createPostgresOutboxStore } from './outbox';
import { createPostgresCatalogStore } from './catalog';
import { createPostgresFailureStore } from './failures';
import { createPostgresChartStore } from './charts';
import { createPostgresDistributionRunStore } from './distribution-runs';
import { createPostgresRetentionStore } from './retention';
import { createPostgresNotificationStore } from './notifications';
import { migrateDownPostgres } from './migrate-down';

const MIGRATION_LOCK = 7233001;

export function createPostgresDatabase(
  exec: PgExecutor,
  kind: 'postgres' | 'embedded',
  opts: { migrationsDir?: string } = {},
): Database {
  const migrationsDir = opts.migrationsDir ?? path.join(migrationsRoot, 'postgres');

  async function appliedVersions(s: PgSession): Promise<Map<number, Date>> {
    await s.exec(
      `CREATE SCHEMA IF NOT EXISTS ref;
       CREATE TABLE IF NOT EXISTS ref.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const rows = await s.query<{ version: number; applied_at: Date }>('SELECT version, applied_at FROM ref.schema_migrations');
    return new Map(rows.map((r) => [Number(r.version), new Date(r.applied_at)]));
  }

  async function status(): Promise<MigrationStatus[]> {
    const known = readMigrations(migrationsDir);
    const applied = await appliedVersions(exec);
    assertNotNewer([...applied.keys()], known);
    return known.map((m) => ({ version: m.version, name: m.name, appliedAt: applied.get(m.version) ?? null }));
  }

  async function describe(s: PgSession, t: TableRef): Promise<TableColumn[] | null> {
    const rows = await s.query<{ column_name: string; data_type: string; is_nullable: string; numeric_precision: number | null; numeric_scale: number | null }>(
      `SELECT column_name, data_type, is_nullable, numeric_precision, numeric_scale
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [t.schema, t.name],
    );
    if (rows.length === 0) return (await tableExists(s, t)) ? [] : null;
    return rows.map((r) => ({
      name: r.column_name,
      dataType: r.data_type === 'numeric' && r.numeric_precision != null ? `numeric(${r.numeric_precision},${r.numeric_scale})` : r.data_type,
      nullable: r.is_nullable === 'YES',
    }));
  }

  const db: Database = {
    kind,
    instruments: createPostgresInstrumentStore(exec),
    distribution: createPostgresDistributionStore(exec),
    outbox: createPostgresOutboxStore(exec),
    catalog: createPostgresCatalogStore(exec),
    failures: createPostgresFailureStore(exec),
    charts: createPostgresChartStore(exec),
    distributionRuns: createPostgresDistributionRunStore(exec),
    retention: createPostgresRetentionStore(exec),
    notifications: createPostgresNotificationStore(exec),
    async migrate() {
      const known = readMigrations(migrationsDir);
      assertNotNewer([...(await appliedVersions(exec)).keys()], known);
      for (const m of known) {
        await exec.transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
          const done = await tx.query('SELECT 1 FROM ref.schema_migrations WHERE version = $1', [m.version]);
          if (done.length > 0) return;
          await tx.exec(m.sql);
          await tx.query('INSERT INTO ref.schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        });
      }
      return status();
    },
    migrationStatus: status,
    async migrateDown(version) {
      await migrateDownPostgres(exec, migrationsDir, version);
      return status();
    },
    async ping() {
      await exec.query('SELECT 1');
    },
    close: () => exec.close(),

    async upsertTracking(update: TrackingUpdate) {
      const cols: string[] = [];
      const vals: SqlValue[] = [update.filePath];
      for (const [key, column] of Object.entries(trackingColumns)) {
        const v = (update as Record<string, unknown>)[key];
        if (v === undefined) continue;
        cols.push(column);
        vals.push(key === 'detectedHeaders' && v != null ? JSON.stringify(v) : (v as SqlValue));
      }
      const set = cols.filter((c) => c !== 'run_id').map((c) => `${c} = $${cols.indexOf(c) + 2}`);
      const insertCols = ['file_path', ...cols, ...(cols.includes('status') ? [] : ['status'])];
      const insertVals = [...vals, ...(cols.includes('status') ? [] : ['waiting'])];
      const insert = `INSERT INTO ref.file_monitor_tracking (${insertCols.join(', ')}) VALUES (${insertCols.map((_, i) => `$${i + 1}`).join(', ')})`;
      if (update.runId) {
        // A run writes its own row: the first write of a new drop adds one, a retried claim finds it again.
        const rows = await exec.query(
          `${insert} ON CONFLICT (run_id) WHERE run_id IS NOT NULL DO UPDATE SET ${['file_path = EXCLUDED.file_path', ...cols.filter((c) => c !== 'run_id').map((c) => `${c} = EXCLUDED.${c}`)].join(', ')} RETURNING *`,
          insertVals,
        );
        return trackingFromRow(rows[0]);
      }
      const updated = await exec.query(
        `UPDATE ref.file_monitor_tracking SET ${set.length ? set.join(', ') : 'file_path = file_path'}
          WHERE id = (SELECT max(id) FROM ref.file_monitor_tracking WHERE file_path = $1) RETURNING *`,
        vals,
      );
      if (updated[0]) return trackingFromRow(updated[0]);
      return trackingFromRow((await exec.query(`${insert} RETURNING *`, insertVals))[0]);
    },
    async getTracking(id) {
      const rows = await exec.query('SELECT * FROM ref.file_monitor_tracking WHERE id = $1', [id]);
      return rows[0] ? trackingFromRow(rows[0]) : null;
    },
    async getTrackingByPath(filePath) {
      const rows = await exec.query('SELECT * FROM ref.file_monitor_tracking WHERE file_path = $1 ORDER BY id DESC LIMIT 1', [filePath]);
      return rows[0] ? trackingFromRow(rows[0]) : null;
    },
    async listTracking(filter: TrackingFilter) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.status) where.push(`status = $${params.push(filter.status)}`);
      if (filter.table) where.push(`table_name = $${params.push(filter.table)}`);
      if (filter.latestPerPath) where.push('id IN (SELECT max(id) FROM ref.file_monitor_tracking GROUP BY file_path)');
      params.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
      const rows = await exec.query(
        `SELECT * FROM ref.file_monitor_tracking ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map(trackingFromRow);
    },
    async deleteTracking(filePath) {
      await exec.query('DELETE FROM ref.file_monitor_tracking WHERE file_path = $1', [filePath]);
    },

    describeTable: (t) => describe(exec, t),
    async countRows(t) {
      const rows = await exec.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(t)}`);
      return Number(rows[0].n);
    },

    ...createPgLoads(exec),
    ...createPgLoadParts(exec),

    insertInvalidRecords: (records) => insertInvalid(exec, records),

    async upsertReferenceConfig(input: ReferenceConfigInput) {
      await exec.query(
        `INSERT INTO ref.reference_data_cfg (schema_name, table_name, source_file, load_type, key_column)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (schema_name, table_name) DO UPDATE SET source_file = EXCLUDED.source_file, load_type = EXCLUDED.load_type,
           key_column = COALESCE(EXCLUDED.key_column, ref.reference_data_cfg.key_column), is_active = true, updated_at = now()`,
        [input.table.schema, input.table.name, input.sourceFile, input.loadType, input.keyColumn ?? null],
      );
    },
  };
  return db;
}

export type { Row };
