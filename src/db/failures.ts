// The failure ledger: the category a failed file ended with, and the failed files of a period, for error analysis.
// Reads and writes ref.file_monitor_tracking (column error_category from migration 005); each dialect owns its SQL.
import type { LoadMode } from './types';

/** A file that ended in error/, as the tracking ledger remembers it. */
export interface FailureRecord {
  filePath: string;
  fileName: string;
  tableName: string | null;
  loadType: LoadMode | null;
  isReferenceData: boolean | null;
  /** One of the failure types (src/errors.ts); null for rows recorded before migration 005 or without a report. */
  category: string | null;
  errorMessage: string | null;
  workflowId: string | null;
  /** When the failure was recorded (processed_at, else created_at). */
  failedAt: Date;
}

export interface FailureStore {
  /** Stores (or, with null, clears) the failure category of a file's tracking row. */
  setCategory(filePath: string, category: string | null): Promise<void>;
  /** Files with status `error` recorded at or after `since`, newest first, at most `limit`. */
  listFailures(filter: { since: Date; limit: number }): Promise<FailureRecord[]>;
}

/** The most rows one summary reads; a larger window is reported as truncated. */
export const MAX_FAILURES = 10_000;
