// The guard: refuses a day's file that would wipe out an implausible share of the master, or lacks F&O or equities.
import type { GuardInput, GuardPolicy, GuardResult } from './types';

const pct = (share: number) => `${(share * 100).toFixed(share < 0.01 && share > 0 ? 2 : 1)} %`;

/** Decides whether a run may deactivate and write; `force` lets an operator past a known, real change. */
export function evaluateGuard(input: GuardInput, policy: GuardPolicy, force: boolean): GuardResult {
  const reasons: string[] = [];
  if (input.activeBefore > 0) {
    const share = input.wouldDeactivate / input.activeBefore;
    if (share > policy.maxDeactivateShare) {
      reasons.push(
        `the file would deactivate ${input.wouldDeactivate} of ${input.activeBefore} active instruments (${pct(share)}, more than the ${pct(policy.maxDeactivateShare)} allowed)`,
      );
    }
  }
  if (policy.requireFno && input.fno === 0) reasons.push('the file has no F&O instruments (NSE_FO / BSE_FO)');
  if (input.equities < policy.minEquities) {
    reasons.push(`the file has ${input.equities} equities, fewer than the ${policy.minEquities} required`);
  }
  const blocked = reasons.length > 0;
  return { ...input, tripped: blocked && !force, reasons, bypassed: blocked && force };
}

/** The failure message an operator reads in the Web UI, the CLI and the API. */
export function guardMessage(result: GuardResult): string {
  return (
    `instrument sync stopped by the guard: ${result.reasons.join('; ')}. Nothing was changed. ` +
    'Check the source file; if the change is real, run the sync again with force (`refdata sync --force`).'
  );
}
