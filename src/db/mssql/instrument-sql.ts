// Every T-SQL statement of the instrument store, as pure functions: identifiers quoted here, values as @params.
import type { TableRef } from '../types';
import type { InstrumentFilter, SyncRunStart } from '../instruments';
import { bigintParam as bigint, bitParam as bit, datetimeParam as datetime, intParam as int, textParam as text, type Param, type Statement } from './statement';
import { qualified } from './sql';

/** Keys compare byte-wise: the default case-insensitive collation would make `NSE_EQ|abc` and `NSE_EQ|ABC` one key. */
export const KEY_COLLATION = 'Latin1_General_100_BIN2';

export const INSTRUMENT_COLUMNS = [
  'segment', 'exchange', 'instrument_type', 'name', 'trading_symbol', 'isin', 'expiry', 'strike_price', 'lot_size', 'tick_size',
  'freeze_quantity', 'underlying_key', 'option_type', 'weekly',
] as const;

export function createStagingSql(t: TableRef): string {
  return `IF OBJECT_ID(N'${qualified(t).replace(/'/g, "''")}', N'U') IS NULL
CREATE TABLE ${qualified(t)} (
  [row_number] bigint NOT NULL, instrument_key nvarchar(255) COLLATE ${KEY_COLLATION} NOT NULL, is_valid bit NOT NULL,
  has_data bit NOT NULL, category nvarchar(10) NULL, row_hash char(64) NULL, segment nvarchar(50) NULL, exchange nvarchar(50) NULL,
  instrument_type nvarchar(50) NULL, name nvarchar(500) NULL, trading_symbol nvarchar(255) NULL, isin nvarchar(50) NULL,
  expiry date NULL, strike_price decimal(20,6) NULL, lot_size decimal(20,6) NULL, tick_size decimal(20,6) NULL,
  freeze_quantity decimal(20,6) NULL, underlying_key nvarchar(255) NULL, option_type nvarchar(10) NULL, weekly bit NULL,
  source_record nvarchar(max) NULL
)`;
}

/** Stored hash and activity of a batch's keys, passed as one JSON array (any characters, no parameter limit). */
export function storedVersionsSql(keys: string[]): Statement {
  return {
    text: `SELECT i.instrument_key, i.row_hash, i.is_active FROM OPENJSON(@keys) WITH (k nvarchar(255) '$') AS j
JOIN ref.instruments i ON i.instrument_key = j.k COLLATE ${KEY_COLLATION}`,
    params: { keys: text(JSON.stringify(keys)) },
  };
}

export const dropStagingSql = (t: TableRef) => `DROP TABLE IF EXISTS ${qualified(t)}`;
export const countStagingSql = (t: TableRef) => `SELECT COUNT_BIG(*) AS n FROM ${qualified(t)}`;
export const truncateStagingSql = (t: TableRef) => `TRUNCATE TABLE ${qualified(t)}`;

const RUN_COLUMNS =
  'run_id, workflow_id, [trigger], source, status, forced, file_format, file_bytes, file_sha256, records_read, staged_rows, invalid_records, ' +
  'duplicates, batches, active_before, active_after, added, updated, unchanged, deactivated, reactivated, by_segment, by_type, guard, ' +
  'error_message, started_at, applied_at, finished_at, duration_ms';

export function selectRunSql(runId: string, forUpdate = false): Statement {
  return { text: `SELECT ${RUN_COLUMNS} FROM ref.instrument_sync_runs${forUpdate ? ' WITH (UPDLOCK, HOLDLOCK)' : ''} WHERE run_id = @run_id`, params: { run_id: text(runId) } };
}

export function listRunsSql(limit: number): Statement {
  return { text: `SELECT TOP (@limit) ${RUN_COLUMNS} FROM ref.instrument_sync_runs ORDER BY started_at DESC, run_id`, params: { limit: int(Math.min(Math.max(limit, 1), 500)) } };
}

export const lastSucceededRunSql = `SELECT TOP (1) ${RUN_COLUMNS} FROM ref.instrument_sync_runs WHERE status = N'succeeded' ORDER BY applied_at DESC`;

/** Inserts the run unless it exists; HOLDLOCK serialises two attempts racing on one id. */
export function beginRunSql(s: SyncRunStart): Statement {
  return {
    text:
      'IF NOT EXISTS (SELECT 1 FROM ref.instrument_sync_runs WITH (UPDLOCK, HOLDLOCK) WHERE run_id = @run_id)\n' +
      "  INSERT INTO ref.instrument_sync_runs (run_id, workflow_id, [trigger], source, status, forced) VALUES (@run_id, @workflow_id, @trigger, @source, N'running', @forced)",
    params: { run_id: text(s.runId), workflow_id: text(s.workflowId), trigger: text(s.trigger), source: text(s.source.slice(0, 2000)), forced: bit(s.forced) },
  };
}

export function recordSourceSql(runId: string, format: string, bytes: number, sha256: string): Statement {
  return {
    text: 'UPDATE ref.instrument_sync_runs SET file_format = @format, file_bytes = @bytes, file_sha256 = @sha256 WHERE run_id = @run_id',
    params: { run_id: text(runId), format: text(format), bytes: bigint(bytes), sha256: text(sha256) },
  };
}

export function resetStagingRunSql(runId: string, source: string): Statement {
  return {
    text:
      'DELETE FROM ref.invalid_records WHERE source = @source AND source_ref = @run_id;\n' +
      'UPDATE ref.instrument_sync_runs SET records_read = 0, staged_rows = 0, invalid_records = 0, batches = 0 WHERE run_id = @run_id',
    params: { run_id: text(runId), source: text(source) },
  };
}

export function advanceStagingSql(runId: string, next: { recordsRead: number; stagedRows: number; invalid: number; batches: number }): Statement {
  return {
    text: 'UPDATE ref.instrument_sync_runs SET records_read = @records_read, staged_rows = @staged_rows, invalid_records = @invalid, batches = @batches WHERE run_id = @run_id',
    params: { run_id: text(runId), records_read: bigint(next.recordsRead), staged_rows: bigint(next.stagedRows), invalid: bigint(next.invalid), batches: int(next.batches) },
  };
}

/** Later occurrences of a key leave staging; the valid ones among them become invalid records. */
export function moveDuplicatesSql(t: TableRef, runId: string, source: string): Statement {
  return {
    text: `DECLARE @dups TABLE (instrument_key nvarchar(255) COLLATE ${KEY_COLLATION}, [row_number] bigint, is_valid bit, source_record nvarchar(max), first_row bigint);
WITH firsts AS (
  SELECT instrument_key, MIN([row_number]) AS first_row FROM ${qualified(t)} GROUP BY instrument_key HAVING COUNT_BIG(*) > 1
)
DELETE s OUTPUT deleted.instrument_key, deleted.[row_number], deleted.is_valid, deleted.source_record, f.first_row INTO @dups
FROM ${qualified(t)} s JOIN firsts f ON f.instrument_key = s.instrument_key WHERE s.[row_number] > f.first_row;
INSERT INTO ref.invalid_records (source, source_ref, record_id, [row_number], raw_text, errors)
SELECT @source, @run_id, instrument_key, [row_number], source_record,
  N'["instrument_key ' + STRING_ESCAPE(instrument_key, 'json') + N' appears more than once in the file (first at record ' + CAST(first_row AS nvarchar(20)) + N')"]'
FROM @dups WHERE is_valid = 1;
SELECT (SELECT COUNT_BIG(*) FROM @dups) AS duplicates, (SELECT COUNT_BIG(*) FROM @dups WHERE is_valid = 1) AS newly_invalid;`,
    params: { run_id: text(runId), source: text(source) },
  };
}

export function markStagedSql(runId: string, duplicates: number, newlyInvalid: number): Statement {
  return {
    text:
      "UPDATE ref.instrument_sync_runs SET status = N'staged', duplicates = @duplicates, invalid_records = invalid_records + @newly_invalid,\n" +
      '  staged_rows = staged_rows - @duplicates OUTPUT inserted.invalid_records WHERE run_id = @run_id',
    params: { run_id: text(runId), duplicates: bigint(duplicates), newly_invalid: bigint(newlyInvalid) },
  };
}

/** An application lock owned by the transaction: applies of two runs never interleave. */
export const applyLockSql: Statement = {
  text: "DECLARE @result int;\nEXEC @result = sp_getapplock @Resource = @resource, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = @timeout_ms;\nSELECT @result AS result",
  params: { resource: text('refdata:instrument-apply'), timeout_ms: int(5 * 60 * 1000) },
};

export const stagedCategoriesSql = (t: TableRef) =>
  `SELECT SUM(CASE WHEN category = N'fno' THEN 1 ELSE 0 END) AS fno, SUM(CASE WHEN category = N'equity' THEN 1 ELSE 0 END) AS equities FROM ${qualified(t)} WHERE is_valid = 1`;

const missing = (t: TableRef) => `NOT EXISTS (SELECT 1 FROM ${qualified(t)} s WHERE s.instrument_key = i.instrument_key)`;
const sumIf = (cond: string) => `SUM(CAST(CASE WHEN ${cond} THEN 1 ELSE 0 END AS bigint))`;

export function plannedGroupsSql(t: TableRef): string {
  return `SELECT segment, instrument_type, SUM(active_before) AS active_before, SUM(added) AS added, SUM(updated) AS updated,
  SUM(unchanged) AS unchanged, SUM(reactivated) AS reactivated, SUM(deactivated) AS deactivated
FROM (
  SELECT segment, instrument_type, COUNT_BIG(*) AS active_before, CAST(0 AS bigint) AS added, CAST(0 AS bigint) AS updated,
    CAST(0 AS bigint) AS unchanged, CAST(0 AS bigint) AS reactivated, CAST(0 AS bigint) AS deactivated
  FROM ref.instruments WHERE is_active = 1 GROUP BY segment, instrument_type
  UNION ALL
  SELECT CASE WHEN s.has_data = 1 THEN s.segment ELSE c.segment END, CASE WHEN s.has_data = 1 THEN s.instrument_type ELSE c.instrument_type END, 0,
    ${sumIf('s.has_data = 1 AND c.instrument_key IS NULL')}, ${sumIf('s.has_data = 1 AND c.is_active = 1 AND c.row_hash <> s.row_hash')},
    ${sumIf('s.has_data = 0 OR (c.is_active = 1 AND c.row_hash = s.row_hash)')}, ${sumIf('s.has_data = 1 AND c.is_active = 0')}, 0
  FROM ${qualified(t)} s LEFT JOIN ref.instruments c ON c.instrument_key = s.instrument_key WHERE s.is_valid = 1
  GROUP BY CASE WHEN s.has_data = 1 THEN s.segment ELSE c.segment END, CASE WHEN s.has_data = 1 THEN s.instrument_type ELSE c.instrument_type END
  UNION ALL
  SELECT i.segment, i.instrument_type, 0, 0, 0, 0, 0, COUNT_BIG(*) FROM ref.instruments i WHERE i.is_active = 1 AND ${missing(t)} GROUP BY i.segment, i.instrument_type
) g GROUP BY segment, instrument_type`;
}

/** Changed and returning instruments are updated, new ones inserted; an unchanged row is not touched. */
export function upsertInstrumentsSql(t: TableRef, runId: string, now: Date): Statement {
  const sets = INSTRUMENT_COLUMNS.map((c) => `${c} = s.${c}`).join(', ');
  const cols = `instrument_key, ${INSTRUMENT_COLUMNS.join(', ')}, source_record, row_hash`;
  return {
    text: `UPDATE i SET ${sets}, source_record = s.source_record, row_hash = s.row_hash, is_active = 1, last_seen_at = @now, updated_at = @now,
  deactivated_at = NULL, last_sync_run_id = @run_id
FROM ref.instruments i JOIN ${qualified(t)} s ON s.instrument_key = i.instrument_key
WHERE s.has_data = 1 AND (i.row_hash <> s.row_hash OR i.is_active = 0);
INSERT INTO ref.instruments (${cols}, is_active, first_seen_at, last_seen_at, updated_at, deactivated_at, last_sync_run_id)
SELECT ${cols.split(', ').map((c) => `s.${c}`).join(', ')}, 1, @now, @now, @now, NULL, @run_id
FROM ${qualified(t)} s WHERE s.has_data = 1 AND NOT EXISTS (SELECT 1 FROM ref.instruments i WHERE i.instrument_key = s.instrument_key);`,
    params: { run_id: text(runId), now: datetime(now) },
  };
}

/** Soft delete of what today's file lacks; `previous` (the last successful apply) is when they were last seen. */
export function deactivateMissingSql(t: TableRef, runId: string, now: Date, previous: Date | null): Statement {
  return {
    text: `UPDATE i SET is_active = 0, deactivated_at = @now, updated_at = @now, last_sync_run_id = @run_id,
  last_seen_at = CASE WHEN @previous IS NOT NULL AND @previous > i.last_seen_at THEN @previous ELSE i.last_seen_at END
FROM ref.instruments i WHERE i.is_active = 1 AND ${missing(t)}`,
    params: { run_id: text(runId), now: datetime(now), previous: datetime(previous) },
  };
}

export const activeGroupsSql = 'SELECT segment, instrument_type, COUNT_BIG(*) AS active_after FROM ref.instruments WHERE is_active = 1 GROUP BY segment, instrument_type';

export interface RunOutcome {
  status: 'succeeded' | 'guard_tripped';
  counts: { activeBefore: number; added: number; updated: number; unchanged: number; deactivated: number; reactivated: number };
  activeAfter: number | null;
  bySegment: string;
  byType: string;
  guard: string;
  appliedAt: Date | null;
}

export function finishRunSql(runId: string, o: RunOutcome): Statement {
  const c = o.counts;
  return {
    text: `UPDATE ref.instrument_sync_runs SET status = @status, active_before = @active_before, added = @added, updated = @updated,
  unchanged = @unchanged, deactivated = @deactivated, reactivated = @reactivated, active_after = @active_after, by_segment = @by_segment,
  by_type = @by_type, guard = @guard, applied_at = @applied_at, finished_at = SYSUTCDATETIME(),
  duration_ms = DATEDIFF_BIG(millisecond, started_at, SYSUTCDATETIME()) WHERE run_id = @run_id`,
    params: {
      run_id: text(runId), status: text(o.status), active_before: bigint(c.activeBefore), added: bigint(c.added), updated: bigint(c.updated),
      unchanged: bigint(c.unchanged), deactivated: bigint(c.deactivated), reactivated: bigint(c.reactivated), active_after: bigint(o.activeAfter),
      by_segment: text(o.bySegment), by_type: text(o.byType), guard: text(o.guard), applied_at: datetime(o.appliedAt),
    },
  };
}

export function failRunSql(runId: string, status: string, message: string): Statement {
  return {
    text: `UPDATE ref.instrument_sync_runs SET status = @status, error_message = @message, finished_at = COALESCE(finished_at, SYSUTCDATETIME()),
  duration_ms = COALESCE(duration_ms, DATEDIFF_BIG(millisecond, started_at, SYSUTCDATETIME())) WHERE run_id = @run_id AND status <> N'succeeded'`,
    params: { run_id: text(runId), status: text(status), message: text(message.slice(0, 4000)) },
  };
}

const LAST_APPLIED = "(SELECT MAX(applied_at) FROM ref.instrument_sync_runs WHERE status = N'succeeded')";
const INSTRUMENT_SELECT_LIST = `instrument_key, ${INSTRUMENT_COLUMNS.filter((c) => c !== 'expiry').join(', ')},
  CONVERT(char(10), expiry, 23) AS expiry, is_active, source_record, first_seen_at, updated_at, deactivated_at,
  CASE WHEN is_active = 1 AND ${LAST_APPLIED} > last_seen_at THEN ${LAST_APPLIED} ELSE last_seen_at END AS last_seen_at`;

export function selectInstrumentSql(key: string): Statement {
  return { text: `SELECT ${INSTRUMENT_SELECT_LIST} FROM ref.instruments WHERE instrument_key = @key`, params: { key: text(key) } };
}

/** `LIKE` pattern for "contains" with `\` as escape: the user's %, _, [ and \ match themselves. */
export function containsPattern(s: string): string {
  return `%${s.replace(/[\\%_[]/g, (c) => `\\${c}`)}%`;
}

function whereOf(f: Omit<InstrumentFilter, 'limit' | 'offset'>): { where: string; params: Record<string, Param> } {
  const params: Record<string, Param> = {};
  const clauses: string[] = [];
  if (f.segment !== undefined) (clauses.push('segment = @segment'), (params.segment = text(f.segment)));
  if (f.instrumentType !== undefined) (clauses.push('instrument_type = @instrument_type'), (params.instrument_type = text(f.instrumentType)));
  if (f.nameContains !== undefined) (clauses.push("name LIKE @name ESCAPE N'\\'"), (params.name = text(containsPattern(f.nameContains))));
  if (f.expiryFrom !== undefined) (clauses.push('expiry >= CAST(@expiry_from AS date)'), (params.expiry_from = text(f.expiryFrom)));
  if (f.expiryTo !== undefined) (clauses.push('expiry <= CAST(@expiry_to AS date)'), (params.expiry_to = text(f.expiryTo)));
  if (f.active !== undefined) (clauses.push('is_active = @active'), (params.active = bit(f.active)));
  return { where: clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '', params };
}

export function listInstrumentsSql(f: InstrumentFilter): { count: Statement; page: Statement } {
  const { where, params } = whereOf(f);
  return {
    count: { text: `SELECT COUNT_BIG(*) AS n FROM ref.instruments${where}`, params },
    page: {
      text: `SELECT ${INSTRUMENT_SELECT_LIST} FROM ref.instruments${where} ORDER BY instrument_key OFFSET @offset ROWS FETCH NEXT @limit ROWS ONLY`,
      params: { ...params, offset: bigint(f.offset), limit: int(f.limit) },
    },
  };
}

export const statsSql = 'SELECT segment, instrument_type, is_active, COUNT_BIG(*) AS n FROM ref.instruments GROUP BY segment, instrument_type, is_active';
