// When a file refdata made for delivery may go: after every delivery of it is final and its retention_days have passed. Pure.

const DAY_MS = 24 * 60 * 60 * 1000;

/** Statuses after which a delivery sends nothing more (a replay puts it back to `pending`, which holds its files again). */
export const finalDeliveryStatuses = ['delivered', 'failed', 'cancelled'] as const;

/** What the database knows about the deliveries of one file (or of one distribution run's files). */
export interface DeliveriesOfFile {
  /** Deliveries that carry the file. */
  total: number;
  /** Of those, not yet delivered, failed or cancelled. */
  open: number;
  /** When the last of them became final (their latest `updated_at`); null when there are none. */
  lastFinalAt: Date | null;
  /** The largest `retention_days` the deliveries carry (what subscribers were told); null when there are none. */
  retentionDays: number | null;
}

export interface RetentionFacts {
  /** When refdata finished writing the file (a run's finished_at, a registered file's created_at). */
  writtenAt: Date;
  /** False while the work that writes the file is still running (a distribution run in `running`). */
  writerDone: boolean;
  deliveries: DeliveriesOfFile;
  /** Retention when no delivery says (a run without subscribers); 0 or less keeps the file. */
  defaultRetentionDays: number;
  /** When set, this wins over what deliveries carry (REFDATA_DISTRIBUTION_BACKUP_RETENTION_DAYS=0 keeps all). */
  keepAll?: boolean;
}

export type RetentionVerdict =
  | { remove: true; expiredAt: Date }
  | { remove: false; reason: 'writing' | 'deliveries-open' | 'kept' | 'not-yet'; expiresAt: Date | null };

/**
 * A file is removed when its writer is done, none of its deliveries is still open, and its retention — counted from
 * the later of "written" and "last delivery final" — has passed. Retention 0 (or less) keeps it for good.
 */
export function retentionVerdict(f: RetentionFacts, now: Date): RetentionVerdict {
  if (!f.writerDone) return { remove: false, reason: 'writing', expiresAt: null };
  if (f.deliveries.open > 0) return { remove: false, reason: 'deliveries-open', expiresAt: null };
  const days = f.deliveries.retentionDays ?? f.defaultRetentionDays;
  if (f.keepAll || days <= 0) return { remove: false, reason: 'kept', expiresAt: null };
  const from = Math.max(f.writtenAt.getTime(), f.deliveries.lastFinalAt?.getTime() ?? 0);
  const expiresAt = new Date(from + days * DAY_MS);
  return expiresAt.getTime() <= now.getTime() ? { remove: true, expiredAt: expiresAt } : { remove: false, reason: 'not-yet', expiresAt };
}

/**
 * The paths of a distribution run's files refdata may delete: each recorded name, in the run's own folder and in its
 * backup folder. A name that is not a plain file name (a separator, `..`) is skipped: the run row is data, not a path.
 */
export function distributionRunPaths(run: { directory: string; backupDirectory: string; fileNames: string[] }, join: (a: string, b: string) => string): string[] {
  const safe = run.fileNames.filter((n) => n.length > 0 && !/[\\/]/.test(n) && n !== '.' && n !== '..');
  return safe.flatMap((n) => [join(run.directory, n), join(run.backupDirectory, n)]);
}
