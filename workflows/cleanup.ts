// Workflow `cleanup`: the scheduled retention sweep of archived files, bkp tables and delivered files.
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

/** Runs started before delivered-file retention existed replay without its activity. */
export const DELIVERED_FILES_PATCH = 'delivered-file-retention';

export async function cleanup(): Promise<CleanupResult> {
  setCurrentDetails('removing archived files and old backups past their retention');
  const result: CleanupResult = await cleanupArchives();
  if (patched(DELIVERED_FILES_PATCH)) {
    setCurrentDetails('removing delivered files whose deliveries are final and whose retention has passed');
    result.delivered = await removeDeliveredFiles();
  }
  const delivered = result.delivered ? `; ${result.delivered.filesRemoved} delivered files (${result.delivered.bytesFreed} bytes) of ${result.delivered.runs.length} distribution runs and ${result.delivered.copies} copies` : '';
  setCurrentDetails(`removed ${result.filesRemoved} files (${result.bytesFreed} bytes) and ${result.backupsDropped.length} backup tables${delivered}`);
  return result;
}
