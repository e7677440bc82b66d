// Workflow `referenceConfigCheck`: the scheduled validate (and repair) of ref.reference_data_cfg against the tables that exist.
import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { createReferenceConfigActivities, ReferenceConfigCheckResult } from '../activities/reference-config';

type ReferenceConfigActivities = ReturnType<typeof createReferenceConfigActivities>;

const { checkReferenceConfigActivity } = proxyActivities<ReferenceConfigActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 10 },
});

export async function referenceConfigCheck(input: { repair?: boolean } = {}): Promise<ReferenceConfigCheckResult> {
  const repair = input.repair ?? true;
  setCurrentDetails(`checking ref.reference_data_cfg against the tables that exist${repair ? ', repairing what it finds' : ''}`);
  const result = await checkReferenceConfigActivity({ repair });
  setCurrentDetails(
    result.found === 0
      ? '**ok**: every reference table has an active config row and every active row its table'
      : `**${result.remaining.length === 0 ? 'repaired' : 'problems remain'}**: ${result.found} found, ${result.repaired.length} repaired, ${result.remaining.length} remaining${result.remaining.length ? ` (${result.remaining.slice(0, 5).map((p) => p.message).join('; ')})` : ''}`,
  );
  return result;
}
