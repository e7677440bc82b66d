// The Temporal Schedules refdata keeps, as a list of specs, and an idempotent create-or-update of each.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleDescription } from '@temporalio/client';
import type { Config } from '../config';
import {
  scheduleIds, scheduledCleanupWorkflowId, scheduledDistributionWorkflowId, scheduledInstrumentSyncWorkflowId, scheduledReferenceConfigCheckWorkflowId, searchAttributes, taskQueues,
} from '../ids';

/** One schedule refdata owns: when, what it starts, and whether it must stay paused for now. */
export interface ScheduleSpecEntry {
  scheduleId: string;
  /** Five-field cron, read in `timeZone`. */
  cron: string;
  timeZone: string;
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  summary: string;
  /** Set when configuration makes the action pointless (no source): the schedule is kept, paused, with this note. */
  pausedReason?: string;
  /** How late a missed action may still run (default 6 hours). */
  catchupWindowMs?: number;
}

/** Notes refdata writes when it pauses a schedule itself; only those pauses does it lift again. */
export const OWN_PAUSE_PREFIX = 'refdata: ';

/**
 * Every schedule of this configuration. A missed sync is caught up within 6 hours (a server down at 06:00 and back
 * by noon still syncs); later ones wait for the next day rather than replaying a backlog. The nightly distribution's
 * window is configured (REFDATA_DISTRIBUTION_CATCHUP_HOURS, default a day), so a night missed still goes out.
 */
export function scheduleSpecs(config: Pick<Config, 'instruments'> & Partial<Pick<Config, 'distribution' | 'retention' | 'referenceConfigCheck'>>): ScheduleSpecEntry[] {
  // The retention sweep of processed/, error/, bkp tables and delivered files runs on the ingest queue, beside the files it removes.
  const cleanup: ScheduleSpecEntry[] = config.retention
    ? [{
        scheduleId: scheduleIds.cleanup,
        cron: config.retention.cleanupCron,
        timeZone: 'UTC',
        workflowType: 'cleanup',
        workflowId: scheduledCleanupWorkflowId,
        taskQueue: taskQueues.ingest,
        args: [],
        summary: `Retention sweep: archived files older than ${config.retention.archiveDays} days, bkp tables older than ${config.retention.bkpDays} days, delivered files past their retention_days, ledger rows past their days`,
      }]
    : [];
  // The reference-config check reads the catalog and ref.reference_data_cfg; it runs on the ingest queue like the loads that write them.
  const configCheck: ScheduleSpecEntry[] = config.referenceConfigCheck
    ? [{
        scheduleId: scheduleIds.referenceConfigCheck,
        cron: config.referenceConfigCheck.cron,
        timeZone: 'UTC',
        workflowType: 'referenceConfigCheck',
        workflowId: scheduledReferenceConfigCheckWorkflowId,
        taskQueue: taskQueues.ingest,
        args: [{ repair: config.referenceConfigCheck.repair }],
        summary: `Reference config check${config.referenceConfigCheck.repair ? ' and repair' : ''} (ref.reference_data_cfg against the tables that exist)`,
      }]
    : [];
  const distribution: ScheduleSpecEntry[] = config.distribution
    ? [{
        scheduleId: scheduleIds.distribution,
        cron: config.distribution.schedule.cron,
        timeZone: config.distribution.schedule.timeZone,
        workflowType: 'scheduledDistribution',
        workflowId: scheduledDistributionWorkflowId,
        taskQueue: taskQueues.distribution,
        args: [{ timeZone: config.distribution.schedule.timeZone, lagDays: config.distribution.businessDateLagDays }],
        summary: 'Nightly reference-data distribution (full, delta, cancellation, invalid files)',
        catchupWindowMs: config.distribution.schedule.catchupWindowMs,
      }]
    : [];
  return [
    {
      scheduleId: scheduleIds.instrumentSync,
      cron: config.instruments.schedule.cron,
      timeZone: config.instruments.schedule.timeZone,
      workflowType: 'scheduledInstrumentSync',
      workflowId: scheduledInstrumentSyncWorkflowId,
      taskQueue: taskQueues.sync,
      args: [{ lockLimitMs: config.instruments.lockLimitMs }],
      summary: 'Daily instrument master sync',
      pausedReason: config.instruments.url ? undefined : `${OWN_PAUSE_PREFIX}paused until INSTRUMENTS_URL is set`,
    },
    ...distribution,
    ...cleanup,
    ...configCheck,
  ];
}

const CATCHUP_WINDOW = 6 * 60 * 60 * 1000;

function definitionOf(s: ScheduleSpecEntry) {
  return {
    spec: { cronExpressions: [s.cron], timezone: s.timeZone },
    action: {
      type: 'startWorkflow' as const,
      workflowType: s.workflowType,
      workflowId: s.workflowId,
      taskQueue: s.taskQueue,
      args: s.args,
      staticSummary: s.summary,
      typedSearchAttributes: [{ key: searchAttributes.SyncTrigger, value: 'schedule' }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: s.catchupWindowMs ?? CATCHUP_WINDOW, pauseOnFailure: false },
  };
}

/** An operator's pause is kept; refdata's own pause is set or lifted as configuration says. */
function stateAfterUpdate(s: ScheduleSpecEntry, prev: ScheduleDescription['state']): { paused: boolean; note?: string } {
  if (s.pausedReason) return { paused: true, note: s.pausedReason };
  if (prev.paused && prev.note?.startsWith(OWN_PAUSE_PREFIX)) return { paused: false, note: `${OWN_PAUSE_PREFIX}resumed: configuration complete` };
  return { paused: prev.paused, note: prev.note };
}

export interface AppliedSchedule {
  scheduleId: string;
  action: 'created' | 'updated';
  paused: boolean;
}

/** Creates each schedule, or updates it in place when it exists; running twice changes nothing more. */
export async function applySchedules(client: Client, specs: ScheduleSpecEntry[]): Promise<AppliedSchedule[]> {
  const out: AppliedSchedule[] = [];
  for (const s of specs) {
    const definition = definitionOf(s);
    try {
      await client.schedule.create({ scheduleId: s.scheduleId, ...definition, state: { paused: Boolean(s.pausedReason), note: s.pausedReason } });
      out.push({ scheduleId: s.scheduleId, action: 'created', paused: Boolean(s.pausedReason) });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      const handle = client.schedule.getHandle(s.scheduleId);
      let paused = false;
      await handle.update((prev) => {
        const state = stateAfterUpdate(s, prev.state);
        paused = state.paused;
        return { ...definition, state };
      });
      out.push({ scheduleId: s.scheduleId, action: 'updated', paused });
    }
  }
  return out;
}
