// Channel health on SQL Server: each change is one UPDATE whose OUTPUT compares the row before (DELETED) and after
// (INSERTED), so it says what it changed without a second read. Times are UTC from the server's clock.
import type { ChannelChange, ChannelFailure } from '../distribution';
import { bitParam as bit, intParam as int, textParam as text, type Statement } from './statement';

const NOW = 'SYSUTCDATETIME()';
/** The failure that reaches the threshold on a channel not yet paused. */
// The failure being recorded makes it @unhealthy_after in a row, and the channel has not delivered for @quiet_ms.
const REACHES_COUNT = `(@unhealthy_after > 0 AND consecutive_failures + 1 >= @unhealthy_after
    AND (last_success_at IS NULL OR last_success_at <= DATEADD(millisecond, -@quiet_ms, ${NOW})))`;
const REACHES = `(paused_at IS NULL AND ${REACHES_COUNT})`;
const HEALTHY = "consecutive_failures = 0, health_status = N'healthy', paused_at = NULL, next_probe_at = NULL, probe_attempts = 0";
const RECOVERED = "CAST(CASE WHEN DELETED.paused_at IS NOT NULL OR DELETED.health_status <> N'healthy' THEN 1 ELSE 0 END AS bit) AS recovered";
/** Milliseconds are clamped to int by the caller (about 24 days). */
const clampMs = (ms: number) => Math.min(Math.max(Math.round(ms), 0), 2_000_000_000);

export function recordChannelFailureSql(channelId: string, f: ChannelFailure): Statement {
  return {
    text:
      'UPDATE dist.delivery_channels SET consecutive_failures = consecutive_failures + 1,\n' +
      `  last_failure_at = ${NOW}, last_error = @error,\n` +
      `  health_status = CASE WHEN ${REACHES_COUNT} THEN N'unhealthy' ELSE health_status END,\n` +
      `  paused_at = CASE WHEN ${REACHES} THEN ${NOW} ELSE paused_at END,\n` +
      `  next_probe_at = CASE WHEN ${REACHES} THEN DATEADD(millisecond, @first_probe_ms, ${NOW}) ELSE next_probe_at END,\n` +
      `  probe_attempts = CASE WHEN ${REACHES} THEN 0 ELSE probe_attempts END, updated_at = ${NOW}\n` +
      'OUTPUT INSERTED.*, CAST(CASE WHEN DELETED.paused_at IS NULL AND INSERTED.paused_at IS NOT NULL THEN 1 ELSE 0 END AS bit) AS became_unhealthy\n' +
      'WHERE channel_id = @channel_id',
    params: { channel_id: text(channelId), error: text(f.error.slice(0, 2000)), unhealthy_after: int(f.unhealthyAfter), first_probe_ms: int(clampMs(f.firstProbeInMs)), quiet_ms: int(clampMs(f.quietMs ?? 0)) },
  };
}

/** Writes only when something changes or the last success is a second old: a busy channel's row is not a hot spot. */
export const recordChannelSuccessSql = (channelId: string): Statement => ({
  text:
    `UPDATE dist.delivery_channels SET ${HEALTHY}, last_success_at = ${NOW}, updated_at = ${NOW}\n` +
    `OUTPUT INSERTED.*, ${RECOVERED}\n` +
    "WHERE channel_id = @channel_id AND (consecutive_failures <> 0 OR paused_at IS NOT NULL OR health_status <> N'healthy'\n" +
    `  OR last_success_at IS NULL OR last_success_at < DATEADD(second, -1, ${NOW}))`,
  params: { channel_id: text(channelId) },
});

export const markChannelHealthySql = (channelId: string, via: 'probe' | 'operator'): Statement => ({
  text:
    `UPDATE dist.delivery_channels SET ${HEALTHY},\n` +
    `  last_probe_at = CASE WHEN N'probe' = @via THEN ${NOW} ELSE last_probe_at END,\n` +
    "  last_probe_error = CASE WHEN N'probe' = @via THEN NULL ELSE last_probe_error END,\n" +
    `  updated_at = ${NOW}\n` +
    `OUTPUT INSERTED.*, ${RECOVERED}\n` +
    'WHERE channel_id = @channel_id',
  params: { channel_id: text(channelId), via: text(via) },
});

export const recordProbeFailureSql = (channelId: string, error: string, nextProbeInMs: number): Statement => ({
  text:
    `UPDATE dist.delivery_channels SET probe_attempts = probe_attempts + 1, last_probe_at = ${NOW}, last_probe_error = @error,\n` +
    `  next_probe_at = DATEADD(millisecond, @next_probe_ms, ${NOW}), updated_at = ${NOW}\n` +
    'OUTPUT INSERTED.* WHERE channel_id = @channel_id AND paused_at IS NOT NULL',
  params: { channel_id: text(channelId), error: text(error.slice(0, 2000)), next_probe_ms: int(clampMs(nextProbeInMs)) },
});

/** NULL config / enabled keep what is stored; switching off records the reason and time, switching on clears them. */
export const updateChannelSql = (channelId: string, change: ChannelChange): Statement => ({
  text:
    'UPDATE dist.delivery_channels SET channel_config = COALESCE(@config, channel_config), enabled = COALESCE(@enabled, enabled),\n' +
    '  disabled_reason = CASE WHEN 1 = @enabled THEN NULL WHEN 0 = @enabled AND enabled = 1 THEN @reason ELSE disabled_reason END,\n' +
    `  disabled_at = CASE WHEN 1 = @enabled THEN NULL WHEN 0 = @enabled AND enabled = 1 THEN ${NOW} ELSE disabled_at END,\n` +
    `  updated_at = ${NOW}\n` +
    'OUTPUT INSERTED.* WHERE channel_id = @channel_id',
  params: {
    channel_id: text(channelId),
    config: text(change.config === undefined ? null : JSON.stringify(change.config)),
    enabled: bit(change.enabled ?? null),
    reason: text((change.disabledReason ?? 'switched off by an operator').slice(0, 2000)),
  },
});
