// Narrows result rows of ref.instrument_sync_runs and ref.instruments (either dialect) into the port's records, once.
import { z } from 'zod';
import type { InstrumentRecord, InstrumentStats } from './instruments';
import { NONE_LABEL } from '../instruments/report';
import type { BreakdownCounts, GuardResult, InstrumentSyncReport } from '../instruments/types';

/** bigint and numeric arrive as text (so they cannot lose digits); our counts and prices fit in a double. */
const num = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/), z.bigint()]).transform(Number);
const count = num.nullable().transform((v) => v ?? 0);
const optionalNum = num.nullable();
const text = z.string().nullable();
/** node-postgres and tedious give Date; a string (ISO) is accepted too. */
const time = z.union([z.date(), z.string()]).transform((v) => new Date(v).toISOString());
const bool = z.union([z.boolean(), z.number()]).transform(Boolean);

function parseJson<T>(v: string | null, fallback: T): T {
  if (v === null) return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

const runRow = z.object({
  run_id: z.string(),
  workflow_id: z.string(),
  trigger: z.enum(['manual', 'schedule', 'api', 'cli']),
  source: z.string(),
  status: z.enum(['running', 'staged', 'succeeded', 'failed', 'guard_tripped', 'cancelled', 'timed_out']),
  forced: bool,
  file_format: z.enum(['json-array', 'ndjson', 'csv']).nullable(),
  file_bytes: optionalNum,
  file_sha256: text,
  records_read: count,
  invalid_records: count,
  duplicates: count,
  active_before: optionalNum,
  active_after: optionalNum,
  added: optionalNum,
  updated: optionalNum,
  unchanged: optionalNum,
  deactivated: optionalNum,
  reactivated: optionalNum,
  by_segment: text,
  by_type: text,
  guard: text,
  error_message: text,
  started_at: time,
  finished_at: time.nullable(),
  duration_ms: optionalNum,
});

export function reportFromRow(row: unknown): InstrumentSyncReport {
  const r = runRow.parse(row);
  return {
    runId: r.run_id,
    workflowId: r.workflow_id,
    status: r.status,
    trigger: r.trigger,
    forced: r.forced,
    source: r.source,
    format: r.file_format,
    fileBytes: r.file_bytes,
    fileSha256: r.file_sha256?.trim() ?? null,
    records: r.records_read,
    invalid: r.invalid_records,
    duplicates: r.duplicates,
    activeBefore: r.active_before,
    activeAfter: r.active_after,
    added: r.added,
    updated: r.updated,
    unchanged: r.unchanged,
    deactivated: r.deactivated,
    reactivated: r.reactivated,
    bySegment: parseJson<Record<string, BreakdownCounts>>(r.by_segment, {}),
    byType: parseJson<Record<string, BreakdownCounts>>(r.by_type, {}),
    guard: parseJson<GuardResult | null>(r.guard, null),
    errorMessage: r.error_message,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms,
  };
}

const instrumentRow = z.object({
  instrument_key: z.string(),
  segment: text,
  exchange: text,
  instrument_type: text,
  name: text,
  trading_symbol: text,
  isin: text,
  expiry: text,
  strike_price: optionalNum,
  lot_size: optionalNum,
  tick_size: optionalNum,
  freeze_quantity: optionalNum,
  underlying_key: text,
  option_type: text,
  weekly: bool.nullable(),
  is_active: bool,
  source_record: z.unknown(),
  first_seen_at: time,
  last_seen_at: time,
  updated_at: time,
  deactivated_at: time.nullable(),
});

export function instrumentFromRow(row: unknown): InstrumentRecord {
  const r = instrumentRow.parse(row);
  return {
    instrumentKey: r.instrument_key,
    segment: r.segment,
    exchange: r.exchange,
    instrumentType: r.instrument_type,
    name: r.name,
    tradingSymbol: r.trading_symbol,
    isin: r.isin,
    expiry: r.expiry,
    strikePrice: r.strike_price,
    lotSize: r.lot_size,
    tickSize: r.tick_size,
    freezeQuantity: r.freeze_quantity,
    underlyingKey: r.underlying_key,
    optionType: r.option_type,
    weekly: r.weekly,
    isActive: r.is_active,
    // SQL Server keeps the record as text; PostgreSQL's jsonb arrives parsed.
    sourceRecord: typeof r.source_record === 'string' ? parseJson<unknown>(r.source_record, r.source_record) : r.source_record,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    updatedAt: r.updated_at,
    deactivatedAt: r.deactivated_at,
  };
}

/** Counts of grouped rows (segment, instrument_type and count columns) as numbers. */
export function groupFromRow(row: Record<string, unknown>): { segment: string | null; instrumentType: string | null } & Partial<BreakdownCounts> {
  const n = (v: unknown) => (v === undefined || v === null ? undefined : Number(v));
  return {
    segment: (row.segment as string | null) ?? null,
    instrumentType: (row.instrument_type as string | null) ?? null,
    activeBefore: n(row.active_before),
    activeAfter: n(row.active_after),
    added: n(row.added),
    updated: n(row.updated),
    unchanged: n(row.unchanged),
    reactivated: n(row.reactivated),
    deactivated: n(row.deactivated),
  };
}

/** Folds (segment, type, active, count) rows into the stats answer. */
export function statsOf(rows: { segment: string | null; instrumentType: string | null; active: boolean; n: number }[], lastSync: InstrumentSyncReport | null): InstrumentStats {
  const bySegment: Record<string, { active: number; inactive: number }> = {};
  const byType: Record<string, { active: number; inactive: number }> = {};
  let active = 0;
  let inactive = 0;
  for (const r of rows) {
    for (const [map, label] of [[bySegment, r.segment ?? NONE_LABEL], [byType, r.instrumentType ?? NONE_LABEL]] as const) {
      const c = (map[label] ??= { active: 0, inactive: 0 });
      if (r.active) c.active += r.n;
      else c.inactive += r.n;
    }
    if (r.active) active += r.n;
    else inactive += r.n;
  }
  return { total: active + inactive, active, inactive, bySegment, byType, lastSync };
}
