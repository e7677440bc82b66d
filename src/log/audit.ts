// Audit events: one log line per state change of a file, load, sync, distribution, delivery or channel, with the ids that join them.
import { Context } from '@temporalio/activity';
import type { Logger } from './logger';

export type AuditEntity = 'file' | 'load' | 'sync' | 'distribution' | 'delivery' | 'channel' | 'retention';

/** `file.loaded`, `load.reverted`, `delivery.failed`, …: the entity, then the state it entered. */
export type AuditEvent = `${AuditEntity}.${string}`;

/**
 * The ids that join one piece of work across the ledger, Temporal and the logs. Give every one you know: a
 * search for any of them (`loadId`, `workflowId`, …) then finds the whole story.
 */
export interface AuditIds {
  workflowId?: string;
  runId?: string;
  filePath?: string;
  loadId?: string;
  table?: string;
  syncRunId?: string;
  distributionId?: string;
  businessDate?: string;
  deliveryId?: string;
  subscriptionId?: string;
  channel?: string;
  channelId?: string;
}

export type AuditFields = AuditIds & Record<string, unknown>;

/** Any pino logger, including a request's (fastify's logger type lacks a few members pino's has). */
export type AuditLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

/**
 * Writes one audit event. `audit: true` lets a log pipeline select them; most are at info level (failures at
 * warn), so keep LOG_LEVEL at info or lower where the audit trail matters. Inside an activity the workflow id, run id and
 * attempt are added from the activity's context, so callers pass only what the context cannot know.
 */
export function audit(log: AuditLogger, event: AuditEvent, fields: AuditFields = {}, level: 'info' | 'warn' | 'error' = 'info'): void {
  log[level]({ audit: true, event, ...activityIds(), ...definedOnly(fields) }, `audit ${event}`);
}

/** The running activity's workflow and attempt, or nothing outside an activity (API, CLI, tests). */
export function activityIds(): { workflowId?: string; runId?: string; attempt?: number } {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return {};
  }
  const { workflowExecution, attempt } = ctx.info;
  // Absent only for standalone activities (not started by a workflow), which refdata does not use.
  return workflowExecution ? { workflowId: workflowExecution.workflowId, runId: workflowExecution.runId, attempt } : { attempt };
}

function definedOnly(fields: AuditFields): AuditFields {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}
