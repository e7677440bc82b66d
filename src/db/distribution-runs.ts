// The distribution-run store: claims a run's watermark range, records its files and deliveries, and streams the
// exports (full, delta, cancellation, invalid, other datasets) from one snapshot. Intentions only; each dialect owns
// its SQL. Watermarks are the database clock, carried as exact ISO 8601 UTC text (microseconds or finer).
import type { TableRef } from './types';
import type { DistributionFileType, DistributionKind } from '../distribution/file-names';

export type DistributionRunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
/** `change`: an intraday delta that a sync or load which changed rows asked for (workflows/intraday-deltas.ts). */
export type DistributionTrigger = 'schedule' | 'api' | 'cli' | 'retry' | 'change';

/** One file of a run, as recorded and as the manifest lists it. */
export interface RunFile {
  name: string;
  type: DistributionFileType;
  dataset: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** [from, to): `from` null means "since the beginning" (the first run of a chain). */
export interface WatermarkRange {
  from: string | null;
  to: string;
}

export interface DistributionRun {
  /** The run key and file stem: `20250621` (nightly) or `20250621T143015` (intraday delta). */
  runId: string;
  /** yyyy-MM-dd */
  businessDate: string;
  kind: DistributionKind;
  suffix: string | null;
  status: DistributionRunStatus;
  trigger: DistributionTrigger;
  workflowId: string;
  workflowRunId: string | null;
  submissionId: string;
  watermark: WatermarkRange;
  /** True once the run has succeeded: only then does the next run of its chain start from its watermark. */
  watermarkCommitted: boolean;
  /** Database time of the first claim, ISO 8601 UTC; the manifest's generated_at (stable across re-runs). */
  generatedAt: string;
  directory: string | null;
  files: RunFile[];
  deliveryIds: string[];
  attempts: number;
  startedAt: string;
  finishedAt: string | null;
  errorMessage: string | null;
}

export interface ClaimRunInput {
  runId: string;
  businessDate: string;
  kind: DistributionKind;
  suffix: string | null;
  trigger: DistributionTrigger;
  workflowId: string;
  workflowRunId: string;
  /** Used only when the run is new; a re-run keeps the stored one. */
  submissionId: string;
  directory: string;
}

export type InstrumentExport = 'full' | 'delta' | 'cancellation';

/** An invalid record as the invalid file needs it; `createdAt` is `YYYY-MM-DD HH:mm:ss` UTC. */
export interface InvalidRecordRow {
  id: number;
  source: string;
  sourceRef: string | null;
  recordId: string | null;
  rowNumber: number | null;
  /** JSON text as stored (an array of messages). */
  errors: string;
  createdAt: string;
}

/** Another reference table distributed as a dataset: a ref.reference_data_cfg row with a key column. */
export interface DatasetRef {
  name: string;
  table: TableRef;
  keyColumn: string;
}

/** Receives one export's bytes as they stream from the database; resolves once they are all written. */
export type ChunkSink = (chunks: AsyncIterable<Buffer>) => Promise<void>;

/** Exports read inside one snapshot, so the files of a run agree with each other. */
export interface DistributionSnapshot {
  /** One instrument file (CSV, header first, ordered by instrument_key) into `sink`; returns its data rows. */
  exportInstruments(type: InstrumentExport, range: WatermarkRange, sink: ChunkSink): Promise<number>;
  /** Every row of a dataset (CSV, header first, ordered by its key column); returns its data rows. */
  exportDataset(dataset: DatasetRef, sink: ChunkSink): Promise<number>;
  /** Invalid records created in the range, in id order, a page at a time. */
  invalidRecords(range: WatermarkRange, pageSize?: number): AsyncIterable<InvalidRecordRow[]>;
}

export interface RunFilter {
  businessDate?: string;
  status?: DistributionRunStatus;
  limit: number;
}

export interface DistributionRunStore {
  /**
   * Returns the run with this id, or creates it: in one serialised transaction the watermark range is taken from the
   * database clock (see docs/distribution.md: never later than the start of a transaction still open) and the chain
   * (the latest committed run before it). An existing run is reused as it is (range, submission id, generated_at),
   * so a re-run neither moves the watermark nor changes what the files say; its attempt count goes up.
   */
  claimRun(input: ClaimRunInput): Promise<{ run: DistributionRun; reused: boolean }>;
  recordFiles(runId: string, files: RunFile[]): Promise<void>;
  recordDeliveries(runId: string, deliveryIds: string[]): Promise<void>;
  /** Ends the attempt; success also commits the watermark (once, for good). */
  finishRun(runId: string, outcome: { status: 'succeeded' } | { status: 'failed' | 'cancelled'; message: string }): Promise<DistributionRun | null>;
  getRun(runId: string): Promise<DistributionRun | null>;
  listRuns(filter: RunFilter): Promise<DistributionRun[]>;
  /** Active reference tables with a key column, other than the instrument master. */
  listDatasets(): Promise<DatasetRef[]>;
  /** Runs `fn` over one consistent, read-only snapshot. */
  withSnapshot<T>(fn: (snapshot: DistributionSnapshot) => Promise<T>): Promise<T>;
}

const WATERMARK = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$/;

/** Watermarks are inlined into COPY text (it takes no parameters): only this exact shape gets there. */
export function checkedWatermark(value: string): string {
  if (!WATERMARK.test(value)) throw new Error(`not a watermark: ${JSON.stringify(value)} (expected YYYY-MM-DDTHH:MM:SS.ffffffZ)`);
  return value;
}

/** The columns of the instrument files, in order; each dialect says how it prints each one. */
export const INSTRUMENT_FILE_COLUMNS = [
  'instrument_key', 'segment', 'exchange', 'instrument_type', 'name', 'trading_symbol', 'isin', 'expiry', 'strike_price', 'lot_size',
  'tick_size', 'freeze_quantity', 'underlying_key', 'option_type', 'weekly', 'first_seen_at', 'updated_at',
] as const;

/** Header of each instrument file: delta says what happened, cancellation when and its tag. */
export function instrumentFileColumns(type: InstrumentExport): string[] {
  if (type === 'delta') return ['change', ...INSTRUMENT_FILE_COLUMNS];
  if (type === 'cancellation') return [...INSTRUMENT_FILE_COLUMNS, 'deactivated_at', 'tag'];
  return [...INSTRUMENT_FILE_COLUMNS];
}

/** The tag every cancellation row carries (the original plan's `record.tag = "Cancelled"`). */
export const CANCELLED_TAG = 'Cancelled';
