// The database port: intentions the activities need, implemented by each dialect (PostgreSQL, SQL Server)
// and by the embedded default (a PostgreSQL server from npm, through the PostgreSQL dialect). No query strings cross this line.
import type { InstrumentStore } from './instruments';
import type { DistributionStore } from './distribution';
import type { OutboxStore } from './outbox';
import type { CatalogStore } from './catalog';
import type { FailureStore } from './failures';
import type { ChartStore } from './charts';
import type { DistributionRunStore } from './distribution-runs';
import type { RetentionStore } from './retention';
import type { NotificationStore } from './notifications';

/** Column types refdata creates; each dialect maps them to its own SQL types. */
export type ColumnType =
  | { kind: 'integer' }
  | { kind: 'bigint' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'boolean' }
  | { kind: 'date' }
  | { kind: 'datetime' }
  | { kind: 'text'; maxLength?: number };

export interface ColumnSpec {
  /** Normalised, safe identifier (lowercase, [a-z0-9_], not starting with a digit). */
  name: string;
  type: ColumnType;
}

/** A column as it exists in the database. */
export interface TableColumn {
  name: string;
  /** The dialect's type name as reported by its catalog, e.g. `integer`, `numeric(10,2)`, `nvarchar(50)`. */
  dataType: string;
  nullable: boolean;
}

export interface TableRef {
  schema: string;
  name: string;
}

export type LoadMode = 'fullload' | 'append';
/** A drop's phase while it runs (waiting → planning → loading → finishing), then its outcome. */
export type FileStatus = 'waiting' | 'planning' | 'loading' | 'finishing' | 'loaded' | 'error' | 'cancelled' | 'duplicate' | 'vanished';

/**
 * One row of ref.file_monitor_tracking, the audit ledger of dropped files: one row per drop (the workflow run that
 * handled it), so a path dropped again keeps its earlier rows; the newest row of a path is its current state.
 */
export interface TrackingRecord {
  id: number;
  filePath: string;
  fileName: string;
  fileSize: number | null;
  fileHash: string | null;
  loadType: LoadMode | null;
  tableName: string | null;
  detectedDelimiter: string | null;
  detectedHeaders: string[] | null;
  isReferenceData: boolean | null;
  referenceConfigInserted: boolean;
  status: FileStatus;
  createdAt: Date;
  processedAt: Date | null;
  errorMessage: string | null;
  workflowId: string | null;
  /** The workflow run that handled this drop (null on rows written before migration 010). */
  runId: string | null;
  /** Rows now in the table from this drop; quarantined rows are counted apart. */
  rowsLoaded: number | null;
  rowsQuarantined: number | null;
  /** Where the file went: processed/ or error/. */
  archivedPath: string | null;
}

/**
 * Fields written when a file is claimed or moves on. With `runId` the row of that run is written (created on the
 * first write: a new drop adds a row); without it, the newest row of `filePath` (created if the path has none).
 */
export type TrackingUpdate = Partial<Omit<TrackingRecord, 'id' | 'createdAt' | 'filePath'>> & { filePath: string };

export interface TrackingFilter {
  status?: FileStatus;
  table?: string;
  limit?: number;
  /** Only the newest row of each path (its current state), the filters applied to that row. */
  latestPerPath?: boolean;
}

/** A load in ref.loads: the checkpoint that a retried ingest resumes from. */
/** finishLoad's answer: the load, and when nothing was made visible because the table holds the content already, which load has it. */
export type FinishedLoad = LoadRecord & { duplicateOf?: string };

export interface LoadRecord {
  loadId: string;
  target: TableRef;
  /** Where rows go while loading: a shadow table for fullload, the target itself for append. */
  staging: TableRef;
  mode: LoadMode;
  filePath: string;
  fileHash: string | null;
  status: 'loading' | 'loaded' | 'aborted' | 'reverted';
  /** Rows written into the table (quarantined rows are not). */
  rowsCommitted: number;
  /** Rows set aside in ref.invalid_records under the quarantine policy. */
  rowsQuarantined: number;
  byteOffset: number;
  batches: number;
  backup: TableRef | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface BeginLoadInput {
  loadId: string;
  target: TableRef;
  mode: LoadMode;
  columns: ColumnSpec[];
  filePath: string;
  fileHash: string | null;
}

/** How far a load is: the file's data rows before `byteOffset` were either loaded or quarantined. */
export interface Checkpoint {
  /** Rows written into the staging table. */
  rowsCommitted: number;
  byteOffset: number;
  /** Rows set aside in ref.invalid_records (0 when absent). */
  rowsQuarantined?: number;
}

/**
 * One of the contiguous byte ranges a file is cut into at record boundaries, loaded over its own COPY stream. The
 * bytes [start, byteOffset) are committed (with `rows` rows); the part is complete when byteOffset reaches end.
 */
export interface LoadPart {
  part: number;
  start: number;
  end: number;
  byteOffset: number;
  rows: number;
}

/** How the pass-through path describes a batch of raw CSV records to the database's own CSV reader. */
export interface CsvBatchFormat {
  delimiter: string;
  quote: string;
}

export interface ReferenceConfigInput {
  table: TableRef;
  sourceFile: string;
  loadType: LoadMode;
  keyColumn?: string | null;
}

export interface InvalidRecordInput {
  source: string;
  sourceRef: string;
  recordId: string | null;
  rowNumber: number | null;
  rawText: string | null;
  errors: string[];
}

/** A database error caused by the data itself (bad value, wrong field count): not worth retrying. */
export class DataError extends Error {
  constructor(message: string, readonly code: string, readonly line?: number, readonly column?: string) {
    super(message);
    this.name = 'DataError';
  }
}

/**
 * A load's staging table no longer holds the rows its checkpoint counts: an unlogged stage emptied by a database
 * crash (crash recovery resets unlogged tables, while the logged checkpoint survives), or a stage dropped by hand.
 */
export class StagingLost extends Error {
  constructor(readonly loadId: string, readonly expectedRows: number, readonly foundRows: number | null) {
    super(`the staged rows of load ${loadId} were lost (${expectedRows} committed, ${foundRows === null ? 'no staging table' : `${foundRows} found`}), most likely to a database crash`);
    this.name = 'StagingLost';
  }
}

export interface MigrationStatus {
  version: number;
  name: string;
  appliedAt: Date | null;
}

/** The port. Every method is idempotent where the text says so; activities rely on that for retries. */
export interface Database {
  readonly kind: 'postgres' | 'mssql' | 'embedded';
  /** Applies pending migrations, each in its own transaction; refuses a schema newer than the code. */
  migrate(): Promise<MigrationStatus[]>;
  migrationStatus(): Promise<MigrationStatus[]>;
  /** Applies the down files of every applied migration above `version`, newest first, each in its own transaction. */
  migrateDown(version: number): Promise<MigrationStatus[]>;
  /** Cheap round trip for health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Writes the given fields of the run's row (`runId`) or of the path's newest row; inserts it if missing. */
  upsertTracking(update: TrackingUpdate): Promise<TrackingRecord>;
  getTracking(id: number): Promise<TrackingRecord | null>;
  /** The newest row of a path: its current (or last) drop. */
  getTrackingByPath(filePath: string): Promise<TrackingRecord | null>;
  listTracking(filter: TrackingFilter): Promise<TrackingRecord[]>;
  /** Removes the tracking row of a file that vanished before it was claimed. */
  deleteTracking(filePath: string): Promise<void>;

  describeTable(table: TableRef): Promise<TableColumn[] | null>;
  countRows(table: TableRef): Promise<number>;

  /**
   * Starts (or, for an existing loadId, returns) a load. fullload: creates an empty shadow table with the
   * columns plus `refdata_load_id`. append: creates the target if missing, adds missing columns as nullable.
   * A load still loading is verified first: when its staging table no longer holds the rows its checkpoint counts
   * (a database crash empties an unlogged stage), the staging table is made again, its quarantined rows removed and
   * the checkpoint reset to the file's start; `restarted` then says what was lost.
   */
  beginLoad(input: BeginLoadInput): Promise<LoadRecord & { restarted?: StagingLost }>;
  getLoad(loadId: string): Promise<LoadRecord | null>;
  /**
   * Writes one batch of rows (values as text, null for empty) into the load's staging table and advances its
   * checkpoint (and the batch's quarantined rows, if any), in one transaction. `expected` must equal the stored
   * checkpoint (guards a stale retry).
   */
  writeBatch(
    loadId: string, columns: string[], rows: (string | null)[][], expected: Checkpoint, next: Checkpoint, invalid?: InvalidRecordInput[],
  ): Promise<void>;
  /**
   * The fast path: hands complete CSV records (text, one batch) to the database's own CSV reader, with the
   * checkpoint, in one transaction. Returns the rows the database read. Dialects without a CSV reader omit it.
   * `next` may be a function: the batch's size is known only once its stream ends. A data error (bad value,
   * wrong field count, or a row count other than the checkpoint's) rejects with a DataError and leaves nothing.
   */
  copyCsvBatch?(
    loadId: string, columns: string[], csv: AsyncIterable<string | Buffer> | readonly string[], format: CsvBatchFormat, expected: Checkpoint,
    next: Checkpoint | (() => Checkpoint),
  ): Promise<number>;
  /**
   * The parts of a load loaded over parallel streams: the stored ones, or (none stored yet and the load at its first
   * byte) `ranges` stored as new parts. Dialects without parallel loading omit the part methods.
   */
  beginParts?(loadId: string, ranges: ReadonlyArray<{ start: number; end: number }>): Promise<LoadPart[]>;
  /**
   * copyCsvBatch for one part: the batch, the part's checkpoint and the load's totals commit together. `expected` is
   * the part's committed byte offset (guards a stale retry); `next` gives the batch's rows and bytes once it is read.
   */
  copyCsvPart?(
    loadId: string, part: number, columns: string[], csv: AsyncIterable<string | Buffer>, format: CsvBatchFormat, expected: number,
    next: () => { rows: number; bytes: number },
  ): Promise<number>;
  /** Empties the staging table, forgets the parts and sets the load back to its first byte (parallel load given up). */
  restartLoad?(loadId: string): Promise<void>;
  /**
   * fullload: moves the current table to bkp.<table>__<timestamp> and the shadow into place, atomically. Rejects
   * with StagingLost, changing nothing, when the staging table lost the rows its checkpoint counts. With a file
   * hash, it first checks (see findLoadedByHash), under a lock that serialises finishes into the same table, that
   * the content is not already in effect there: then it makes nothing visible and answers with `duplicateOf`.
   */
  finishLoad(loadId: string, fileHash?: string): Promise<FinishedLoad>;
  /** Undoes an unfinished load: drops the shadow / deletes the load's rows. Idempotent. */
  abortLoad(loadId: string): Promise<void>;
  /**
   * Undoes a finished load: fullload → the bkp copy becomes the live table again (the reverted contents are kept
   * in bkp); append → the load's rows are deleted. Refuses when a later load of the same table would be undone.
   */
  revertLoad(loadId: string): Promise<LoadRecord>;
  /**
   * The load a file with this SHA-256 would duplicate, judged against the loads still in effect (the latest
   * fullload still loaded and the appends after it; a fullload replaced later, or a reverted load, no longer
   * counts). `append` (default): any load in effect with this hash, since appending it would double its rows.
   * `fullload`: only when the table holds exactly that content now, i.e. the one load in effect is a fullload of it.
   */
  findLoadedByHash(target: TableRef, fileHash: string, mode?: LoadMode): Promise<LoadRecord | null>;
  listLoads(filter: { table?: string; status?: LoadRecord['status']; limit?: number }): Promise<LoadRecord[]>;
  /** Drops bkp tables older than the cutoff; returns their names. */
  dropBackupsOlderThan(cutoff: Date): Promise<string[]>;
  /** Quarantined rows and invalid records, written in bulk. */
  insertInvalidRecords(records: InvalidRecordInput[]): Promise<void>;

  /** Inserts or refreshes the ref.reference_data_cfg row of a reference-data table. */
  upsertReferenceConfig(input: ReferenceConfigInput): Promise<void>;

  /** The instrument master and its sync runs (src/db/instruments.ts). */
  readonly instruments: InstrumentStore;

  /** Subscriptions, channels, deliveries, stats, notifications and API keys (src/db/distribution.ts). */
  readonly distribution: DistributionStore;

  /** Events waiting for the relay, and upstream events already handled (src/db/outbox.ts). */
  readonly outbox: OutboxStore;

  /** Loaded tables with row counts, columns, last load and config row (src/db/catalog.ts). */
  readonly catalog: CatalogStore;

  /** Failure categories of files in error/, for error analysis (src/db/failures.ts). */
  readonly failures: FailureStore;

  /** Nightly and intraday distribution runs, their watermarks and exports (src/db/distribution-runs.ts). */
  readonly distributionRuns: DistributionRunStore;

  /** Delivered files refdata wrote and still keeps, for the retention sweep (src/db/retention.ts). */
  readonly retention: RetentionStore;

  /** Aggregates of the dashboard's charts over a period (src/db/charts.ts). */
  readonly charts: ChartStore;
  /** Operator notifications kept across restarts, and what the alert channel sent (src/db/notifications.ts). */
  readonly notifications: NotificationStore;
}
