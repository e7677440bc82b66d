// T-SQL for the ledgers: ref.file_monitor_tracking (one row per drop), ref.reference_data_cfg, ref.invalid_records.
import type { InvalidRecordInput, ReferenceConfigInput, TrackingFilter, TrackingUpdate } from '../types';
import { bigintParam, bitParam, datetimeParam, intParam, textParam, type Param, type Statement } from './statement';

type TrackingField = Exclude<keyof TrackingUpdate, 'filePath'>;

/** Every writable tracking field: its column and how its value is bound. Headers are stored as a JSON array. */
const trackingFields: { [K in TrackingField]-?: { column: string; param: (value: NonNullable<TrackingUpdate[K]> | null) => Param } } = {
  fileName: { column: 'file_name', param: textParam },
  fileSize: { column: 'file_size', param: bigintParam },
  fileHash: { column: 'file_hash', param: textParam },
  loadType: { column: 'load_type', param: textParam },
  tableName: { column: 'table_name', param: textParam },
  detectedDelimiter: { column: 'detected_delimiter', param: textParam },
  detectedHeaders: { column: 'detected_headers', param: (v) => textParam(v === null ? null : JSON.stringify(v)) },
  isReferenceData: { column: 'is_reference_data', param: bitParam },
  referenceConfigInserted: { column: 'reference_config_inserted', param: bitParam },
  status: { column: 'status', param: textParam },
  processedAt: { column: 'processed_at', param: datetimeParam },
  errorMessage: { column: 'error_message', param: textParam },
  workflowId: { column: 'workflow_id', param: textParam },
  rowsLoaded: { column: 'rows_loaded', param: bigintParam },
  runId: { column: 'run_id', param: textParam },
  rowsQuarantined: { column: 'rows_quarantined', param: bigintParam },
  archivedPath: { column: 'archived_path', param: textParam },
};

export const TRACKING_COLUMNS = [
  'id',
  'file_path',
  'created_at',
  ...Object.values(trackingFields).map((f) => f.column),
] as const;

const selectList = (prefix = '') => TRACKING_COLUMNS.map((c) => `${prefix}[${c}]`).join(', ');

function bindField<K extends TrackingField>(key: K, value: TrackingUpdate[K]): Param {
  const bind = trackingFields[key].param as (v: TrackingUpdate[K] | null) => Param;
  return bind(value ?? null);
}

/**
 * Insert-or-update of one drop's row, keyed by run_id when given (a new run adds a row, a retried claim finds it
 * again), else the newest row of file_path (inserted if the path has none). UPDATE under a key-range lock held to the
 * end of its own transaction, then INSERT when it found no row, so two callers for the same new key serialise instead
 * of both inserting. (Not MERGE: its concurrency bugs on SQL Server are well documented, and Babelfish has none; not
 * UPDATE ... OUTPUT, which Babelfish refuses.) Only the given fields are written; a new row starts as `waiting` unless a
 * status is given. XACT_ABORT ends the transaction on any error.
 */
export function upsertTrackingSql(update: TrackingUpdate): Statement {
  const params: Record<string, Param> = { file_path: textParam(update.filePath) };
  const given = (Object.keys(trackingFields) as TrackingField[]).filter((k) => update[k] !== undefined);
  for (const key of given) params[trackingFields[key].column] = bindField(key, update[key]);
  const updated = given.filter((k) => k !== 'runId').map((k) => trackingFields[k].column);
  if (!params.status) params.status = textParam('waiting');
  const insertColumns = ['file_path', ...given.map((k) => trackingFields[k].column)];
  if (!given.includes('status')) insertColumns.push('status');
  const insertList = insertColumns.map((c) => `[${c}]`).join(', ');
  const valueList = insertColumns.map((c) => `@${c}`).join(', ');
  // A no-op SET still takes the row's lock when nothing but the key was given.
  const sets = updated.length > 0 ? updated.map((c) => `[${c}] = @${c}`).join(', ') : '[file_path] = [file_path]';
  const keyed = update.runId
    ? [
        `UPDATE t SET ${sets.replace(/\[(\w+)\] = /g, 't.[$1] = ')}`,
        'FROM ref.file_monitor_tracking t WITH (UPDLOCK, SERIALIZABLE) WHERE t.[run_id] = @run_id;',
        'IF @@ROWCOUNT = 0',
        `  INSERT INTO ref.file_monitor_tracking (${insertList}) VALUES (${valueList});`,
        'COMMIT TRANSACTION;',
        `SELECT ${selectList()} FROM ref.file_monitor_tracking WHERE [run_id] = @run_id;`,
      ]
    : [
        'DECLARE @latest int;',
        'SELECT TOP (1) @latest = [id] FROM ref.file_monitor_tracking WITH (UPDLOCK, SERIALIZABLE) WHERE [file_path] = @file_path ORDER BY [id] DESC;',
        'IF @latest IS NULL',
        'BEGIN',
        `  INSERT INTO ref.file_monitor_tracking (${insertList}) VALUES (${valueList});`,
        '  SET @latest = SCOPE_IDENTITY();',
        'END',
        'ELSE',
        `  UPDATE ref.file_monitor_tracking SET ${sets} WHERE [id] = @latest;`,
        'COMMIT TRANSACTION;',
        `SELECT ${selectList()} FROM ref.file_monitor_tracking WHERE [id] = @latest;`,
      ];
  return { text: ['SET XACT_ABORT ON;', 'BEGIN TRANSACTION;', ...keyed].join('\n'), params };
}

export function selectTrackingSql(by: { id: number } | { filePath: string }): Statement {
  const [where, params] =
    'id' in by ? ['[id] = @id', { id: intParam(by.id) }] : ['[file_path] = @file_path', { file_path: textParam(by.filePath) }];
  return { text: `SELECT TOP (1) ${selectList()} FROM ref.file_monitor_tracking WHERE ${where} ORDER BY [id] DESC`, params };
}

export const DEFAULT_TRACKING_LIMIT = 100;
export const MAX_TRACKING_LIMIT = 1000;

/** Newest first; id breaks ties between rows created in the same tick so pages are stable. */
export function listTrackingSql(filter: TrackingFilter): Statement {
  const limit = Math.min(Math.max(Math.trunc(filter.limit ?? DEFAULT_TRACKING_LIMIT), 1), MAX_TRACKING_LIMIT);
  const params: Record<string, Param> = { limit: intParam(limit) };
  const where: string[] = [];
  if (filter.status !== undefined) {
    where.push('[status] = @status');
    params.status = textParam(filter.status);
  }
  if (filter.table !== undefined) {
    where.push('[table_name] = @table_name');
    params.table_name = textParam(filter.table);
  }
  if (filter.latestPerPath) where.push('[id] IN (SELECT MAX([id]) FROM ref.file_monitor_tracking GROUP BY [file_path])');
  return {
    text:
      `SELECT TOP (@limit) ${selectList()} FROM ref.file_monitor_tracking` +
      (where.length > 0 ? `\nWHERE ${where.join(' AND ')}` : '') +
      '\nORDER BY [created_at] DESC, [id] DESC',
    params,
  };
}

export function deleteTrackingSql(filePath: string): Statement {
  return { text: 'DELETE FROM ref.file_monitor_tracking WHERE [file_path] = @file_path', params: { file_path: textParam(filePath) } };
}

/**
 * Insert-or-refresh keyed by (schema_name, table_name); a refresh re-activates the row and keeps the stored
 * key column unless a new one is given (as the PostgreSQL dialect does).
 */
export function upsertReferenceConfigSql(input: ReferenceConfigInput): Statement {
  return {
    // Update-or-insert under a key-range lock, as upsertTrackingSql (and why not MERGE).
    text: [
      'SET XACT_ABORT ON;',
      'BEGIN TRANSACTION;',
      'UPDATE t SET t.[source_file] = @source_file, t.[load_type] = @load_type,',
      '  t.[key_column] = COALESCE(@key_column, t.[key_column]), t.[is_active] = 1, t.[updated_at] = SYSUTCDATETIME()',
      'FROM ref.reference_data_cfg t WITH (UPDLOCK, SERIALIZABLE) WHERE t.[schema_name] = @schema_name AND t.[table_name] = @table_name;',
      'IF @@ROWCOUNT = 0',
      '  INSERT INTO ref.reference_data_cfg ([schema_name], [table_name], [source_file], [load_type], [key_column])',
      '  VALUES (@schema_name, @table_name, @source_file, @load_type, @key_column);',
      'COMMIT TRANSACTION;',
    ].join('\n'),
    params: {
      schema_name: textParam(input.table.schema),
      table_name: textParam(input.table.name),
      source_file: textParam(input.sourceFile),
      load_type: textParam(input.loadType),
      key_column: textParam(input.keyColumn ?? null),
    },
  };
}

/** Parameters each invalid record binds. */
export const INVALID_RECORD_PARAMS = 6;
/**
 * A request carries at most 2,100 parameters and a VALUES list at most 1,000 rows; 333 rows (1,998
 * parameters) stays under both with room for the driver's own.
 */
export const MAX_INVALID_RECORDS_PER_STATEMENT = Math.floor(2000 / INVALID_RECORD_PARAMS);

/** Multi-row INSERTs into ref.invalid_records, one per chunk; run them in one transaction. Errors are a JSON array. */
export function insertInvalidRecordsSql(records: InvalidRecordInput[], chunkSize = MAX_INVALID_RECORDS_PER_STATEMENT): Statement[] {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_INVALID_RECORDS_PER_STATEMENT) {
    throw new Error(`invalid record chunk size must be 1..${MAX_INVALID_RECORDS_PER_STATEMENT}, got ${chunkSize}`);
  }
  const statements: Statement[] = [];
  for (let start = 0; start < records.length; start += chunkSize) {
    const params: Record<string, Param> = {};
    const tuples = records.slice(start, start + chunkSize).map((r, i) => {
      params[`source_${i}`] = textParam(r.source);
      params[`source_ref_${i}`] = textParam(r.sourceRef);
      params[`record_id_${i}`] = textParam(r.recordId);
      params[`row_number_${i}`] = bigintParam(r.rowNumber);
      params[`raw_text_${i}`] = textParam(r.rawText);
      params[`errors_${i}`] = textParam(JSON.stringify(r.errors));
      return `(@source_${i}, @source_ref_${i}, @record_id_${i}, @row_number_${i}, @raw_text_${i}, @errors_${i})`;
    });
    statements.push({
      text: `INSERT INTO ref.invalid_records ([source], [source_ref], [record_id], [row_number], [raw_text], [errors])\nVALUES ${tuples.join(',\n       ')}`,
      params,
    });
  }
  return statements;
}
