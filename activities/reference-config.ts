// The scheduled check of ref.reference_data_cfg: validate, repair when configured, and tell operators what remains.
import { Context } from '@temporalio/activity';
import type { Database } from '../src/db/types';
import type { Logger } from '../src/log/logger';
import type { Notifier } from '../src/notify/notifier';
import { notifyConfigProblems } from '../src/notify/events';
import { checkReferenceConfig, type ConfigProblem } from '../src/reference-config';

export interface ReferenceConfigActivityDeps {
  db: Database;
  log: Logger;
  notifier?: Notifier;
}

/** Small enough for workflow history: counts, the repairs made and the first problems left. */
export interface ReferenceConfigCheckResult {
  found: number;
  repaired: string[];
  remaining: ConfigProblem[];
}

const SHOWN = 50;

export function createReferenceConfigActivities(deps: ReferenceConfigActivityDeps) {
  return {
    async checkReferenceConfigActivity(input: { repair: boolean }): Promise<ReferenceConfigCheckResult> {
      const check = await checkReferenceConfig(deps.db, input.repair);
      const workflowId = Context.current().info.workflowExecution?.workflowId;
      if (check.repaired.length > 0) deps.log.warn({ event: 'reference_config.repaired', workflowId, repaired: check.repaired }, `reference config: ${check.repaired.length} rows repaired`);
      if (check.remaining.length > 0) {
        deps.log.warn({ event: 'reference_config.problems', workflowId, problems: check.remaining.map((p) => p.message) }, `reference config: ${check.remaining.length} problems remain`);
        if (deps.notifier) notifyConfigProblems(deps.notifier, { workflowId, problems: check.remaining, repairOn: input.repair });
      }
      return { found: check.found.length, repaired: check.repaired.slice(0, SHOWN), remaining: check.remaining.slice(0, SHOWN) };
    },
  };
}
