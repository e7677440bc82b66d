// Every T-SQL statement the SQL Server dialect runs, as pure functions: identifiers quoted here, values as @params.
import type { ColumnSpec, ColumnType, Checkpoint, LoadMode, TableRef } from '../types';
import { bigintParam as bigint, intParam as int, textParam as text, type Statement } from './statement';

export type { Param, ParamType, ParamValue, Statement } from './statement';

/** Column every loaded table carries so an append can be undone row by row. */
export const LOAD_ID_COLUMN = 'refdata_load_id';
/** sysname: SQL Server's identifier limit. */
export const MAX_IDENTIFIER_LENGTH = 128;

export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('SQL Server identifier must not be empty');
  if (name.length > MAX_IDENTIFIER_LENGTH) {
    throw new Error(`SQL Server identifier is ${name.length} characters, the limit is ${MAX_IDENTIFIER_LENGTH}: ${name.slice(0, 40)}…`);
  }
  // A NUL would end the name early in some client tools; no legitimate name has one.
  if (name.includes('\0')) throw new Error('SQL Server identifier must not contain NUL');
  return `[${name.replace(/]/g, ']]')}]`;
}

export function qualified(table: TableRef): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

export function columnTypeSql(type: ColumnType): string {
  switch (type.kind) {
    case 'integer':
      return 'int';
    case 'bigint':
      return 'bigint';
    case 'decimal': {
      const { precision, scale } = type;
      if (!Number.isInteger(precision) || precision < 1 || precision > 38) throw new Error(`decimal precision must be 1..38, got ${precision}`);
      if (!Number.isInteger(scale) || scale < 0 || scale > precision) throw new Error(`decimal scale must be 0..${precision}, got ${scale}`);
      return `decimal(${precision},${scale})`;
    }
    case 'boolean':
      return 'bit';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime2';
    case 'text': {
      const n = type.maxLength;
      // nvarchar(n) stops at 4000; longer (or unknown) text needs max.
      if (n === undefined || n > 4000) return 'nvarchar(max)';
      if (!Number.isInteger(n) || n < 1) throw new Error(`text maxLength must be a positive integer, got ${n}`);
      return `nvarchar(${n})`;
    }
  }
}

function columnDefinition(column: ColumnSpec): string {
  if (column.name.toLowerCase() === LOAD_ID_COLUMN) throw new Error(`column name ${LOAD_ID_COLUMN} is reserved for refdata`);
  return `${quoteIdent(column.name)} ${columnTypeSql(column.type)} NULL`;
}

/** A loaded table: the file's columns, all nullable (empty cells are NULL), plus the load id tag. */
export function createTableSql(table: TableRef, columns: ColumnSpec[]): string {
  const seen = new Set<string>();
  for (const c of columns) {
    // The default collation is case-insensitive, so `Price` and `price` collide.
    const key = c.name.toLowerCase();
    if (seen.has(key)) throw new Error(`duplicate column ${c.name} for ${table.schema}.${table.name}`);
    seen.add(key);
  }
  const lines = [...columns.map(columnDefinition), `${quoteIdent(LOAD_ID_COLUMN)} nvarchar(64) NULL`];
  return `CREATE TABLE ${qualified(table)} (\n  ${lines.join(',\n  ')}\n)`;
}

export function addColumnSql(table: TableRef, column: ColumnSpec): string {
  return `ALTER TABLE ${qualified(table)} ADD ${columnDefinition(column)}`;
}

export function addLoadIdColumnSql(table: TableRef): string {
  return `ALTER TABLE ${qualified(table)} ADD ${quoteIdent(LOAD_ID_COLUMN)} nvarchar(64) NULL`;
}

export function dropTableIfExistsSql(table: TableRef): string {
  return `DROP TABLE IF EXISTS ${qualified(table)}`;
}

/** Creates a schema when missing; CREATE SCHEMA must be alone in its batch, hence EXEC of a QUOTENAME'd name. */
export function ensureSchemaSql(schema: string): Statement {
  return {
    text: `IF SCHEMA_ID(@schema_name) IS NULL\nBEGIN\n  DECLARE @ddl nvarchar(max) = N'CREATE SCHEMA ' + QUOTENAME(@schema_name);\n  EXEC (@ddl);\nEND`,
    params: { schema_name: text(schema) },
  };
}

export function tableExistsSql(table: TableRef): Statement {
  return { text: `SELECT OBJECT_ID(@table_path, N'U') AS object_id`, params: { table_path: text(qualified(table)) } };
}

/** Columns as the catalog reports them; lengths in characters (-1 = max). */
export function describeTableSql(table: TableRef): Statement {
  return {
    text:
      'SELECT COLUMN_NAME AS column_name, DATA_TYPE AS data_type, CHARACTER_MAXIMUM_LENGTH AS max_length,\n' +
      '       NUMERIC_PRECISION AS numeric_precision, NUMERIC_SCALE AS numeric_scale, DATETIME_PRECISION AS datetime_precision,\n' +
      '       IS_NULLABLE AS is_nullable\n' +
      'FROM INFORMATION_SCHEMA.COLUMNS\n' +
      'WHERE TABLE_SCHEMA = @schema_name AND TABLE_NAME = @table_name\n' +
      'ORDER BY ORDINAL_POSITION',
    params: { schema_name: text(table.schema), table_name: text(table.name) },
  };
}

/** The server's clock names backups, so workers with skewed clocks agree. */
export const serverTimeSql = 'SELECT SYSUTCDATETIME() AS now';

export function countRowsSql(table: TableRef): string {
  return `SELECT COUNT_BIG(*) AS row_count FROM ${qualified(table)}`;
}

/**
 * Moves the current target to `backup` (renamed in place, then transferred to the backup schema) and renames the
 * shadow into its place; `backup` is null when there is no current target. Run it inside one transaction: the
 * schema-modification locks keep readers waiting until commit, so they see the old table or the new one, never
 * neither. sp_rename takes names as values (parameters); ALTER SCHEMA needs them as quoted identifiers.
 */
export function swapSql(target: TableRef, shadow: TableRef, backup: TableRef | null): Statement {
  if (shadow.schema !== target.schema) throw new Error('shadow table must be in the target schema (sp_rename cannot move schemas)');
  const lines: string[] = [];
  const params: Statement['params'] = { shadow_path: text(qualified(shadow)), target_name: text(target.name) };
  if (backup) {
    lines.push(
      `EXEC sp_rename @objname = @target_path, @newname = @backup_name, @objtype = N'OBJECT';`,
      `ALTER SCHEMA ${quoteIdent(backup.schema)} TRANSFER ${qualified({ schema: target.schema, name: backup.name })};`,
    );
    params.target_path = text(qualified(target));
    params.backup_name = text(backup.name);
  }
  lines.push(`EXEC sp_rename @objname = @shadow_path, @newname = @target_name, @objtype = N'OBJECT';`);
  return { text: lines.join('\n'), params };
}

/**
 * An append's stage: the load's columns (and the load id tag) with the target's types, empty. Rows wait here and
 * move into the target at finish, so readers never see half an append; the columns the file does not name are
 * left out, so the target's defaults fill them then, as a bulk load straight into the target would.
 */
export function createAppendStageSql(stage: TableRef, target: TableRef, columns: string[]): string {
  if (stage.schema !== target.schema) throw new Error('an append stage must be in the target schema');
  const list = [...columns, LOAD_ID_COLUMN].map(quoteIdent).join(', ');
  return `SELECT TOP (0) ${list} INTO ${qualified(stage)} FROM ${qualified(target)}`;
}

/** Moves an append's staged rows into the target (the stage's own columns, by name) and drops the stage. */
export function moveAppendStageSql(stage: TableRef, target: TableRef, columns: string[]): string {
  const list = columns.map(quoteIdent).join(', ');
  return `INSERT INTO ${qualified(target)} (${list}) SELECT ${list} FROM ${qualified(stage)};
DROP TABLE ${qualified(stage)};`;
}

export function deleteLoadRowsSql(table: TableRef, loadId: string): Statement {
  return {
    text: `DELETE FROM ${qualified(table)} WHERE ${quoteIdent(LOAD_ID_COLUMN)} = @load_id`,
    params: { load_id: text(loadId) },
  };
}

/** Tables in `schemas` whose name starts with `prefix`: lets a test suite find and drop what it created. */
export function tablesWithPrefixSql(schemas: string[], prefix: string): Statement {
  if (prefix.length === 0) throw new Error('a table prefix must not be empty');
  const params: Statement['params'] = { prefix: text(prefix) };
  schemas.forEach((schema, i) => (params[`schema_${i}`] = text(schema)));
  return {
    text:
      'SELECT s.name AS schema_name, t.name AS table_name FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id\n' +
      `WHERE s.name IN (${schemas.map((_, i) => `@schema_${i}`).join(', ')}) AND LEFT(t.name, LEN(@prefix)) = @prefix`,
    params,
  };
}

// ---- ref.loads -------------------------------------------------------------------------------------------

/** The ref.loads columns `loadFromRow` reads, in table order. */
export const LOAD_COLUMNS =
  'load_id, target_schema, target_table, staging_schema, staging_table, mode, file_path, file_hash, status, ' +
  'rows_committed, rows_quarantined, byte_offset, batches, backup_schema, backup_table, started_at, finished_at';

/** `forUpdate` holds a key-range lock until commit, so two callers racing on one load id serialise. */
export function selectLoadSql(loadId: string, forUpdate = false): Statement {
  const hint = forUpdate ? ' WITH (UPDLOCK, HOLDLOCK)' : '';
  return { text: `SELECT ${LOAD_COLUMNS} FROM ref.loads${hint} WHERE load_id = @load_id`, params: { load_id: text(loadId) } };
}

export interface NewLoad {
  loadId: string;
  target: TableRef;
  staging: TableRef;
  mode: LoadMode;
  filePath: string;
  fileHash: string | null;
}

export function insertLoadSql(load: NewLoad): Statement {
  return {
    text:
      'INSERT INTO ref.loads (load_id, target_schema, target_table, staging_schema, staging_table, mode, file_path, file_hash, status)\n' +
      `OUTPUT ${LOAD_COLUMNS.split(', ').map((c) => `inserted.${c}`).join(', ')}\n` +
      "VALUES (@load_id, @target_schema, @target_table, @staging_schema, @staging_table, @mode, @file_path, @file_hash, N'loading')",
    params: {
      load_id: text(load.loadId),
      target_schema: text(load.target.schema),
      target_table: text(load.target.name),
      staging_schema: text(load.staging.schema),
      staging_table: text(load.staging.name),
      mode: text(load.mode),
      file_path: text(load.filePath),
      file_hash: text(load.fileHash),
    },
  };
}

/** Advances the checkpoint only from `expected`; zero rows affected means another attempt moved it. */
export function advanceCheckpointSql(loadId: string, expected: Checkpoint, next: Checkpoint): Statement {
  return {
    text:
      'UPDATE ref.loads SET rows_committed = @next_rows, rows_quarantined = @next_quarantined, byte_offset = @next_offset, batches = batches + 1\n' +
      "WHERE load_id = @load_id AND status = N'loading' AND rows_committed = @expected_rows AND rows_quarantined = @expected_quarantined\n" +
      '  AND byte_offset = @expected_offset',
    params: {
      load_id: text(loadId),
      expected_rows: bigint(expected.rowsCommitted),
      expected_quarantined: bigint(expected.rowsQuarantined ?? 0),
      expected_offset: bigint(expected.byteOffset),
      next_rows: bigint(next.rowsCommitted),
      next_quarantined: bigint(next.rowsQuarantined ?? 0),
      next_offset: bigint(next.byteOffset),
    },
  };
}

/** `fileHash`, when given, is the whole file's hash (known only once it is read): duplicate detection finds it. */
export function finishLoadRecordSql(loadId: string, backup: TableRef | null, fileHash: string | null = null): Statement {
  return {
    text:
      "UPDATE ref.loads SET status = N'loaded', backup_schema = @backup_schema, backup_table = @backup_table, finished_at = SYSUTCDATETIME(),\n" +
      '  file_hash = COALESCE(@file_hash, file_hash)\n' +
      "WHERE load_id = @load_id AND status = N'loading'",
    params: { load_id: text(loadId), backup_schema: text(backup?.schema ?? null), backup_table: text(backup?.name ?? null), file_hash: text(fileHash) },
  };
}

/** Quarantined rows of an abandoned load go with it, as on PostgreSQL. */
export function deleteLoadInvalidRecordsSql(loadId: string): Statement {
  return { text: "DELETE FROM ref.invalid_records WHERE source = N'file' AND source_ref = @load_id", params: { load_id: text(loadId) } };
}

export function abortLoadRecordSql(loadId: string): Statement {
  return {
    text: "UPDATE ref.loads SET status = N'aborted', finished_at = SYSUTCDATETIME() WHERE load_id = @load_id AND status = N'loading'",
    params: { load_id: text(loadId) },
  };
}

// ---- migrations ------------------------------------------------------------------------------------------

/** Bookkeeping exists before migration 001 runs, so `ref` is created here too (001 tolerates that). */
export const ensureMigrationsTableSql =
  "IF SCHEMA_ID(N'ref') IS NULL EXEC (N'CREATE SCHEMA [ref]');\n" +
  "IF OBJECT_ID(N'ref.schema_migrations', N'U') IS NULL\n" +
  '  CREATE TABLE ref.schema_migrations (\n' +
  '    version    int NOT NULL CONSTRAINT pk_schema_migrations PRIMARY KEY,\n' +
  '    name       nvarchar(255) NOT NULL,\n' +
  '    applied_at datetime2 NOT NULL CONSTRAINT df_schema_migrations_applied_at DEFAULT SYSUTCDATETIME()\n' +
  '  );';

export const migrationsTableExistsSql = "SELECT OBJECT_ID(N'ref.schema_migrations', N'U') AS object_id";
export const selectMigrationsSql = 'SELECT version, name, applied_at FROM ref.schema_migrations ORDER BY version';

export function migrationAppliedSql(version: number): Statement {
  return { text: 'SELECT version FROM ref.schema_migrations WITH (UPDLOCK, HOLDLOCK) WHERE version = @version', params: { version: int(version) } };
}

export function recordMigrationSql(version: number, name: string): Statement {
  return { text: 'INSERT INTO ref.schema_migrations (version, name) VALUES (@version, @name)', params: { version: int(version), name: text(name) } };
}

/** An application lock owned by the transaction: concurrent starters apply each migration once. */
export function migrationLockSql(timeoutMs: number): Statement {
  return {
    text:
      'DECLARE @result int;\n' +
      "EXEC @result = sp_getapplock @Resource = @resource, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = @timeout_ms;\n" +
      'SELECT @result AS result',
    params: { resource: text('refdata:migrate'), timeout_ms: int(timeoutMs) },
  };
}

export {
  DEFAULT_TRACKING_LIMIT, INVALID_RECORD_PARAMS, MAX_INVALID_RECORDS_PER_STATEMENT, MAX_TRACKING_LIMIT, TRACKING_COLUMNS, deleteTrackingSql,
  insertInvalidRecordsSql, listTrackingSql, selectTrackingSql, upsertReferenceConfigSql, upsertTrackingSql,
} from './ledger-sql';
