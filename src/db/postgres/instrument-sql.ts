// PostgreSQL text for the instrument store: staging DDL, COPY rows, the apply statements and the read queries.
import type { TableRef } from '../types';
import type { InstrumentFilter } from '../instruments';
import type { InvalidInstrument, StagedRow } from '../../instruments/types';
import { qualified } from './sql';
import type { SqlValue } from './executor';

/** Columns shared by a staging table and ref.instruments, in COPY order after the staging-only ones. */
export const INSTRUMENT_COLUMNS = [
  'segment', 'exchange', 'instrument_type', 'name', 'trading_symbol', 'isin', 'expiry', 'strike_price', 'lot_size', 'tick_size',
  'freeze_quantity', 'underlying_key', 'option_type', 'weekly',
] as const;
const STAGING_COLUMNS = ['row_number', 'instrument_key', 'is_valid', 'has_data', 'category', 'row_hash', ...INSTRUMENT_COLUMNS, 'source_record'];

/**
 * Unlogged: staging is rebuilt from the downloaded file if a database crash empties it (openStaging checks), so
 * it need not pay for WAL. No indexes: every query over it is one hash join or aggregate. `has_data` is false for
 * rows staged by key only (unchanged instruments, keys of invalid records); source_record is jsonb so the JSON
 * is parsed while batches stream in, not inside the apply transaction.
 */
export function createStagingSql(t: TableRef): string {
  return `CREATE UNLOGGED TABLE IF NOT EXISTS ${qualified(t)} (
  row_number bigint NOT NULL, instrument_key varchar(255) NOT NULL, is_valid boolean NOT NULL, has_data boolean NOT NULL, category varchar(10),
  row_hash char(64), segment varchar(50), exchange varchar(50), instrument_type varchar(50), name varchar(500),
  trading_symbol varchar(255), isin varchar(50), expiry date, strike_price numeric(20,6), lot_size numeric(20,6),
  tick_size numeric(20,6), freeze_quantity numeric(20,6), underlying_key varchar(255), option_type varchar(10), weekly boolean,
  source_record jsonb)`;
}

export const copyStagingSql = (t: TableRef) => `COPY ${qualified(t)} (${STAGING_COLUMNS.join(', ')}) FROM STDIN`;
/** Rows staged by key (unchanged instruments, keys of invalid records): the other columns stay NULL. */
export const copyStagedKeysSql = (t: TableRef) => `COPY ${qualified(t)} (row_number, instrument_key, is_valid, has_data, category, segment, instrument_type) FROM STDIN`;
export const copyInvalidSql = 'COPY ref.invalid_records (source, source_ref, record_id, row_number, raw_text, errors) FROM STDIN';

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** A value in COPY's text format: tab-separated, `\N` for NULL, backslash escapes. */
function field(v: string | number | boolean | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  const s = typeof v === 'number' ? String(v) : v;
  return NEEDS_ESCAPE.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : s;
}

/** Pieces of a batch's COPY text (module-level: reused, and filled and joined without an await between). */
const COPY_PARTS: string[] = [];

/** COPY text of the rows staged in full (new, changed and returning instruments), joined once for the batch. */
export function stagedRowsCopyText(rows: Extract<StagedRow, { kind: 'full' }>[]): string {
  const parts = COPY_PARTS;
  let n = 0;
  for (const { rowNumber, instrument: i } of rows) {
    const values = [
      rowNumber, i.instrumentKey, true, true, i.category, i.rowHash, i.segment, i.exchange, i.instrumentType, i.name, i.tradingSymbol, i.isin,
      i.expiry, i.strikePrice, i.lotSize, i.tickSize, i.freezeQuantity, i.underlyingKey, i.optionType, i.weekly, i.sourceRecord,
    ];
    for (let k = 0; k < values.length; k++) {
      parts[n++] = field(values[k] ?? null);
      parts[n++] = k === values.length - 1 ? '\n' : '\t';
    }
  }
  parts.length = n;
  const text = parts.join('');
  parts.length = 0;
  return text;
}

/** COPY text of the rows staged by key (see copyStagedKeysSql); an unchanged row needs no hash, as the apply counts it by has_data = false. */
export function stagedKeysCopyText(rows: Exclude<StagedRow, { kind: 'full' }>[]): string {
  const lines = rows.map((r) =>
    r.kind === 'invalid'
      ? `${r.rowNumber}\t${field(r.instrumentKey)}\tf\tf\t\\N\t\\N\t\\N`
      : `${r.rowNumber}\t${field(r.instrumentKey)}\tt\tf\t${r.category}\t${field(r.segment)}\t${field(r.instrumentType)}`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * $1: the keys as a JSON array (any characters, one parameter). `= ANY(array)` reads the primary key index in key
 * order (one pass over the pages), where a join probed it in file order: ~4× faster for a batch of 5,000.
 */
export const storedVersionsSql =
  'SELECT i.instrument_key, i.row_hash, i.is_active FROM ref.instruments i WHERE i.instrument_key = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))';

export function invalidCopyText(source: string, runId: string, invalid: InvalidInstrument[]): string {
  const lines = invalid.map((r) => [source, runId, r.instrumentKey, r.rowNumber, r.rawText.replace(/\u0000/g, '\uFFFD'), JSON.stringify(r.errors)].map(field).join('\t'));
  return `${lines.join('\n')}\n`;
}

/** Later occurrences of a key leave staging; the valid ones among them become invalid records. */
export function moveDuplicatesSql(t: TableRef): string {
  return `WITH firsts AS (
  SELECT instrument_key, min(row_number) AS first_row FROM ${qualified(t)} GROUP BY instrument_key HAVING count(*) > 1
), dups AS (
  DELETE FROM ${qualified(t)} s USING firsts f WHERE s.instrument_key = f.instrument_key AND s.row_number > f.first_row
  RETURNING s.instrument_key, s.row_number, s.is_valid, s.source_record, f.first_row
), ins AS (
  INSERT INTO ref.invalid_records (source, source_ref, record_id, row_number, raw_text, errors)
  SELECT $2, $1, instrument_key, row_number, source_record::text,
         json_build_array('instrument_key ' || instrument_key || ' appears more than once in the file (first at record ' || first_row || ')')::text
  FROM dups WHERE is_valid
  RETURNING 1
)
SELECT (SELECT count(*) FROM dups) AS duplicates, (SELECT count(*) FROM ins) AS newly_invalid`;
}

/** The guard's view of today's file: valid F&O instruments and equities in staging. */
export function stagedCategoriesSql(t: TableRef): string {
  return `SELECT count(*) FILTER (WHERE category = 'fno') AS fno, count(*) FILTER (WHERE category = 'equity') AS equities
FROM ${qualified(t)} WHERE is_valid`;
}

/**
 * Per (segment, type): active before, and what each staged instrument will be (added / updated / unchanged /
 * reactivated). A key-only row is unchanged by construction and carries the stored segment and type, so only
 * rows with data are compared with ref.instruments (a row staged by an older release has no segment: the join
 * fills it in).
 */
export function plannedGroupsSql(t: TableRef): string {
  return `SELECT segment, instrument_type, sum(active_before) AS active_before, sum(added) AS added, sum(updated) AS updated,
       sum(unchanged) AS unchanged, sum(reactivated) AS reactivated, sum(deactivated) AS deactivated
FROM (
  SELECT segment, instrument_type, count(*) AS active_before, 0 AS added, 0 AS updated, 0 AS unchanged, 0 AS reactivated, 0 AS deactivated
  FROM ref.instruments WHERE is_active GROUP BY 1, 2
  UNION ALL
  SELECT COALESCE(s.segment, c.segment), COALESCE(s.instrument_type, c.instrument_type), 0, 0, 0, count(*), 0, 0
  FROM ${qualified(t)} s LEFT JOIN ref.instruments c ON s.segment IS NULL AND s.instrument_type IS NULL AND c.instrument_key = s.instrument_key
  WHERE s.is_valid AND NOT s.has_data GROUP BY 1, 2
  UNION ALL
  SELECT s.segment, s.instrument_type, 0,
         count(*) FILTER (WHERE c.instrument_key IS NULL),
         count(*) FILTER (WHERE c.is_active AND c.row_hash <> s.row_hash),
         count(*) FILTER (WHERE c.is_active AND c.row_hash = s.row_hash),
         count(*) FILTER (WHERE NOT c.is_active), 0
  FROM ${qualified(t)} s LEFT JOIN ref.instruments c ON c.instrument_key = s.instrument_key WHERE s.is_valid AND s.has_data GROUP BY 1, 2
  UNION ALL
  SELECT i.segment, i.instrument_type, 0, 0, 0, 0, 0, count(*)
  FROM ref.instruments i WHERE i.is_active AND NOT EXISTS (SELECT 1 FROM ${qualified(t)} s WHERE s.instrument_key = i.instrument_key) GROUP BY 1, 2
) g GROUP BY 1, 2`;
}

const setList = INSTRUMENT_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ');

/** New, changed and returning instruments only: an unchanged row is neither written nor locked. $1 = run id. */
export function upsertInstrumentsSql(t: TableRef): string {
  return `INSERT INTO ref.instruments AS i (instrument_key, ${INSTRUMENT_COLUMNS.join(', ')}, source_record, row_hash, is_active,
  first_seen_at, last_seen_at, updated_at, deactivated_at, last_sync_run_id)
SELECT s.instrument_key, ${INSTRUMENT_COLUMNS.map((c) => `s.${c}`).join(', ')}, s.source_record, s.row_hash, true,
  now(), now(), now(), NULL, $1
FROM ${qualified(t)} s LEFT JOIN ref.instruments c ON c.instrument_key = s.instrument_key
WHERE s.has_data AND (c.instrument_key IS NULL OR c.row_hash <> s.row_hash OR NOT c.is_active)
ON CONFLICT (instrument_key) DO UPDATE SET ${setList}, source_record = EXCLUDED.source_record, row_hash = EXCLUDED.row_hash,
  is_active = true, last_seen_at = EXCLUDED.last_seen_at, updated_at = EXCLUDED.updated_at, deactivated_at = NULL,
  last_sync_run_id = EXCLUDED.last_sync_run_id`;
}

/**
 * Soft delete of everything active that today's file lacks (a key of an invalid record counts as present).
 * $2 = when the previous successful sync applied: the last time these instruments were seen.
 */
export function deactivateMissingSql(t: TableRef): string {
  return `UPDATE ref.instruments i SET is_active = false, deactivated_at = now(), updated_at = now(),
  last_seen_at = GREATEST(i.last_seen_at, COALESCE($2::timestamptz, i.last_seen_at)), last_sync_run_id = $1
WHERE i.is_active AND NOT EXISTS (SELECT 1 FROM ${qualified(t)} s WHERE s.instrument_key = i.instrument_key)`;
}

/** $1 run id, $2..$7 active_before, added, updated, unchanged, deactivated, reactivated, $8 by_segment, $9 by_type, $10 guard. */
export const recordGuardTrippedSql = `UPDATE ref.instrument_sync_runs SET status = 'guard_tripped', active_before = $2, added = $3, updated = $4,
  unchanged = $5, deactivated = $6, reactivated = $7, by_segment = $8, by_type = $9, guard = $10, finished_at = clock_timestamp(),
  duration_ms = floor(extract(epoch FROM clock_timestamp() - started_at) * 1000) WHERE run_id = $1 RETURNING *`;

/** As recordGuardTrippedSql, and $11 active_after; applied_at is the apply transaction's time. */
export const recordSucceededSql = `UPDATE ref.instrument_sync_runs SET status = 'succeeded', active_before = $2, added = $3, updated = $4,
  unchanged = $5, deactivated = $6, reactivated = $7, by_segment = $8, by_type = $9, guard = $10, active_after = $11, applied_at = now(),
  finished_at = clock_timestamp(), duration_ms = floor(extract(epoch FROM clock_timestamp() - started_at) * 1000) WHERE run_id = $1 RETURNING *`;

/**
 * The last successful run, if it read the file with SHA-256 $1 and no instrument changed after it applied (every
 * write of a sync sets updated_at to its apply time). Its guard JSON says whether it was forced past the guard.
 */
export const identicalLastRunSql = `SELECT p.* FROM ref.instrument_sync_runs p
WHERE p.status = 'succeeded' AND p.file_sha256 = $1
  AND p.applied_at = (SELECT max(applied_at) FROM ref.instrument_sync_runs WHERE status = 'succeeded')
  AND NOT EXISTS (SELECT 1 FROM ref.instruments i WHERE i.updated_at > p.applied_at)
LIMIT 1`;

/** $1 the run, $2 the earlier run whose invalid records (same file, same reasons) it takes over, $3 the source. */
export const copyInvalidRecordsSql = `INSERT INTO ref.invalid_records (source, source_ref, record_id, row_number, raw_text, errors)
SELECT source, $1, record_id, row_number, raw_text, errors FROM ref.invalid_records WHERE source = $3 AND source_ref = $2`;

export const activeGroupsSql = 'SELECT segment, instrument_type, count(*) AS active_after FROM ref.instruments WHERE is_active GROUP BY 1, 2';

/** The last time any sync confirmed the active set. */
const LAST_APPLIED = `(SELECT max(applied_at) FROM ref.instrument_sync_runs WHERE status = 'succeeded')`;

export const INSTRUMENT_SELECT = `SELECT instrument_key, ${INSTRUMENT_COLUMNS.filter((c) => c !== 'expiry').join(', ')},
  to_char(expiry, 'YYYY-MM-DD') AS expiry, is_active, source_record, first_seen_at, updated_at, deactivated_at,
  CASE WHEN is_active THEN GREATEST(last_seen_at, COALESCE(${LAST_APPLIED}, last_seen_at)) ELSE last_seen_at END AS last_seen_at
FROM ref.instruments`;

/** `LIKE` pattern for "contains": the user's %, _ and \ match themselves. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function instrumentWhere(f: Omit<InstrumentFilter, 'limit' | 'offset'>): { where: string; params: SqlValue[] } {
  const params: SqlValue[] = [];
  const clauses: string[] = [];
  if (f.segment !== undefined) clauses.push(`segment = $${params.push(f.segment)}`);
  if (f.instrumentType !== undefined) clauses.push(`instrument_type = $${params.push(f.instrumentType)}`);
  if (f.nameContains !== undefined) clauses.push(`name ILIKE $${params.push(containsPattern(f.nameContains))}`);
  if (f.expiryFrom !== undefined) clauses.push(`expiry >= $${params.push(f.expiryFrom)}::date`);
  if (f.expiryTo !== undefined) clauses.push(`expiry <= $${params.push(f.expiryTo)}::date`);
  if (f.active !== undefined) clauses.push(`is_active = $${params.push(f.active)}`);
  return { where: clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '', params };
}
