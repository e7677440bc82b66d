// PostgreSQL text of the distribution-run store: the watermark claim, the run rows, and the export queries.
import type { DatasetRef, InstrumentExport, WatermarkRange } from '../distribution-runs';
import { CANCELLED_TAG, INSTRUMENT_FILE_COLUMNS, checkedWatermark, instrumentFileColumns } from '../distribution-runs';
import { qualified, quoteIdent } from './sql';

/** Serialises claims, so two runs never compute their ranges from the same chain at once. */
export const CLAIM_LOCK = 7233006;

/** Exact ISO 8601 UTC text (microseconds): a JS Date would round a watermark to milliseconds and lose rows. */
const iso = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
/** What the files print: second precision, UTC (the manifest says so). */
const stamp = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')`;

export const RUN_SELECT = `SELECT run_id, to_char(business_date, 'YYYY-MM-DD') AS business_date, kind, suffix, status, trigger, workflow_id,
  workflow_run_id, submission_id, ${iso('watermark_from')} AS wm_from, ${iso('watermark_to')} AS wm_to, watermark_committed,
  ${iso('generated_at')} AS generated, directory, files, delivery_ids, attempts, started_at, finished_at, error_message
FROM dist.distribution_runs`;

/**
 * A new run's range in one statement. from: the latest committed watermark of its chain (nightly: earlier business
 * dates; intraday: any run). to: the database clock, but never later than the start of a transaction still open in
 * this database (it stamps its rows with now(), its start, and commits later: a watermark past that start would skip
 * them for good), never past the start of a later date already sent, and never before from.
 * $1 run_id, $2 business_date, $3 kind, $4 suffix, $5 trigger, $6 workflow_id, $7 workflow_run_id, $8 submission_id, $9 directory.
 */
export const INSERT_CLAIM_SQL = `WITH chain AS (
  SELECT
    (SELECT max(watermark_to) FROM dist.distribution_runs
      WHERE watermark_committed AND ($3::text = 'delta' OR (kind = 'full' AND business_date < $2::date))) AS wm_from,
    CASE WHEN $3::text = 'full' THEN (SELECT min(COALESCE(watermark_from, 'epoch'::timestamptz)) FROM dist.distribution_runs
      WHERE watermark_committed AND kind = 'full' AND business_date > $2::date) END AS cap,
    LEAST(clock_timestamp(), (SELECT min(xact_start) FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND xact_start IS NOT NULL)) AS safe_to
)
INSERT INTO dist.distribution_runs (run_id, business_date, kind, suffix, status, trigger, workflow_id, workflow_run_id, submission_id,
  watermark_from, watermark_to, generated_at, directory)
SELECT $1, $2::date, $3::text, $4, 'running', $5, $6, $7, $8, wm_from, GREATEST(wm_from, LEAST(safe_to, cap)), clock_timestamp(), $9
FROM chain`;

/** A re-run keeps range, submission id and generated_at; a retried activity of the same run counts no new attempt. */
export const REUSE_CLAIM_SQL = `UPDATE dist.distribution_runs SET status = 'running', finished_at = NULL, error_message = NULL, trigger = $4,
  workflow_id = $2, directory = $5, attempts = attempts + CASE WHEN workflow_run_id IS DISTINCT FROM $3 THEN 1 ELSE 0 END, workflow_run_id = $3
WHERE run_id = $1`;

export const DATASETS_SQL = `SELECT c.schema_name, c.table_name, c.key_column FROM ref.reference_data_cfg c
WHERE c.is_active AND c.key_column IS NOT NULL AND NOT (c.schema_name = 'ref' AND c.table_name = 'instruments')
  AND EXISTS (SELECT 1 FROM information_schema.columns k
              WHERE k.table_schema = c.schema_name AND k.table_name = c.table_name AND k.column_name = c.key_column)
ORDER BY c.table_name, c.schema_name`;

export const DATASET_COLUMNS_SQL = `SELECT column_name FROM information_schema.columns
WHERE table_schema = $1 AND table_name = $2 AND column_name <> 'refdata_load_id' ORDER BY ordinal_position`;

const decimal = (c: string) => `trim_scale(${c})::text`;
const PRINTED: Record<(typeof INSTRUMENT_FILE_COLUMNS)[number], string> = {
  instrument_key: 'instrument_key', segment: 'segment', exchange: 'exchange', instrument_type: 'instrument_type', name: 'name',
  trading_symbol: 'trading_symbol', isin: 'isin', expiry: `to_char(expiry, 'YYYY-MM-DD')`, strike_price: decimal('strike_price'),
  lot_size: decimal('lot_size'), tick_size: decimal('tick_size'), freeze_quantity: decimal('freeze_quantity'), underlying_key: 'underlying_key',
  option_type: 'option_type', weekly: 'weekly::text', first_seen_at: stamp('first_seen_at'), updated_at: stamp('updated_at'),
};

const at = (w: string) => `'${checkedWatermark(w)}'::timestamptz`;

/** `column >= from AND column < to`, without the lower bound for a first run. */
function inRange(column: string, r: WatermarkRange): string {
  return `${r.from === null ? `${column} IS NOT NULL` : `${column} >= ${at(r.from)}`} AND ${column} < ${at(r.to)}`;
}

/** The SELECT of one instrument file; every column is text, printed by the database. Watermarks are checked literals. */
export function instrumentExportSql(type: InstrumentExport, r: WatermarkRange): { sql: string; columns: string[] } {
  const columns = instrumentFileColumns(type);
  const exprs = INSTRUMENT_FILE_COLUMNS.map((c) => (PRINTED[c] === c ? c : `${PRINTED[c]} AS ${c}`));
  let select: string[];
  let where: string;
  if (type === 'full') {
    select = exprs;
    where = 'is_active';
  } else if (type === 'delta') {
    const change = r.from === null ? `'ADDED'` : `CASE WHEN first_seen_at >= ${at(r.from)} THEN 'ADDED' ELSE 'CHANGED' END`;
    select = [`${change} AS change`, ...exprs];
    where = `is_active AND ${inRange('updated_at', r)}`;
  } else {
    select = [...exprs, `${stamp('deactivated_at')} AS deactivated_at`, `'${CANCELLED_TAG}' AS tag`];
    where = `NOT is_active AND ${inRange('deactivated_at', r)}`;
  }
  return { sql: `SELECT ${select.join(', ')} FROM ref.instruments WHERE ${where} ORDER BY instrument_key`, columns };
}

/** Every column as text (so values print as the SQL Server export prints them), ordered by the key and then the rest for a stable order. */
export function datasetExportSql(d: DatasetRef, columns: string[]): string {
  const rest = columns.filter((c) => c !== d.keyColumn).map(quoteIdent);
  return `SELECT ${columns.map((c) => `${quoteIdent(c)}::text AS ${quoteIdent(c)}`).join(', ')} FROM ${qualified(d.table)} ORDER BY ${[quoteIdent(d.keyColumn), ...rest].join(', ')}`;
}

export const copyOutSql = (select: string) => `COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER true)`;

/** One page of invalid records after `afterId`: $1 to, $2 after id, $3 page size (+ $4 from). */
export function invalidPageSql(r: WatermarkRange): string {
  const lower = r.from === null ? '' : ' AND created_at >= $4::timestamptz';
  return `SELECT id, source, source_ref, record_id, row_number, errors, ${stamp('created_at')} AS created
FROM ref.invalid_records WHERE created_at < $1::timestamptz${lower} AND id > $2 ORDER BY id LIMIT $3`;
}
