// The PostgreSQL dialect of the database port, over node-postgres (servers) or PGlite (embedded).
import path from 'node:path';
import Papa from 'papaparse';
import type {
  BeginLoadInput, Checkpoint, Database, LoadRecord, MigrationStatus, ReferenceConfigInput, TableColumn, TableRef,
  TrackingFilter, TrackingRecord, TrackingUpdate,
} from '../types';
import { assertNotNewer, migrationsRoot, readMigrations } from '../migration-files';
import { backupTableOf, shadowTableOf } from '../load-names';
import type { PgExecutor, PgSession, Row, SqlValue } from './executor';
import { LOAD_ID_COLUMN, addColumnSql, copyCsvSql, createTableSql, qualified, swapSql } from './sql';
import { trackingFromRow, trackingColumns, loadFromRow } from './rows';

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

  async function tableExists(s: PgSession, t: TableRef): Promise<boolean> {
    const rows = await s.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [t.schema, t.name]);
    return rows.length > 0;
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

  async function loadOrThrow(s: PgSession, loadId: string, lock = false): Promise<LoadRecord> {
    const rows = await s.query(`SELECT * FROM ref.loads WHERE load_id = $1${lock ? ' FOR UPDATE' : ''}`, [loadId]);
    if (rows.length === 0) throw new Error(`load ${loadId} does not exist`);
    return loadFromRow(rows[0]);
  }

  const db: Database = {
    kind,
    async migrate() {
      const known = readMigrations(migrationsDir);
      assertNotNewer([...(await appliedVersions(exec)).keys()], known);
      for (const m of known) {
        await exec.transaction(async (tx) => {
          if (kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
          const done = await tx.query('SELECT 1 FROM ref.schema_migrations WHERE version = $1', [m.version]);
          if (done.length > 0) return;
          await tx.exec(m.sql);
          await tx.query('INSERT INTO ref.schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        });
      }
      return status();
    },
    migrationStatus: status,
    async ping() {
      await exec.query('SELECT 1');
    },
    close: () => exec.close(),

    async upsertTracking(update: TrackingUpdate) {
      const cols: string[] = ['file_path'];
      const vals: SqlValue[] = [update.filePath];
      for (const [key, column] of Object.entries(trackingColumns)) {
        const v = (update as Record<string, unknown>)[key];
        if (v === undefined) continue;
        cols.push(column);
        vals.push(key === 'detectedHeaders' && v != null ? JSON.stringify(v) : (v as SqlValue));
      }
      if (!cols.includes('status')) {
        cols.push('status');
        vals.push('waiting');
      }
      const set = cols.filter((c) => c !== 'file_path' && (c !== 'status' || update.status !== undefined));
      const sql =
        `INSERT INTO ref.file_monitor_tracking (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) ` +
        `ON CONFLICT (file_path) DO UPDATE SET ${set.length ? set.map((c) => `${c} = EXCLUDED.${c}`).join(', ') : 'file_path = EXCLUDED.file_path'} RETURNING *`;
      const rows = await exec.query(sql, vals);
      return trackingFromRow(rows[0]);
    },
    async getTracking(id) {
      const rows = await exec.query('SELECT * FROM ref.file_monitor_tracking WHERE id = $1', [id]);
      return rows[0] ? trackingFromRow(rows[0]) : null;
    },
    async getTrackingByPath(filePath) {
      const rows = await exec.query('SELECT * FROM ref.file_monitor_tracking WHERE file_path = $1', [filePath]);
      return rows[0] ? trackingFromRow(rows[0]) : null;
    },
    async listTracking(filter: TrackingFilter) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.status) where.push(`status = $${params.push(filter.status)}`);
      if (filter.table) where.push(`table_name = $${params.push(filter.table)}`);
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

    async beginLoad(input: BeginLoadInput) {
      return exec.transaction(async (tx) => {
        const existing = await tx.query('SELECT * FROM ref.loads WHERE load_id = $1', [input.loadId]);
        if (existing.length > 0) return loadFromRow(existing[0]);
        const staging = input.mode === 'fullload' ? shadowTableOf(input.target, input.loadId) : input.target;
        if (input.mode === 'fullload') {
          await tx.exec(`DROP TABLE IF EXISTS ${qualified(staging)}`);
          await tx.exec(createTableSql(staging, input.columns));
        } else {
          const current = await describe(tx, input.target);
          if (current === null) {
            await tx.exec(createTableSql(input.target, input.columns));
          } else {
            const have = new Set(current.map((c) => c.name));
            if (!have.has(LOAD_ID_COLUMN)) await tx.exec(addColumnSql(input.target, { name: LOAD_ID_COLUMN, type: { kind: 'text' } }));
            for (const c of input.columns) if (!have.has(c.name)) await tx.exec(addColumnSql(input.target, c));
          }
        }
        const rows = await tx.query(
          `INSERT INTO ref.loads (load_id, target_schema, target_table, staging_schema, staging_table, mode, file_path, file_hash, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'loading') RETURNING *`,
          [input.loadId, input.target.schema, input.target.name, staging.schema, staging.name, input.mode, input.filePath, input.fileHash],
        );
        return loadFromRow(rows[0]);
      });
    },
    async getLoad(loadId) {
      const rows = await exec.query('SELECT * FROM ref.loads WHERE load_id = $1', [loadId]);
      return rows[0] ? loadFromRow(rows[0]) : null;
    },
    async writeBatch(loadId, columns, rows, expected: Checkpoint, next: Checkpoint) {
      await exec.transaction(async (tx) => {
        const load = await loadOrThrow(tx, loadId, true);
        if (load.status !== 'loading') throw new Error(`load ${loadId} is ${load.status}, not loading`);
        if (load.rowsCommitted !== expected.rowsCommitted || load.byteOffset !== expected.byteOffset) {
          throw new Error(
            `load ${loadId} checkpoint moved: expected ${expected.rowsCommitted} rows / byte ${expected.byteOffset}, found ${load.rowsCommitted} / ${load.byteOffset}`,
          );
        }
        if (rows.length > 0) {
          const csv = Papa.unparse(rows.map((r) => [...r, loadId]), { newline: '\n', header: false });
          await tx.copyFromCsv(copyCsvSql(load.staging, columns), `${csv}\n`);
        }
        await tx.query(
          'UPDATE ref.loads SET rows_committed = $2, byte_offset = $3, batches = batches + 1 WHERE load_id = $1',
          [loadId, next.rowsCommitted, next.byteOffset],
        );
      });
    },
    async finishLoad(loadId) {
      return exec.transaction(async (tx) => {
        const load = await loadOrThrow(tx, loadId, true);
        if (load.status === 'loaded') return load;
        if (load.status !== 'loading') throw new Error(`load ${loadId} is ${load.status} and cannot be finished`);
        let backup: TableRef | null = null;
        if (load.mode === 'fullload') {
          const now = new Date((await tx.query<{ now: Date }>('SELECT now() AS now'))[0].now);
          backup = (await tableExists(tx, load.target)) ? backupTableOf(load.target, loadId, now) : null;
          for (const stmt of swapSql(load.target, load.staging, backup)) await tx.exec(stmt);
        }
        const rows = await tx.query(
          `UPDATE ref.loads SET status = 'loaded', finished_at = now(), backup_schema = $2, backup_table = $3 WHERE load_id = $1 RETURNING *`,
          [loadId, backup?.schema ?? null, backup?.name ?? null],
        );
        return loadFromRow(rows[0]);
      });
    },
    async abortLoad(loadId) {
      await exec.transaction(async (tx) => {
        const rows = await tx.query('SELECT * FROM ref.loads WHERE load_id = $1 FOR UPDATE', [loadId]);
        if (rows.length === 0) return;
        const load = loadFromRow(rows[0]);
        if (load.status !== 'loading') return;
        if (load.mode === 'fullload') {
          await tx.exec(`DROP TABLE IF EXISTS ${qualified(load.staging)}`);
        } else if (await tableExists(tx, load.staging)) {
          await tx.query(`DELETE FROM ${qualified(load.staging)} WHERE ${LOAD_ID_COLUMN} = $1`, [loadId]);
        }
        await tx.query(`UPDATE ref.loads SET status = 'aborted', finished_at = now() WHERE load_id = $1`, [loadId]);
      });
    },

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
