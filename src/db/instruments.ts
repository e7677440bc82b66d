// The instrument store: the port the instrument sync, the API and (later) the nightly distribution use.
// Intentions only; each dialect owns its SQL. Timestamps come from the database clock.
import type { TableRef } from './types';
import type {
  GuardInput, GuardResult, Instrument, InstrumentSyncReport, InvalidInstrument, SourceFormat, StagedRow, StoredVersion, SyncRunStatus, SyncTrigger,
} from '../instruments/types';

/** `source` of the rows the sync writes to ref.invalid_records (source_ref is the run id). */
export const INVALID_RECORD_SOURCE = 'instrument_sync';

export interface SyncRunStart {
  runId: string;
  workflowId: string;
  /** URL (query values redacted) or file path, for the report. */
  source: string;
  trigger: SyncTrigger;
  forced: boolean;
}

/** How far staging got: committed together with each batch, so a retried activity resumes exactly there. */
export interface StagingCheckpoint {
  /** Records of the file consumed (valid, invalid and duplicates). */
  recordsRead: number;
  /** Rows in the run's staging table (valid instruments plus keys of invalid records). */
  stagedRows: number;
  invalid: number;
  batches: number;
}

/** An instrument as stored. `lastSeenAt` of an active instrument is the last successful sync (see the SQL). */
export interface InstrumentRecord extends Omit<Instrument, 'category' | 'rowHash' | 'sourceRecord'> {
  isActive: boolean;
  sourceRecord: unknown;
  firstSeenAt: string;
  lastSeenAt: string;
  updatedAt: string;
  deactivatedAt: string | null;
}

export interface InstrumentFilter {
  segment?: string;
  instrumentType?: string;
  /** Case-insensitive substring of the name. */
  nameContains?: string;
  /** yyyy-MM-dd, inclusive. */
  expiryFrom?: string;
  expiryTo?: string;
  active?: boolean;
  limit: number;
  offset: number;
}

export interface InstrumentStats {
  total: number;
  active: number;
  inactive: number;
  bySegment: Record<string, { active: number; inactive: number }>;
  byType: Record<string, { active: number; inactive: number }>;
  lastSync: InstrumentSyncReport | null;
}

export interface InstrumentStore {
  /** Creates the run's report row (status running); an existing run id returns its row unchanged. */
  beginSyncRun(start: SyncRunStart): Promise<InstrumentSyncReport>;
  /** Stored row hash and activity of these keys, for telling unchanged records during staging (absent = new). */
  storedVersions(keys: string[]): Promise<Map<string, StoredVersion>>;
  /** What was downloaded: format, size and SHA-256 of the file. */
  recordSource(runId: string, info: { format: SourceFormat; fileBytes: number; fileSha256: string }): Promise<void>;
  /**
   * Creates the run's staging table if missing and returns the committed checkpoint. If the staging rows do
   * not match the checkpoint (an unlogged table emptied by a database crash), staging restarts from zero.
   */
  openStaging(runId: string): Promise<StagingCheckpoint>;
  /**
   * One batch: staged rows, invalid records and the advanced checkpoint, in one transaction. `expected` must
   * equal the stored checkpoint, so a stale retry writes nothing.
   */
  writeStagingBatch(runId: string, rows: StagedRow[], invalid: InvalidInstrument[], expected: StagingCheckpoint, next: StagingCheckpoint): Promise<void>;
  /**
   * When today's file is byte for byte the file of the last successful run, that run was not forced past the
   * guard, and no instrument changed since it applied, the outcome is known before reading a record: every
   * instrument unchanged. Then this marks the run staged without staging anything (its checkpoint and invalid
   * records are the earlier run's) and returns the counts; otherwise it returns null and staging proceeds.
   * applySync recognises such a run by the same test. A dialect may always return null.
   */
  stageAsIdentical(runId: string, fileSha256: string): Promise<{ records: number; invalid: number; duplicates: number; sameAsRunId: string } | null>;
  /** Moves repeated keys (all but the first occurrence) to invalid records and marks the run staged. Idempotent. */
  finishStaging(runId: string): Promise<{ duplicates: number; invalid: number }>;
  /**
   * In one transaction: counts what the run would do, asks `decide` (the guard), and then either records the
   * trip and changes nothing else, or upserts changed instruments, reactivates returning ones, deactivates the
   * missing ones and stores the report. A run already applied returns its stored report.
   */
  applySync(runId: string, decide: (input: GuardInput) => GuardResult): Promise<InstrumentSyncReport>;
  /** Ends a run that did not apply; a succeeded run is left alone. */
  failSyncRun(runId: string, status: Extract<SyncRunStatus, 'failed' | 'cancelled' | 'guard_tripped' | 'timed_out'>, message: string): Promise<void>;
  /** Drops the run's staging table. Idempotent. */
  dropStaging(runId: string): Promise<void>;
  getSyncRun(runId: string): Promise<InstrumentSyncReport | null>;
  listSyncRuns(limit: number): Promise<InstrumentSyncReport[]>;

  getInstrument(instrumentKey: string): Promise<InstrumentRecord | null>;
  listInstruments(filter: InstrumentFilter): Promise<{ items: InstrumentRecord[]; total: number }>;
  stats(): Promise<InstrumentStats>;
}

/** The run's staging table in schema ref: one per run, so a crashed run's leftovers never mix with the next. */
export function stagingTableOf(runId: string): TableRef {
  const id = runId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 40);
  if (id.length === 0) throw new Error(`run id ${JSON.stringify(runId)} has no letters or digits to name a staging table`);
  return { schema: 'ref', name: `instrument_stage_${id}` };
}

export type { GuardInput, GuardResult, InstrumentSyncReport, InvalidInstrument, StagedRow };
