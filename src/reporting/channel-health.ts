// Channel health, the pure part: which failures count against a destination, the probe backoff, and what the API shows.
import type { ChannelErrorCode } from '../channels/errors';
import type { ChannelType } from '../channels/types';
import type { ChannelRecord } from './types';

/** REFDATA_CHANNEL_UNHEALTHY_AFTER, REFDATA_CHANNEL_PROBE_INITIAL_MS, REFDATA_CHANNEL_PROBE_MAX_MS. */
export interface ChannelHealthSettings {
  /** Consecutive failed attempts that make a channel unhealthy and paused; 0 = never pause. */
  unhealthyAfter: number;
  /** The first probe this long after the channel was paused; each failed probe doubles the wait… */
  probeInitialMs: number;
  /** …up to this. Also how often a waiting delivery re-checks its channel if no wake-up signal reaches it. */
  probeMaxMs: number;
  /**
   * And no success for at least this long (default 0 when settings are given without it). Concurrent deliveries to a
   * destination that fails one request in three meet five failures in a row now and then, while it delivers most of
   * what it gets; a destination that is down delivers nothing for a while. Only that one is paused.
   */
  quietMs?: number;
}

export const defaultChannelHealthSettings: ChannelHealthSettings = { unhealthyAfter: 5, probeInitialMs: 30_000, probeMaxMs: 15 * 60_000, quietMs: 60_000 };

/**
 * Failures that say the destination is down or failing — not this delivery's own problem (a 4xx, a missing file, a
 * config our side cannot open) and not a peer throttling us (429 has its own Retry-After). Dashboard notifications go
 * to refdata's own database, so they never count.
 */
const destinationDown: ReadonlySet<ChannelErrorCode> = new Set(['HTTP_5XX', 'CONNECTION', 'TIMEOUT', 'REMOTE_TEMPORARY']);

export function countsAgainstChannel(type: ChannelType, code: ChannelErrorCode): boolean {
  return type !== 'DASHBOARD_NOTIFICATION' && destinationDown.has(code);
}

/** The wait before probe number `failedProbes + 1`: initial × 2^failedProbes, at most the maximum. */
export function probeDelayMs(failedProbes: number, s: Pick<ChannelHealthSettings, 'probeInitialMs' | 'probeMaxMs'>): number {
  const delay = s.probeInitialMs * 2 ** Math.min(Math.max(failedProbes, 0), 30);
  return Math.min(delay, Math.max(s.probeMaxMs, s.probeInitialMs));
}

/** healthy: deliveries flow; unhealthy: failed past the threshold, so paused (its deliveries wait) and probed; disabled: switched off. */
export type ChannelState = 'healthy' | 'unhealthy' | 'disabled';

export interface ChannelHealthView {
  /** `disabled` (switched off: a GONE answer or a person) wins over the health status. */
  state: ChannelState;
  status: 'healthy' | 'unhealthy';
  paused: boolean;
  paused_at: string | null;
  consecutive_failures: number;
  last_failure_at: string | null;
  last_error: string | null;
  last_success_at: string | null;
  next_probe_at: string | null;
  probe_attempts: number;
  last_probe_at: string | null;
  last_probe_error: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function channelHealthView(c: ChannelRecord): ChannelHealthView {
  const h = c.health;
  return {
    state: !c.enabled ? 'disabled' : h.status,
    status: h.status,
    paused: h.pausedAt !== null,
    paused_at: iso(h.pausedAt),
    consecutive_failures: h.consecutiveFailures,
    last_failure_at: iso(h.lastFailureAt),
    last_error: h.lastError,
    last_success_at: iso(h.lastSuccessAt),
    next_probe_at: iso(h.nextProbeAt),
    probe_attempts: h.probeAttempts,
    last_probe_at: iso(h.lastProbeAt),
    last_probe_error: h.lastProbeError,
  };
}

/** Why a delivery waits, in an operator's words (delivery status `waiting`, the Web UI, the API). */
export function waitingReason(c: ChannelRecord): string {
  const h = c.health;
  const next = h.nextProbeAt ? `; next probe at ${h.nextProbeAt.toISOString()}` : '';
  return `channel ${c.channelId} (${c.channelType}) is unhealthy and paused after ${h.consecutiveFailures} failed attempts in a row` +
    `${h.lastError ? ` (last: ${h.lastError})` : ''}; the delivery waits without spending attempts until a probe succeeds or an operator resumes the channel${next}`;
}
