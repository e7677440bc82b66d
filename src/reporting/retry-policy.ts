// How hard each channel tries: backoff, maximum interval, overall deadline and per-attempt timeout, with operator overrides.
import { z } from 'zod';
import { channelTypes, type ChannelType } from '../channels/types';

/** All in milliseconds; a workflow input, so tests pass small values instead of needing a time-skipping server. */
export interface DeliveryRetryPolicy {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** Past this since the delivery (or its replay) started, no further attempt is made and it fails. */
  deadlineMs: number;
  /** One attempt: connect, send, answer. */
  attemptTimeoutMs: number;
  /** 0 = no limit; the deadline ends the retries. */
  maximumAttempts: number;
}

const S = 1000;
const M = 60 * S;
const H = 60 * M;

/**
 * Webhooks follow the shape of Svix's schedule (FACTS.md): quick first retries, then hours apart, 15 s to answer.
 * Email and SFTP move whole files, so they get longer attempts; a dashboard notification is our own database.
 */
export const defaultRetryPolicies: Record<ChannelType, DeliveryRetryPolicy> = {
  API_WEBHOOK: { initialIntervalMs: 5 * S, backoffCoefficient: 3, maximumIntervalMs: 1 * H, deadlineMs: 24 * H, attemptTimeoutMs: 15 * S, maximumAttempts: 0 },
  SLACK_INTEGRATION: { initialIntervalMs: 5 * S, backoffCoefficient: 2, maximumIntervalMs: 10 * M, deadlineMs: 6 * H, attemptTimeoutMs: 15 * S, maximumAttempts: 0 },
  EMAIL: { initialIntervalMs: 30 * S, backoffCoefficient: 2, maximumIntervalMs: 30 * M, deadlineMs: 24 * H, attemptTimeoutMs: 2 * M, maximumAttempts: 0 },
  SFTP: { initialIntervalMs: 30 * S, backoffCoefficient: 2, maximumIntervalMs: 30 * M, deadlineMs: 24 * H, attemptTimeoutMs: 30 * M, maximumAttempts: 0 },
  DASHBOARD_NOTIFICATION: { initialIntervalMs: 1 * S, backoffCoefficient: 2, maximumIntervalMs: 1 * M, deadlineMs: 1 * H, attemptTimeoutMs: 10 * S, maximumAttempts: 0 },
  MOBILE_PUSH: { initialIntervalMs: 5 * S, backoffCoefficient: 2, maximumIntervalMs: 10 * M, deadlineMs: 4 * H, attemptTimeoutMs: 15 * S, maximumAttempts: 0 },
};

const policyOverride = z
  .object({
    initialIntervalMs: z.number().int().min(1),
    backoffCoefficient: z.number().min(1).max(100),
    maximumIntervalMs: z.number().int().min(1),
    deadlineMs: z.number().int().min(100),
    attemptTimeoutMs: z.number().int().min(50),
    maximumAttempts: z.number().int().min(0),
  })
  .partial()
  .strict();

export type RetryOverrides = Partial<Record<ChannelType | 'default', z.infer<typeof policyOverride>>>;

// partialRecord: zod 4's record over an enum demands every key.
const overridesSchema = z.partialRecord(z.enum([...channelTypes, 'default']), policyOverride);

/** REFDATA_DELIVERY_RETRY: JSON of channel type (or "default", applied to all) → fields to change. */
export function parseRetryOverrides(text: string, ctx: z.RefinementCtx): RetryOverrides {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON, e.g. {"API_WEBHOOK":{"deadlineMs":3600000},"default":{"maximumIntervalMs":600000}}' });
    return z.NEVER;
  }
  const parsed = overridesSchema.safeParse(raw);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') });
    return z.NEVER;
  }
  return parsed.data as RetryOverrides;
}

/** Defaults, then "default" overrides, then the channel's own. */
export function resolveRetryPolicies(overrides: RetryOverrides = {}): Record<ChannelType, DeliveryRetryPolicy> {
  const out = {} as Record<ChannelType, DeliveryRetryPolicy>;
  for (const type of channelTypes) {
    const p = { ...defaultRetryPolicies[type], ...overrides.default, ...overrides[type] };
    // A maximum below the first interval would make Temporal reject the policy.
    out[type] = { ...p, maximumIntervalMs: Math.max(p.maximumIntervalMs, p.initialIntervalMs) };
  }
  return out;
}

/** The peer's Retry-After, never past the policy's maximum interval (a hostile peer must not park a delivery for days). */
export function nextRetryDelayMs(retryAfterMs: number | undefined, policy: Pick<DeliveryRetryPolicy, 'maximumIntervalMs'>): number | undefined {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return undefined;
  return Math.min(Math.max(retryAfterMs, 0), policy.maximumIntervalMs);
}
