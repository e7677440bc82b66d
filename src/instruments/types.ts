// The shapes the instrument sync passes around: a validated instrument, an invalid record, a run's report.
// Pure types, free of Node APIs, so the workflow may import them.

/** Layout of the broker's file, detected from its first bytes (after gunzip), never from its name. */
export type SourceFormat = 'json-array' | 'ndjson' | 'csv';

/** What the guard counts: equity derivatives (F&O), equities, and everything else (indices, MCX, currency…). */
export type InstrumentCategory = 'fno' | 'equity' | 'other';

/** One instrument as it goes into the database: typed common fields plus the full source record. */
export interface Instrument {
  instrumentKey: string;
  segment: string | null;
  exchange: string | null;
  instrumentType: string | null;
  name: string | null;
  tradingSymbol: string | null;
  isin: string | null;
  /** yyyy-MM-dd (the expiry date in India, whatever form the source used). */
  expiry: string | null;
  strikePrice: number | null;
  lotSize: number | null;
  tickSize: number | null;
  freezeQuantity: number | null;
  underlyingKey: string | null;
  optionType: string | null;
  weekly: boolean | null;
  category: InstrumentCategory;
  /** SHA-256 (hex) of the canonical record without volatile fields: equal hash = nothing to write. */
  rowHash: string;
  /** The whole source record as canonical JSON (keys sorted). */
  sourceRecord: string;
}

/** A record that failed validation; `instrumentKey` is set when the record at least named its instrument. */
export interface InvalidInstrument {
  rowNumber: number;
  instrumentKey: string | null;
  rawText: string;
  errors: string[];
}

/**
 * A row of a run's staging table. `full`: a new, changed or returning instrument, with everything to write.
 * `unchanged`: equal (by row hash) to the active stored row, so only its key, hash, category, segment and
 * instrument type are staged (those equal the stored ones, as the hash covers them).
 * `invalid`: only the key of an invalid record: the instrument is still in today's file, so it must not be
 * deactivated, but its bad values must not be written either.
 */
export type StagedRow =
  | { kind: 'full'; rowNumber: number; instrument: Instrument }
  | { kind: 'unchanged'; rowNumber: number; instrumentKey: string; rowHash: string; category: InstrumentCategory; segment: string | null; instrumentType: string | null }
  | { kind: 'invalid'; rowNumber: number; instrumentKey: string };

/** What the store holds for a key today: enough to tell an unchanged record without validating it again. */
export interface StoredVersion {
  rowHash: string;
  isActive: boolean;
}

/** Counts of one segment or one instrument type in a run's report. */
export interface BreakdownCounts {
  activeBefore: number;
  activeAfter: number;
  added: number;
  updated: number;
  unchanged: number;
  reactivated: number;
  deactivated: number;
}

export interface GuardPolicy {
  /** Share (0..1) of active instruments a run may deactivate. */
  maxDeactivateShare: number;
  minEquities: number;
  requireFno: boolean;
}

export interface GuardInput {
  activeBefore: number;
  wouldDeactivate: number;
  fno: number;
  equities: number;
}

export interface GuardResult extends GuardInput {
  tripped: boolean;
  /** Operator-facing reasons, empty when the guard passes. */
  reasons: string[];
  /** True when the run was forced past reasons that would have stopped it. */
  bypassed: boolean;
}

export type SyncRunStatus = 'running' | 'staged' | 'succeeded' | 'failed' | 'guard_tripped' | 'cancelled' | 'timed_out';
export type SyncTrigger = 'manual' | 'schedule' | 'api' | 'cli';

/** The report of one sync run: stored in ref.instrument_sync_runs, returned by the workflow, shown by CLI and API. */
export interface InstrumentSyncReport {
  runId: string;
  workflowId: string;
  status: SyncRunStatus;
  trigger: SyncTrigger;
  forced: boolean;
  source: string;
  format: SourceFormat | null;
  fileBytes: number | null;
  fileSha256: string | null;
  /** Records read from the file: valid + invalid (duplicates included). */
  records: number;
  invalid: number;
  duplicates: number;
  activeBefore: number | null;
  activeAfter: number | null;
  added: number | null;
  updated: number | null;
  unchanged: number | null;
  deactivated: number | null;
  reactivated: number | null;
  bySegment: Record<string, BreakdownCounts>;
  byType: Record<string, BreakdownCounts>;
  guard: GuardResult | null;
  errorMessage: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}
