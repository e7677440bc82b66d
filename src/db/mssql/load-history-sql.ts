// T-SQL for finished loads: the revert swap and its guard, duplicate lookup, listing, and backup retention.
import type { LoadRecord, TableRef } from '../types';
import { LOAD_COLUMNS, qualified, quoteIdent } from './sql';
import { intParam as int, textParam as text, type Statement } from './statement';

/** The schema `backupTableOf` names every backup (and every parked, reverted table) in. */
export const BACKUP_SCHEMA = 'bkp';

/**
 * Undoes a fullload's swap: parks the live target in the backup schema as `parked` (sp_rename in place, then
 * ALTER SCHEMA TRANSFER), then transfers `backup` into the target's schema and renames it to the target's name.
 * `parked` is null when the live table is gone, `backup` when the load created the table. Run it inside one
 * transaction, as with `swapSql`: readers see the reverted load's table or the restored one, never neither.
 */
export function revertSwapSql(target: TableRef, parked: TableRef | null, backup: TableRef | null): Statement {
  if (!parked && !backup) throw new Error(`nothing to swap for ${target.schema}.${target.name}: no live table and no backup`);
  const lines: string[] = [];
  const params: Statement['params'] = {};
  if (parked) {
    if (parked.schema === target.schema) throw new Error('the parked table must go to another schema than the target');
    lines.push(
      `EXEC sp_rename @objname = @target_path, @newname = @parked_name, @objtype = N'OBJECT';`,
      `ALTER SCHEMA ${quoteIdent(parked.schema)} TRANSFER ${qualified({ schema: target.schema, name: parked.name })};`,
    );
    params.target_path = text(qualified(target));
    params.parked_name = text(parked.name);
  }
  if (backup) {
    if (backup.schema === target.schema) throw new Error('the backup must be in another schema than the target');
    lines.push(
      `ALTER SCHEMA ${quoteIdent(target.schema)} TRANSFER ${qualified(backup)};`,
      `EXEC sp_rename @objname = @restored_path, @newname = @target_name, @objtype = N'OBJECT';`,
    );
    params.restored_path = text(qualified({ schema: target.schema, name: backup.name }));
    params.target_name = text(target.name);
  }
  return { text: lines.join('\n'), params };
}

/**
 * Loaded loads of `mode` into the same table that finished after this one, newest first. A later fullload: reverting
 * this one would undo it too (fullload) or change nothing live (append). Appends after a fullload: their rows would
 * leave with it. Swap order is finish order, so finished_at decides; compared in SQL, at the column's full precision.
 */
export function loadsAfterSql(loadId: string, mode: LoadRecord['mode']): Statement {
  return {
    text:
      'SELECT l.load_id FROM ref.loads l JOIN ref.loads r ON r.load_id = @load_id\n' +
      "WHERE l.target_schema = r.target_schema AND l.target_table = r.target_table AND l.mode = @mode AND l.status = N'loaded'\n" +
      '  AND l.load_id <> r.load_id AND l.finished_at > r.finished_at\n' +
      'ORDER BY l.finished_at DESC, l.load_id DESC',
    params: { load_id: text(loadId), mode: text(mode) },
  };
}

/** A fullload of the same table loaded and swapped in after this one (see loadsAfterSql). */
export function laterFullloadSql(loadId: string): Statement {
  return loadsAfterSql(loadId, 'fullload');
}

export function revertLoadRecordSql(loadId: string): Statement {
  return {
    text: "UPDATE ref.loads SET status = N'reverted', finished_at = SYSUTCDATETIME() WHERE load_id = @load_id AND status = N'loaded'",
    params: { load_id: text(loadId) },
  };
}

/**
 * The load a file with this hash would duplicate, among the loads still in effect: the latest fullload still
 * loaded and the appends finished after it (see Database.findLoadedByHash). A fullload duplicates only when that
 * fullload is the one load in effect.
 */
export function findLoadedByHashSql(target: TableRef, fileHash: string, mode: LoadRecord['mode'] = 'append'): Statement {
  return {
    text:
      "WITH loaded AS (SELECT * FROM ref.loads WHERE target_schema = @target_schema AND target_table = @target_table AND status = N'loaded'),\n" +
      "  base AS (SELECT MAX(finished_at) AS at FROM loaded WHERE mode = N'fullload'),\n" +
      '  in_effect AS (SELECT l.* FROM loaded l CROSS JOIN base b WHERE b.at IS NULL OR l.finished_at >= b.at)\n' +
      `SELECT TOP (1) ${LOAD_COLUMNS} FROM in_effect\n` +
      'WHERE file_hash = @file_hash' +
      (mode === 'fullload' ? " AND mode = N'fullload' AND (SELECT COUNT(*) FROM in_effect) = 1" : '') +
      '\nORDER BY finished_at, load_id',
    params: { target_schema: text(target.schema), target_table: text(target.name), file_hash: text(fileHash) },
  };
}

/** An application lock owned by the transaction, one per target table: finishes into one table never interleave. */
export function finishLockSql(target: TableRef): Statement {
  return {
    text: "DECLARE @result int;\nEXEC @result = sp_getapplock @Resource = @resource, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = @timeout_ms;\nSELECT @result AS result",
    // sp_getapplock resource names are at most 255 characters; table names are far shorter.
    params: { resource: text(`refdata:finish:${target.schema}.${target.name}`.toLowerCase()), timeout_ms: int(5 * 60 * 1000) },
  };
}

export const DEFAULT_LOADS_LIMIT = 100;
export const MAX_LOADS_LIMIT = 1000;

/** Newest first; load_id breaks ties so pages are stable. */
export function listLoadsSql(filter: { table?: string; status?: LoadRecord['status']; limit?: number }): Statement {
  const limit = Math.min(Math.max(Math.trunc(filter.limit ?? DEFAULT_LOADS_LIMIT), 1), MAX_LOADS_LIMIT);
  const params: Statement['params'] = { limit: int(Number.isFinite(limit) ? limit : DEFAULT_LOADS_LIMIT) };
  const where: string[] = [];
  if (filter.table !== undefined) {
    where.push('target_table = @target_table');
    params.target_table = text(filter.table);
  }
  if (filter.status !== undefined) {
    where.push('status = @status');
    params.status = text(filter.status);
  }
  return {
    text:
      `SELECT TOP (@limit) ${LOAD_COLUMNS} FROM ref.loads` +
      (where.length > 0 ? `\nWHERE ${where.join(' AND ')}` : '') +
      '\nORDER BY started_at DESC, load_id DESC',
    params,
  };
}

/** Every table in the backup schema; the catalog keeps no creation time we trust, the names carry it. */
export function backupTablesSql(): Statement {
  return {
    text: 'SELECT t.name AS table_name FROM sys.tables t WHERE t.schema_id = SCHEMA_ID(@schema_name)',
    params: { schema_name: text(BACKUP_SCHEMA) },
  };
}

const BACKUP_SUFFIX = /__(\d{14})_[a-z0-9]+$/;

/** `yyyymmddhhmmss` in UTC, as `backupTableOf` stamps names. */
const stampOf = (at: Date) => at.toISOString().replace(/[-:T]/g, '').slice(0, 14);

/** Backup names stamped before `cutoff`, sorted; names without a stamp are not ours to judge and are kept. */
export function expiredBackups(names: string[], cutoff: Date): string[] {
  if (Number.isNaN(cutoff.getTime())) throw new Error('backup retention cutoff is not a valid date');
  const cut = stampOf(cutoff);
  return names.filter((name) => {
    const stamp = BACKUP_SUFFIX.exec(name)?.[1];
    return stamp !== undefined && stamp < cut;
  }).sort();
}
