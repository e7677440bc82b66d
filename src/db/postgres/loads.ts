// The PostgreSQL side of a load: staging tables, checkpointed batches (parsed rows or raw CSV), swap-in, undo.
import Papa from 'papaparse';
import type { BeginLoadInput, Checkpoint, CsvBatchFormat, Database, InvalidRecordInput, LoadPart, LoadRecord, TableRef } from '../types';
import { DataError, StagingLost } from '../types';
import { backupTableOf, shadowTableOf } from '../load-names';
import { revertRefusedByAppends, revertRefusedByFullload } from '../revert-refusals';
import type { PgExecutor, PgSession } from './executor';
import { LOAD_ID_COLUMN, addColumnSql, copyCsvSql, copyRawCsvSql, createStageSql, createTableSql, loadIdLiteral, qualified, quoteIdent, swapSql } from './sql';
import { loadFromRow } from './rows';
import { partsProblem } from '../load-parts';

type LoadMethods = Pick<
  Database,
  'beginLoad' | 'getLoad' | 'writeBatch' | 'copyCsvBatch' | 'finishLoad' | 'abortLoad' | 'revertLoad' | 'findLoadedByHash' | 'listLoads' | 'dropBackupsOlderThan'
>;

export function stageTableOf(target: TableRef, loadId: string): TableRef {
  const short = loadId.replace(/[^a-z0-9]/gi, '').slice(-8).toLowerCase();
  return { schema: target.schema, name: `${target.name.slice(0, 40)}__stage_${short}` };
}

export async function tableExists(s: PgSession, t: TableRef): Promise<boolean> {
  const rows = await s.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [t.schema, t.name]);
  return rows.length > 0;
}

async function columnNames(s: PgSession, t: TableRef): Promise<string[]> {
  const rows = await s.query<{ column_name: string }>(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [t.schema, t.name],
  );
  return rows.map((r) => r.column_name);
}

async function lockLoad(s: PgSession, loadId: string): Promise<LoadRecord> {
  const rows = await s.query('SELECT * FROM ref.loads WHERE load_id = $1 FOR UPDATE', [loadId]);
  if (rows.length === 0) throw new Error(`load ${loadId} does not exist`);
  return loadFromRow(rows[0]);
}

async function guardCheckpoint(s: PgSession, loadId: string, expected: Checkpoint): Promise<LoadRecord> {
  const load = await lockLoad(s, loadId);
  if (load.status !== 'loading') throw new Error(`load ${loadId} is ${load.status}, not loading`);
  // A load in byte ranges counts bytes over all of them: its checkpoint is no position in the file for one stream.
  if ((await s.query('SELECT 1 FROM ref.load_parts WHERE load_id = $1 LIMIT 1', [loadId])).length > 0) {
    throw new Error(`load ${loadId} is loading in parallel byte ranges; it cannot go on in one stream`);
  }
  if (load.rowsCommitted !== expected.rowsCommitted || load.rowsQuarantined !== (expected.rowsQuarantined ?? 0) || load.byteOffset !== expected.byteOffset) {
    throw new Error(
      `load ${loadId} checkpoint moved: expected ${expected.rowsCommitted} rows (${expected.rowsQuarantined ?? 0} quarantined) / byte ${expected.byteOffset}, ` +
        `found ${load.rowsCommitted} (${load.rowsQuarantined} quarantined) / ${load.byteOffset}`,
    );
  }
  return load;
}

async function advance(s: PgSession, loadId: string, next: Checkpoint): Promise<void> {
  await s.query('UPDATE ref.loads SET rows_committed = $2, byte_offset = $3, rows_quarantined = $4, batches = batches + 1 WHERE load_id = $1', [
    loadId, next.rowsCommitted, next.byteOffset, next.rowsQuarantined ?? 0,
  ]);
}

/** The byte ranges of a load loaded over parallel streams, in file order (none for a load in one stream). */
export async function partsOf(s: PgSession, loadId: string): Promise<LoadPart[]> {
  const rows = await s.query('SELECT * FROM ref.load_parts WHERE load_id = $1 ORDER BY range_start', [loadId]);
  return rows.map((r) => ({ part: Number(r.part), start: Number(r.range_start), end: Number(r.range_end), byteOffset: Number(r.byte_offset), rows: Number(r.rows_committed) }));
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity) come from the file's data, not from the system. */
export function toDataError(err: unknown): DataError | null {
  const e = err as { code?: string; message?: string; where?: string };
  if (typeof e?.code !== 'string' || !/^(22|23)/.test(e.code)) return null;
  const where = /line (\d+)(?:, column ([^:]+))?/.exec(e.where ?? '');
  return new DataError(e.message ?? 'data error', e.code, where ? Number(where[1]) : undefined, where?.[2]);
}

export async function insertInvalid(s: PgSession, records: InvalidRecordInput[]): Promise<void> {
  // Chunks keep each statement well under PostgreSQL's 65,535 parameters.
  for (let at = 0; at < records.length; at += 5000) {
    const params: (string | number | null)[] = [];
    const tuples = records.slice(at, at + 5000).map((r) => {
      const b = params.length;
      params.push(r.source, r.sourceRef, r.recordId, r.rowNumber, r.rawText, JSON.stringify(r.errors));
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6})`;
    });
    await s.query(`INSERT INTO ref.invalid_records (source, source_ref, record_id, row_number, raw_text, errors) VALUES ${tuples.join(', ')}`, params);
  }
}

/** A transaction lock on one table for one purpose (finishing, defining), released at commit or rollback. */
async function lockTable(s: PgSession, purpose: 'finish' | 'define', t: TableRef): Promise<void> {
  await s.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`refdata:${purpose}:${t.schema}.${t.name}`]);
}

async function holdsRows(s: PgSession, t: TableRef): Promise<boolean> {
  if (!(await tableExists(s, t))) return false;
  const [row] = await s.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${qualified(t)}) AS any`);
  return Boolean(row?.any);
}

/** Rows of the load in its staging table; null when the table is gone. */
async function stagedRows(s: PgSession, load: LoadRecord): Promise<number | null> {
  if (!(await tableExists(s, load.staging))) return null;
  // A load that wrote straight into its target (before stages) shares the table with other loads' rows.
  const own = load.staging.name === load.target.name ? ` WHERE ${quoteIdent(LOAD_ID_COLUMN)} = $1` : '';
  const [row] = await s.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(load.staging)}${own}`, own ? [load.loadId] : []);
  return Number(row.n);
}

async function createStaging(s: PgSession, mode: BeginLoadInput['mode'], staging: TableRef, input: BeginLoadInput): Promise<void> {
  await s.exec(`DROP TABLE IF EXISTS ${qualified(staging)}`);
  if (mode === 'fullload') {
    await s.exec(createTableSql(staging, input.columns, input.loadId));
  } else {
    // Rows wait in an unlogged stage and move in at finish, so readers never see half an append. Unlogged means
    // a database crash empties it: resumeFrom and finishLoad check for that.
    for (const stmt of createStageSql(staging, input.target, input.loadId)) await s.exec(stmt);
  }
}

/**
 * A retried ingest resumes from the checkpoint only if the staging table still holds what it counts. After a
 * database crash the unlogged append stage is empty while the logged checkpoint survived: resuming would lose
 * every batch before it. Then the load starts again from the file's first byte.
 */
async function resumeFrom(s: PgSession, load: LoadRecord, input: BeginLoadInput): Promise<LoadRecord & { restarted?: StagingLost }> {
  if (load.status !== 'loading') return load;
  const found = await stagedRows(s, load);
  if (found === load.rowsCommitted) return load;
  if (load.staging.name === load.target.name) {
    if (found !== null) await s.query(`DELETE FROM ${qualified(load.staging)} WHERE ${quoteIdent(LOAD_ID_COLUMN)} = $1`, [load.loadId]);
  } else {
    await createStaging(s, load.mode, load.staging, input);
  }
  await s.query(`DELETE FROM ref.invalid_records WHERE source = 'file' AND source_ref = $1`, [load.loadId]);
  await s.query('DELETE FROM ref.load_parts WHERE load_id = $1', [load.loadId]);
  const [row] = await s.query(
    'UPDATE ref.loads SET rows_committed = 0, rows_quarantined = 0, byte_offset = 0, batches = 0 WHERE load_id = $1 RETURNING *', [load.loadId],
  );
  return { ...loadFromRow(row), restarted: new StagingLost(load.loadId, load.rowsCommitted, found) };
}

/**
 * The loads of table $1.$2 whose rows the table holds now: the latest fullload still loaded and the appends
 * finished after it (or every loaded append, when no fullload is). Earlier loads were replaced by that fullload.
 */
const IN_EFFECT_SQL = `
  WITH loaded AS (SELECT * FROM ref.loads WHERE target_schema = $1 AND target_table = $2 AND status = 'loaded'),
       base AS (SELECT max(finished_at) AS at FROM loaded WHERE mode = 'fullload'),
       in_effect AS (SELECT loaded.* FROM loaded, base WHERE base.at IS NULL OR loaded.finished_at >= base.at)`;

/** The load in effect in table $1.$2 whose content has hash $3 (see Database.findLoadedByHash). */
function inEffectWithHashSql(mode: LoadRecord['mode']): string {
  return `${IN_EFFECT_SQL}
    SELECT * FROM in_effect WHERE file_hash = $3
       ${mode === 'fullload' ? `AND mode = 'fullload' AND (SELECT count(*) FROM in_effect) = 1` : ''}
     ORDER BY finished_at, load_id LIMIT 1`;
}

/** Loaded loads of `mode` into the same table that finished after `load`, newest first. */
async function loadsAfter(s: PgSession, load: LoadRecord, mode: LoadRecord['mode']): Promise<string[]> {
  const rows = await s.query<{ load_id: string }>(
    `SELECT load_id FROM ref.loads WHERE target_schema = $1 AND target_table = $2 AND mode = $4 AND status = 'loaded'
       AND load_id <> $3 AND finished_at > (SELECT finished_at FROM ref.loads WHERE load_id = $3)
     ORDER BY finished_at DESC, load_id DESC`,
    [load.target.schema, load.target.name, load.loadId, mode],
  );
  return rows.map((r) => String(r.load_id));
}

export function createPgLoads(exec: PgExecutor): LoadMethods {
  return {
    async beginLoad(input) {
      return exec.transaction(async (tx) => {
        const existing = await tx.query('SELECT * FROM ref.loads WHERE load_id = $1 FOR UPDATE', [input.loadId]);
        if (existing.length > 0) return resumeFrom(tx, loadFromRow(existing[0]), input);
        let staging: TableRef;
        if (input.mode === 'fullload') {
          staging = shadowTableOf(input.target, input.loadId);
          await createStaging(tx, 'fullload', staging, input);
        } else {
          // Appends that begin together on one target take turns defining it: two CREATE TABLEs (or ADD COLUMNs) of
          // the same name at once fail one of them on the catalog's unique index, which is no fault of the file.
          await lockTable(tx, 'define', input.target);
          const have = await columnNames(tx, input.target);
          if (have.length === 0) {
            await tx.exec(createTableSql(input.target, input.columns));
          } else {
            if (!have.includes(LOAD_ID_COLUMN)) await tx.exec(addColumnSql(input.target, { name: LOAD_ID_COLUMN, type: { kind: 'text' } }));
            for (const c of input.columns) if (!have.includes(c.name)) await tx.exec(addColumnSql(input.target, c));
          }
          staging = stageTableOf(input.target, input.loadId);
          await createStaging(tx, 'append', staging, input);
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

    async writeBatch(loadId, columns, rows, expected, next, invalid = []) {
      await exec.transaction(async (tx) => {
        const load = await guardCheckpoint(tx, loadId, expected);
        await insertInvalid(tx, invalid);
        if (rows.length > 0) {
          const csv = Papa.unparse(rows.map((r) => [...r, loadId]), { newline: '\n', header: false });
          await tx.copyFromCsv(copyCsvSql(load.staging, columns), `${csv}\n`);
        }
        await advance(tx, loadId, next);
      });
    },

    async copyCsvBatch(loadId, columns, csv, format: CsvBatchFormat, expected, next) {
      try {
        return await exec.transaction(async (tx) => {
          // Batch and checkpoint commit together, so a batch lost to a server crash is lost with its checkpoint
          // and simply loaded again: no need to wait for the WAL flush here (finishLoad still does).
          await tx.exec('SET LOCAL synchronous_commit = off');
          const load = await guardCheckpoint(tx, loadId, expected);
          const copied = await tx.copyFromCsv(copyRawCsvSql(load.staging, columns, format.delimiter, format.quote), csv);
          const to = typeof next === 'function' ? next() : next;
          if (copied !== to.rowsCommitted - expected.rowsCommitted) {
            throw new DataError(`COPY read ${copied} rows where ${to.rowsCommitted - expected.rowsCommitted} records were sent`, 'ROW_COUNT');
          }
          await advance(tx, loadId, to);
          return copied;
        });
      } catch (err) {
        throw toDataError(err) ?? err;
      }
    },

    async finishLoad(loadId, fileHash) {
      return exec.transaction(async (tx) => {
        const load = await lockLoad(tx, loadId);
        if (load.status === 'loaded') return load;
        if (load.status !== 'loading') throw new Error(`load ${loadId} is ${load.status} and cannot be finished`);
        // Two finishes into one table wait for each other here, so the duplicate check below sees the other's
        // commit: otherwise two identical files finishing together could both be made visible.
        await lockTable(tx, 'finish', load.target);
        if (fileHash) {
          const [earlier] = await tx.query(inEffectWithHashSql(load.mode), [load.target.schema, load.target.name, fileHash]);
          if (earlier && String(earlier.load_id) !== loadId) return { ...load, duplicateOf: String(earlier.load_id) };
        }
        // A crash between the last batch and here empties the unlogged stage (all of it: reset, never partly), so
        // "not empty" is proof enough and costs one row's read instead of a count.
        if (load.rowsCommitted > 0 && !(await holdsRows(tx, load.staging))) throw new StagingLost(loadId, load.rowsCommitted, (await tableExists(tx, load.staging)) ? 0 : null);
        // Loaded over parallel streams: only when every byte of the file is in exactly one committed range.
        const parts = await partsOf(tx, loadId);
        const gap = parts.length > 0 ? partsProblem(parts, load.rowsCommitted) : null;
        if (gap) throw new Error(`load ${loadId} cannot be finished: its committed byte ranges do not cover the file once (${gap})`);
        let backup: TableRef | null = null;
        if (load.mode === 'fullload') {
          const now = new Date((await tx.query<{ now: Date }>('SELECT now() AS now'))[0].now);
          backup = (await tableExists(tx, load.target)) ? backupTableOf(load.target, loadId, now) : null;
          for (const stmt of swapSql(load.target, load.staging, backup)) await tx.exec(stmt);
          await tx.exec(`ALTER TABLE ${qualified(load.target)} ALTER COLUMN ${quoteIdent(LOAD_ID_COLUMN)} DROP DEFAULT`);
        } else if (load.staging.name !== load.target.name) {
          await tx.exec(`INSERT INTO ${qualified(load.target)} SELECT * FROM ${qualified(load.staging)}`);
          await tx.exec(`DROP TABLE ${qualified(load.staging)}`);
        }
        const rows = await tx.query(
          `UPDATE ref.loads SET status = 'loaded', finished_at = now(), backup_schema = $2, backup_table = $3, file_hash = COALESCE($4, file_hash)
            WHERE load_id = $1 RETURNING *`,
          [loadId, backup?.schema ?? null, backup?.name ?? null, fileHash ?? null],
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
        if (load.staging.name !== load.target.name) {
          await tx.exec(`DROP TABLE IF EXISTS ${qualified(load.staging)}`);
        } else if (await tableExists(tx, load.staging)) {
          await tx.query(`DELETE FROM ${qualified(load.staging)} WHERE ${quoteIdent(LOAD_ID_COLUMN)} = $1`, [loadId]);
        }
        await tx.query(`DELETE FROM ref.invalid_records WHERE source = 'file' AND source_ref = $1`, [loadId]);
        await tx.query(`UPDATE ref.loads SET status = 'aborted', finished_at = now() WHERE load_id = $1`, [loadId]);
      });
    },

    async revertLoad(loadId) {
      return exec.transaction(async (tx) => {
        const load = await lockLoad(tx, loadId);
        if (load.status === 'reverted') return load;
        if (load.status !== 'loaded') throw new Error(`load ${loadId} is ${load.status}; only a loaded load can be reverted`);
        const [later] = await loadsAfter(tx, load, 'fullload');
        if (later) throw new Error(revertRefusedByFullload(load, later));
        if (load.mode === 'fullload') {
          const onTop = await loadsAfter(tx, load, 'append');
          if (onTop.length > 0) throw new Error(revertRefusedByAppends(load, onTop));
          const now = new Date((await tx.query<{ now: Date }>('SELECT now() AS now'))[0].now);
          const parked = backupTableOf(load.target, `rv${loadId}`, now);
          await tx.exec(`ALTER TABLE ${qualified(load.target)} RENAME TO ${quoteIdent(parked.name)}`);
          await tx.exec(`ALTER TABLE ${qualified({ schema: load.target.schema, name: parked.name })} SET SCHEMA bkp`);
          if (load.backup && (await tableExists(tx, load.backup))) {
            await tx.exec(`ALTER TABLE ${qualified(load.backup)} SET SCHEMA ${quoteIdent(load.target.schema)}`);
            await tx.exec(`ALTER TABLE ${qualified({ schema: load.target.schema, name: load.backup.name })} RENAME TO ${quoteIdent(load.target.name)}`);
          } else if (load.backup) {
            throw new Error(`the backup ${load.backup.schema}.${load.backup.name} of load ${loadId} no longer exists (retention removed it)`);
          }
        } else {
          await tx.query(`DELETE FROM ${qualified(load.target)} WHERE ${quoteIdent(LOAD_ID_COLUMN)} = $1`, [loadId]);
        }
        const rows = await tx.query(`UPDATE ref.loads SET status = 'reverted', finished_at = now() WHERE load_id = $1 RETURNING *`, [loadId]);
        return loadFromRow(rows[0]);
      });
    },

    async findLoadedByHash(target, fileHash, mode = 'append') {
      const rows = await exec.query(inEffectWithHashSql(mode), [target.schema, target.name, fileHash]);
      return rows[0] ? loadFromRow(rows[0]) : null;
    },

    async listLoads(filter) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (filter.table) where.push(`target_table = $${params.push(filter.table)}`);
      if (filter.status) where.push(`status = $${params.push(filter.status)}`);
      params.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
      const rows = await exec.query(
        `SELECT * FROM ref.loads ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map(loadFromRow);
    },

    async dropBackupsOlderThan(cutoff) {
      // Backup names end in __<yyyymmddhhmmss>_<id>; the catalog has no creation time for tables.
      const rows = await exec.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'bkp'`);
      const stampOf = (n: string) => /__(\d{14})_[a-z0-9]+$/.exec(n)?.[1];
      const cut = cutoff.toISOString().replace(/[-:T]/g, '').slice(0, 14);
      const old = rows.map((r) => r.table_name).filter((n) => (stampOf(n) ?? '99999999999999') < cut);
      for (const name of old) await exec.exec(`DROP TABLE IF EXISTS ${qualified({ schema: 'bkp', name })}`);
      return old;
    },
  };
}

export { loadIdLiteral };
