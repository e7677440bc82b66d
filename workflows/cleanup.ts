// Workflow `cleanup`: the scheduled retention sweep of archived files and bkp tables.
import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { createCleanupActivities, CleanupResult } from '../activities/cleanup';

const { cleanupArchives } = proxyActivities<ReturnType<typeof createCleanupActivities>>({
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 10 },
});

export async function cleanup(): Promise<CleanupResult> {
  setCurrentDetails('removing archived files and old backups past their retention');
  const result = await cleanupArchives();
  setCurrentDetails(`removed ${result.filesRemoved} files (${result.bytesFreed} bytes) and ${result.backupsDropped.length} backup tables`);
  return result;
}
