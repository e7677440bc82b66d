// Workflow `cleanup`: the scheduled retention sweep of archived files, bkp tables, delivered files and ledger rows.
import { patched, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { createCleanupActivities, CleanupResult } from '../activities/cleanup';

type CleanupActivities = ReturnType<typeof createCleanupActivities>;

const { cleanupArchives } = proxyActivities<CleanupActivities>({
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 10 },
});

// Walks every kept run and copy; heartbeats after each removal, so a dead worker is noticed within a minute.
const { removeDeliveredFiles } = proxyActivities<CleanupActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 10 },
});

// Deletes in batches and heartbeats after each one.
const { pruneRecords } = proxyActivities<CleanupActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/** Runs started before the ledgers had a retention replay without pruning them. */
export const RECORD_RETENTION_PATCH = 'record-retention';

/** Runs started before delivered-file retention existed replay without its activity. */
export const DELIVERED_FILES_PATCH = 'delivered-file-retention';

export async function cleanup(): Promise<CleanupResult> {
  setCurrentDetails('removing archived files and old backups past their retention');
  const result: CleanupResult = await cleanupArchives();
  if (patched(DELIVERED_FILES_PATCH)) {
    setCurrentDetails('removing delivered files whose deliveries are final and whose retention has passed');
    result.delivered = await removeDeliveredFiles();
  }
  if (patched(RECORD_RETENTION_PATCH)) {
    setCurrentDetails('deleting ledger rows past their retention (loads, invalid records, tracking, sync runs, deliveries, notifications)');
    result.records = await pruneRecords();
  }
  const delivered = result.delivered ? `; ${result.delivered.filesRemoved} delivered files (${result.delivered.bytesFreed} bytes) of ${result.delivered.runs.length} distribution runs and ${result.delivered.copies} copies` : '';
  const records = result.records ? `; ledger rows deleted: ${Object.entries(result.records).map(([k, n]) => `${k} ${n}`).join(', ') || 'none (all kept)'}` : '';
  setCurrentDetails(`removed ${result.filesRemoved} files (${result.bytesFreed} bytes) and ${result.backupsDropped.length} backup tables${delivered}${records}`);
  return result;
}
