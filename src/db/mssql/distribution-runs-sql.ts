// Every T-SQL statement of the distribution-run store, as pure functions: identifiers quoted here, values as @params.
// Watermarks travel as ISO 8601 text and are converted by the server, so nothing rounds them to milliseconds.
import type { ClaimRunInput, DatasetRef, InstrumentExport, RunFile, RunFilter, WatermarkRange } from '../distribution-runs';
import { CANCELLED_TAG, INSTRUMENT_FILE_COLUMNS, checkedWatermark, instrumentFileColumns } from '../distribution-runs';
import type { TableRef } from '../types';
import { intParam as int, textParam as text, type Param, type Statement } from './statement';
import { qualified, quoteIdent } from './sql';

const iso = (c: string) => `CONVERT(nvarchar(27), ${c}, 126) + N'Z'`;
const stamp = (c: string) => `CONVERT(nvarchar(19), ${c}, 120)`;
const wm = (param: string) => `CONVERT(datetime2(7), @${param}, 127)`;

export const RUN_SELECT = `SELECT run_id, CONVERT(nvarchar(10), business_date, 23) AS business_date, kind, suffix, status, [trigger], workflow_id,
  workflow_run_id, submission_id, ${iso('watermark_from')} AS wm_from, ${iso('watermark_to')} AS wm_to, watermark_committed,
  ${iso('generated_at')} AS generated, directory, files, delivery_ids, attempts, started_at, finished_at, error_message
FROM dist.distribution_runs`;

export function selectRunSql(runId: string, forUpdate = false): Statement {
  return { text: `${RUN_SELECT}${forUpdate ? ' WITH (UPDLOCK, HOLDLOCK)' : ''} WHERE run_id = @run_id`, params: { run_id: text(runId) } };
}

export const CLAIM_LOCK_TIMEOUT_MS = 60_000;

/**
 * Serialises claims (transaction-owned, released at commit), so two runs never compute their ranges at once.
 * sp_getapplock reports a timeout or deadlock by its return code, not by an error: the caller must read `result`.
 */
export function claimLockSql(timeoutMs = CLAIM_LOCK_TIMEOUT_MS): Statement {
  return {
    text:
      'DECLARE @result int;\n' +
      "EXEC @result = sp_getapplock @Resource = N'refdata.distribution.claim', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = @timeout_ms;\n" +
      'SELECT @result AS result',
    params: { timeout_ms: int(timeoutMs) },
  };
}

export function reuseClaimSql(input: ClaimRunInput): Statement {
  return {
    text: `UPDATE dist.distribution_runs SET status = N'running', finished_at = NULL, error_message = NULL, [trigger] = @trigger,
  workflow_id = @workflow_id, directory = @directory,
  attempts = attempts + CASE WHEN workflow_run_id IS NULL OR workflow_run_id <> @workflow_run_id THEN 1 ELSE 0 END, workflow_run_id = @workflow_run_id
WHERE run_id = @run_id`,
    params: { run_id: text(input.runId), trigger: text(input.trigger), workflow_id: text(input.workflowId), directory: text(input.directory), workflow_run_id: text(input.workflowRunId) },
  };
}

/**
 * A new run's range (see sql/postgres and docs/distribution.md): from = the chain's latest committed watermark; to =
 * the server clock, but not later than the start of a transaction still open in this database (it may commit rows
 * stamped before now), nor past the start of a later date already sent, nor before from. Reading open transactions
 * needs VIEW SERVER STATE; without it the clock alone is used (docs/distribution.md says what that risks).
 */
export function insertClaimSql(input: ClaimRunInput): Statement {
  return {
    text: `DECLARE @now datetime2(7) = SYSUTCDATETIME();
DECLARE @oldest datetime2(7) = NULL;
IF HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE') = 1
  SELECT @oldest = DATEADD(millisecond, -4, DATEADD(minute, -DATEPART(TZOFFSET, SYSDATETIMEOFFSET()), MIN(t.transaction_begin_time)))
  FROM sys.dm_tran_active_transactions t
  JOIN sys.dm_tran_session_transactions st ON st.transaction_id = t.transaction_id
  JOIN sys.dm_exec_sessions e ON e.session_id = st.session_id
  WHERE st.session_id <> @@SPID AND st.is_user_transaction = 1 AND e.database_id = DB_ID();
DECLARE @from datetime2(7) = (SELECT MAX(watermark_to) FROM dist.distribution_runs
  WHERE watermark_committed = 1 AND (@kind = N'delta' OR (kind = N'full' AND business_date < CONVERT(date, @business_date, 23))));
DECLARE @cap datetime2(7) = CASE WHEN @kind = N'full' THEN (SELECT MIN(COALESCE(watermark_from, CONVERT(datetime2(7), '1970-01-01', 23)))
  FROM dist.distribution_runs WHERE watermark_committed = 1 AND kind = N'full' AND business_date > CONVERT(date, @business_date, 23)) END;
DECLARE @to datetime2(7) = @now;
IF @oldest IS NOT NULL AND @oldest < @to SET @to = @oldest;
IF @cap IS NOT NULL AND @cap < @to SET @to = @cap;
IF @from IS NOT NULL AND @to < @from SET @to = @from;
INSERT INTO dist.distribution_runs (run_id, business_date, kind, suffix, status, [trigger], workflow_id, workflow_run_id, submission_id,
  watermark_from, watermark_to, generated_at, directory)
VALUES (@run_id, CONVERT(date, @business_date, 23), @kind, @suffix, N'running', @trigger, @workflow_id, @workflow_run_id, @submission_id,
  @from, @to, SYSUTCDATETIME(), @directory);`,
    params: {
      run_id: text(input.runId), business_date: text(input.businessDate), kind: text(input.kind), suffix: text(input.suffix), trigger: text(input.trigger),
      workflow_id: text(input.workflowId), workflow_run_id: text(input.workflowRunId), submission_id: text(input.submissionId), directory: text(input.directory),
    },
  };
}

export function recordFilesSql(runId: string, files: RunFile[]): Statement {
  return { text: 'UPDATE dist.distribution_runs SET files = @files, files_removed_at = NULL WHERE run_id = @run_id', params: { run_id: text(runId), files: text(JSON.stringify(files)) } };
}

export function recordDeliveriesSql(runId: string, ids: string[]): Statement {
  return { text: 'UPDATE dist.distribution_runs SET delivery_ids = @ids WHERE run_id = @run_id', params: { run_id: text(runId), ids: text(JSON.stringify(ids)) } };
}

export function finishRunSql(runId: string, status: string, message: string | null): Statement {
  return {
    text: `UPDATE dist.distribution_runs SET status = @status, error_message = @message, finished_at = SYSUTCDATETIME(),
  watermark_committed = CASE WHEN @status = N'succeeded' THEN 1 ELSE watermark_committed END WHERE run_id = @run_id`,
    params: { run_id: text(runId), status: text(status), message: text(message) },
  };
}

export function listRunsSql(filter: RunFilter): Statement {
  const where: string[] = [];
  const params: Record<string, Param> = { limit: int(Math.min(Math.max(filter.limit, 1), 1000)) };
  if (filter.businessDate) {
    where.push('business_date = CONVERT(date, @business_date, 23)');
    params.business_date = text(filter.businessDate);
  }
  if (filter.status) {
    where.push('status = @status');
    params.status = text(filter.status);
  }
  const select = RUN_SELECT.replace(/^SELECT /, 'SELECT TOP (@limit) ');
  return { text: `${select}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY business_date DESC, run_id DESC`, params };
}

export const datasetsSql = `SELECT c.schema_name, c.table_name, c.key_column FROM ref.reference_data_cfg c
WHERE c.is_active = 1 AND c.key_column IS NOT NULL AND NOT (c.schema_name = N'ref' AND c.table_name = N'instruments')
  AND COL_LENGTH(QUOTENAME(c.schema_name) + N'.' + QUOTENAME(c.table_name), c.key_column) IS NOT NULL
ORDER BY c.table_name, c.schema_name`;

export function datasetColumnsSql(table: TableRef): Statement {
  return {
    text: `SELECT c.name AS column_name FROM sys.columns c JOIN sys.tables t ON t.object_id = c.object_id JOIN sys.schemas s ON s.schema_id = t.schema_id
WHERE s.name = @schema AND t.name = @table AND c.name <> N'refdata_load_id' ORDER BY c.column_id`,
    params: { schema: text(table.schema), table: text(table.name) },
  };
}

const decimal = (c: string) => `CONVERT(nvarchar(40), ${c})`;
const PRINTED: Record<(typeof INSTRUMENT_FILE_COLUMNS)[number], string> = {
  instrument_key: 'instrument_key', segment: 'segment', exchange: 'exchange', instrument_type: 'instrument_type', name: 'name',
  trading_symbol: 'trading_symbol', isin: 'isin', expiry: 'CONVERT(nvarchar(10), expiry, 23)', strike_price: decimal('strike_price'),
  lot_size: decimal('lot_size'), tick_size: decimal('tick_size'), freeze_quantity: decimal('freeze_quantity'), underlying_key: 'underlying_key',
  option_type: 'option_type', weekly: `CASE weekly WHEN 1 THEN N'true' WHEN 0 THEN N'false' END`, first_seen_at: stamp('first_seen_at'),
  updated_at: stamp('updated_at'),
};

/** Columns printed with their full scale (`50.000000`), trimmed by the store as PostgreSQL's trim_scale would. */
export const DECIMAL_COLUMNS = ['strike_price', 'lot_size', 'tick_size', 'freeze_quantity'];

function inRange(column: string, r: WatermarkRange, params: Record<string, Param>): string {
  params.wm_to = text(checkedWatermark(r.to));
  if (r.from === null) return `${column} IS NOT NULL AND ${column} < ${wm('wm_to')}`;
  params.wm_from = text(checkedWatermark(r.from));
  return `${column} >= ${wm('wm_from')} AND ${column} < ${wm('wm_to')}`;
}

export function instrumentExportSql(type: InstrumentExport, r: WatermarkRange): Statement & { columns: string[] } {
  const params: Record<string, Param> = {};
  const exprs = INSTRUMENT_FILE_COLUMNS.map((c) => (PRINTED[c] === c ? c : `${PRINTED[c]} AS ${c}`));
  let select: string[];
  let where: string;
  if (type === 'full') {
    select = exprs;
    where = 'is_active = 1';
  } else if (type === 'delta') {
    where = `is_active = 1 AND ${inRange('updated_at', r, params)}`;
    select = [`${r.from === null ? `N'ADDED'` : `CASE WHEN first_seen_at >= ${wm('wm_from')} THEN N'ADDED' ELSE N'CHANGED' END`} AS change`, ...exprs];
  } else {
    where = `is_active = 0 AND ${inRange('deactivated_at', r, params)}`;
    select = [...exprs, `${stamp('deactivated_at')} AS deactivated_at`, `N'${CANCELLED_TAG}' AS tag`];
  }
  return { text: `SELECT ${select.join(', ')} FROM ref.instruments WHERE ${where} ORDER BY instrument_key`, params, columns: instrumentFileColumns(type) };
}

/** Every column as text, ordered by the key and then the rest. */
export function datasetExportSql(d: DatasetRef, columns: string[]): string {
  const rest = columns.filter((c) => c !== d.keyColumn).map(quoteIdent);
  return `SELECT ${columns.map((c) => `CONVERT(nvarchar(max), ${quoteIdent(c)}) AS ${quoteIdent(c)}`).join(', ')} FROM ${qualified(d.table)} ORDER BY ${[quoteIdent(d.keyColumn), ...rest].join(', ')}`;
}

export function invalidPageSql(r: WatermarkRange, afterId: number, pageSize: number): Statement {
  const params: Record<string, Param> = { after_id: { type: 'bigint', value: afterId }, page: int(pageSize), wm_to: text(checkedWatermark(r.to)) };
  let lower = '';
  if (r.from !== null) {
    params.wm_from = text(checkedWatermark(r.from));
    lower = ` AND created_at >= ${wm('wm_from')}`;
  }
  return {
    text: `SELECT TOP (@page) id, source, source_ref, record_id, [row_number], errors, ${stamp('created_at')} AS created
FROM ref.invalid_records WHERE created_at < ${wm('wm_to')}${lower} AND id > @after_id ORDER BY id`,
    params,
  };
}
