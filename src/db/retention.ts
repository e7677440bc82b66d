// The retention store: which delivered files refdata wrote and still keeps, with their deliveries' state (migration 008).
// Two kinds: the files of a distribution run (known from dist.distribution_runs) and files registered one by one in
// dist.delivery_files (an encrypted or staged copy made for a delivery). Intentions only; each dialect owns its SQL.
import type { DeliveriesOfFile } from '../delivered-retention';
import type { DistributionRunStatus } from './distribution-runs';
import type { RecordRetentionStore } from './record-retention';

/** A distribution run whose files are still on disk as far as refdata knows. */
export interface RunFilesForRetention {
  runId: string;
  /** yyyy-MM-dd */
  businessDate: string;
  /** The folder the run wrote to, as recorded (null: the configured root + YYYYMMDD). */
  directory: string | null;
  fileNames: string[];
  status: DistributionRunStatus;
  /** A re-run claims the run again and bumps this: the removal is recorded only for the attempt that was judged. */
  attempts: number;
  /** finished_at, else started_at. */
  writtenAt: Date;
  /** Its REFERENCE_DATA deliveries (report id = run id). */
  deliveries: DeliveriesOfFile;
}

export type DeliveryFileKind = 'encrypted-copy' | 'report-copy';

/** A file refdata made for one delivery (or for every delivery of a report, when `deliveryId` is null). */
export interface NewDeliveryFile {
  path: string;
  kind: DeliveryFileKind;
  reportId: string;
  deliveryId: string | null;
  bytes: number | null;
}

export interface DeliveryFileForRetention extends NewDeliveryFile {
  id: number;
  createdAt: Date;
  deliveries: DeliveriesOfFile;
}

export interface RetentionStore extends RecordRetentionStore {
  /** Finished-or-not runs whose files were not removed yet, oldest business date first, at most `limit`. */
  listRunsWithFiles(limit: number): Promise<RunFilesForRetention[]>;
  /**
   * Records that the run's files and backups are (about to be) gone — only while the run is still the finished
   * attempt that was judged (not running, same attempt count); false means it was re-run meanwhile: delete nothing.
   * A later `recordFiles` of a re-run clears the mark.
   */
  markRunFilesRemoved(runId: string, attempts: number): Promise<boolean>;
  /**
   * Registers a file refdata wrote for a delivery, so the retention sweep removes it in time. Idempotent on the path:
   * registering it again (a re-made copy) counts its time from now and un-marks it as removed.
   */
  recordDeliveryFile(file: NewDeliveryFile): Promise<void>;
  /** Registered files not removed yet, oldest first, at most `limit`. */
  listDeliveryFiles(limit: number): Promise<DeliveryFileForRetention[]>;
  /** Marks a registered file removed unless it was registered again since `createdAt` (then false: keep it). */
  markDeliveryFileRemoved(id: number, createdAt: Date): Promise<boolean>;
}

/** The most rows one sweep reads of each kind; the rest wait for the next sweep. */
export const RETENTION_SCAN_LIMIT = 5_000;
