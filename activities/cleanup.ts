// Retention: removes archived files from processed/ and error/, drops old bkp tables, and removes delivered files
// (distribution runs' files and backups, registered delivery copies) once their deliveries are final and retention_days passed,
// and prunes the growing ledgers (loads, invalid records, tracking, sync runs, deliveries, notifications) past their days.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { Database } from '../src/db/types';
import type { Logger } from '../src/log/logger';
import { audit } from '../src/log/audit';
import { archiveFolders, dataKinds, loadModes } from '../src/drop-folders';
import { isExpired } from '../src/retention';
import { distributionRunPaths, retentionVerdict, type RetentionVerdict } from '../src/delivered-retention';
import { RETENTION_SCAN_LIMIT, type RunFilesForRetention } from '../src/db/retention';
import { PRUNE_BATCH, recordKinds, type RecordKind, type RecordRetentionDays } from '../src/db/record-retention';
import { compactDate } from '../src/distribution/file-names';
import type { DistributionConfig } from '../src/distribution/types';

export interface CleanupDeps {
  db: Database;
  log: Logger;
  dropRoot: string;
  /** `records` absent: the ledgers are kept whole. */
  retention: { archiveDays: number; bkpDays: number; records?: RecordRetentionDays };
  /** Where distribution runs write and back up their files, and their retention when no delivery says (0 keeps all). */
  distribution?: Pick<DistributionConfig, 'dir' | 'backupDir' | 'backupRetentionDays'>;
  now?: () => Date;
}

export interface CleanupResult {
  filesRemoved: number;
  bytesFreed: number;
  backupsDropped: string[];
  /** Set by runs of the cleanup workflow that also remove delivered files. */
  delivered?: DeliveredFilesResult;
  /** Set by runs that also prune the ledgers: rows deleted per kind. */
  records?: PrunedRecords;
}

/** Rows deleted per ledger; a kind kept whole (0 days) is absent. */
export type PrunedRecords = Partial<Record<RecordKind, number>>;

/** What one sweep of delivered files removed, and why the rest stayed. */
export interface DeliveredFilesResult {
  /** Distribution runs whose files and backups were removed. */
  runs: string[];
  /** Registered delivery copies removed. */
  copies: number;
  filesRemoved: number;
  bytesFreed: number;
  /** Still kept, by reason: a run still writing, deliveries not final, retention not over, retention 0. */
  kept: Record<Exclude<RetentionVerdict, { remove: true }>['reason'], number>;
}

const DAY = 24 * 60 * 60 * 1000;

/** Removes one regular file (never a link or a folder) and returns its size; a file already gone counts 0 bytes. */
async function removeRegularFile(p: string): Promise<{ removed: boolean; bytes: number }> {
  const st = await fs.lstat(p).catch(() => null);
  if (!st?.isFile()) return { removed: false, bytes: 0 };
  await fs.rm(p, { force: true });
  return { removed: true, bytes: st.size };
}

/** A run's `YYYYMMDD` folder goes with its last file; a folder still holding anything (another run's files) stays. */
async function removeFolderIfEmpty(dir: string): Promise<boolean> {
  return fs.rmdir(dir).then(() => true, () => false);
}

/** A run's recorded files in its folder and its backup folder, then the folders if that left them empty. */
async function removeRunFiles(run: RunFilesForRetention, dist: NonNullable<CleanupDeps['distribution']>) {
  const stem = compactDate(run.businessDate);
  const directory = run.directory ?? path.join(dist.dir, stem);
  const backupDirectory = path.join(dist.backupDir, stem);
  let files = 0;
  let bytes = 0;
  for (const p of distributionRunPaths({ directory, backupDirectory, fileNames: run.fileNames }, path.join)) {
    const r = await removeRegularFile(p);
    if (r.removed) files++;
    bytes += r.bytes;
  }
  await removeFolderIfEmpty(directory);
  await removeFolderIfEmpty(backupDirectory);
  return { files, bytes, directory, backupDirectory };
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Called outside an activity (a test calling the function directly): nobody to tell.
  }
}

export function createCleanupActivities(deps: CleanupDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    /**
     * Deletes ledger rows past their kind's days, in batches (each its own statement, so no long lock), never what a
     * revert or an audit still needs (src/db/record-retention.ts lists what each kind keeps). Heartbeats per batch.
     */
    async pruneRecords(): Promise<PrunedRecords> {
      const days = deps.retention.records;
      const out: PrunedRecords = {};
      if (!days) return out;
      const at = now().getTime();
      for (const kind of recordKinds) {
        if (days[kind] <= 0) continue;
        const cutoff = new Date(at - days[kind] * DAY);
        let deleted = 0;
        for (;;) {
          const n = await deps.db.retention.pruneRecords(kind, cutoff, PRUNE_BATCH);
          deleted += n;
          heartbeat({ kind, deleted });
          if (n < PRUNE_BATCH) break;
        }
        out[kind] = deleted;
        if (deleted > 0) audit(deps.log, 'retention.records_pruned', { kind, deleted, cutoff: cutoff.toISOString(), days: days[kind] });
      }
      deps.log.info({ event: 'cleanup.records', ...out }, 'ledger retention finished');
      return out;
    },

    async cleanupArchives(): Promise<CleanupResult> {
      const fileCutoff = new Date(now().getTime() - deps.retention.archiveDays * DAY);
      let filesRemoved = 0;
      let bytesFreed = 0;
      for (const kind of dataKinds) {
        for (const mode of loadModes) {
          for (const folder of archiveFolders) {
            const dir = path.join(deps.dropRoot, kind, mode, folder);
            const names = await fs.readdir(dir).catch(() => [] as string[]);
            for (const name of names) {
              const p = path.join(dir, name);
              const st = await fs.lstat(p).catch(() => null);
              if (!st?.isFile() || !isExpired(name, st.mtime, fileCutoff)) continue;
              await fs.rm(p, { force: true });
              filesRemoved++;
              bytesFreed += st.size;
            }
          }
        }
      }
      const backupsDropped = await deps.db.dropBackupsOlderThan(new Date(now().getTime() - deps.retention.bkpDays * DAY));
      deps.log.info({ event: 'cleanup.done', filesRemoved, bytesFreed, backupsDropped }, 'retention cleanup finished');
      return { filesRemoved, bytesFreed, backupsDropped };
    },

    /**
     * Removes what refdata wrote for deliveries once every delivery of it is final and its retention_days have passed:
     * a distribution run's recorded files (in its folder and its backup folder) and files registered in
     * dist.delivery_files. Nothing else: a report file an upstream producer named is theirs. Each removal is
     * recorded first (guarded against a re-run since it was judged), then done, then audited.
     */
    async removeDeliveredFiles(): Promise<DeliveredFilesResult> {
      const at = now();
      const out: DeliveredFilesResult = { runs: [], copies: 0, filesRemoved: 0, bytesFreed: 0, kept: { writing: 0, 'deliveries-open': 0, 'not-yet': 0, kept: 0 } };
      const dist = deps.distribution;
      if (dist) {
        for (const run of await deps.db.retention.listRunsWithFiles(RETENTION_SCAN_LIMIT)) {
          const verdict = retentionVerdict(
            { writtenAt: run.writtenAt, writerDone: run.status !== 'running', deliveries: run.deliveries, defaultRetentionDays: dist.backupRetentionDays, keepAll: dist.backupRetentionDays <= 0 },
            at,
          );
          if (!verdict.remove) {
            out.kept[verdict.reason]++;
            continue;
          }
          if (!(await deps.db.retention.markRunFilesRemoved(run.runId, run.attempts))) continue;
          const { files, bytes, directory, backupDirectory } = await removeRunFiles(run, dist);
          out.runs.push(run.runId);
          out.filesRemoved += files;
          out.bytesFreed += bytes;
          audit(deps.log, 'distribution.files_removed', {
            distributionId: run.runId, businessDate: run.businessDate, files, bytes, directory, backupDirectory, expiredAt: verdict.expiredAt.toISOString(),
          });
          heartbeat({ runs: out.runs.length });
        }
      }
      for (const f of await deps.db.retention.listDeliveryFiles(RETENTION_SCAN_LIMIT)) {
        // A copy whose delivery row is gone has nothing left to wait for; its report's retention then is the default 90 days.
        const verdict = retentionVerdict({ writtenAt: f.createdAt, writerDone: true, deliveries: f.deliveries, defaultRetentionDays: 90 }, at);
        if (!verdict.remove) {
          out.kept[verdict.reason]++;
          continue;
        }
        if (!(await deps.db.retention.markDeliveryFileRemoved(f.id, f.createdAt))) continue;
        const r = await removeRegularFile(f.path);
        out.copies++;
        if (r.removed) out.filesRemoved++;
        out.bytesFreed += r.bytes;
        audit(deps.log, 'delivery.file_removed', { deliveryId: f.deliveryId ?? undefined, reportId: f.reportId, kind: f.kind, path: f.path, bytes: r.bytes, expiredAt: verdict.expiredAt.toISOString() });
        heartbeat({ runs: out.runs.length, copies: out.copies });
      }
      deps.log.info({ event: 'cleanup.delivered_files', ...out }, `removed ${out.filesRemoved} delivered files (${out.bytesFreed} bytes) of ${out.runs.length} distribution runs and ${out.copies} delivery copies`);
      return out;
    },
  };
}
