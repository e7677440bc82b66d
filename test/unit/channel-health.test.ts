// Channel health without servers: which failures count, the probe backoff, the views, the notifications and audit
// events, and the SQL Server statements and migration (the PostgreSQL side runs in test/integration and test/e2e).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as health from '../../src/db/mssql/channel-health-sql';
import * as q from '../../src/db/mssql/distribution-sql';
import { announceChannelDisabled, announceChannelUnhealthy, notifyChannelUnhealthy } from '../../src/notify/events';
import { createNotifier } from '../../src/notify/notifier';
import { channelHealthView, countsAgainstChannel, probeDelayMs, waitingReason } from '../../src/reporting/channel-health';
import type { ChannelRecord } from '../../src/reporting/types';
import { expectParamsConsistent } from './mssql/statement-check';

const root = path.resolve(__dirname, '../../sql');

function channel(over: Partial<ChannelRecord['health']> = {}, rest: Partial<ChannelRecord> = {}): ChannelRecord {
  return {
    channelId: 'ch_1', channelType: 'API_WEBHOOK', config: {}, subscriptionId: 'sub_1', subscriberId: 'client_1', enabled: true, disabledReason: null, disabledAt: null,
    createdAt: new Date('2025-06-21T00:00:00Z'),
    health: {
      status: 'unhealthy', consecutiveFailures: 5, lastFailureAt: new Date('2025-06-21T10:00:00Z'), lastError: 'HTTP_5XX: peer answered HTTP 500', lastSuccessAt: null,
      pausedAt: new Date('2025-06-21T10:00:00Z'), nextProbeAt: new Date('2025-06-21T10:00:30Z'), probeAttempts: 0, lastProbeAt: null, lastProbeError: null, ...over,
    },
    ...rest,
  };
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const at = (level: string) => (obj: object) => void lines.push({ level, ...obj });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } as never };
}

describe('channel health rules', () => {
  it.each([
    ['HTTP_5XX', true], ['CONNECTION', true], ['TIMEOUT', true], ['REMOTE_TEMPORARY', true],
    ['RATE_LIMITED', false], ['HTTP_4XX', false], ['AUTH_FAILED', false], ['GONE', false], ['FILE_MISSING', false], ['INVALID_CONFIG', false], ['CANCELLED', false],
  ] as const)('%s counts against the destination: %s', (code, counts) => {
    expect(countsAgainstChannel('API_WEBHOOK', code)).toBe(counts);
  });

  it('never counts dashboard notifications (refdata\'s own database)', () => {
    expect(countsAgainstChannel('DASHBOARD_NOTIFICATION', 'CONNECTION')).toBe(false);
  });

  it('doubles the wait between probes up to the maximum', () => {
    const s = { probeInitialMs: 30_000, probeMaxMs: 900_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 60].map((n) => probeDelayMs(n, s))).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000]);
  });

  it('shows state, pause and times; a disabled channel is disabled whatever its health', () => {
    expect(channelHealthView(channel())).toMatchObject({ state: 'unhealthy', paused: true, consecutive_failures: 5, next_probe_at: '2025-06-21T10:00:30.000Z', last_success_at: null });
    expect(channelHealthView(channel({ status: 'healthy', pausedAt: null, consecutiveFailures: 0 }, { enabled: false })).state).toBe('disabled');
    expect(waitingReason(channel())).toMatch(/ch_1 \(API_WEBHOOK\) is unhealthy and paused after 5 failed attempts in a row \(last: HTTP_5XX.*next probe at 2025-06-21T10:00:30.000Z/);
  });
});

describe('channel notifications and audit events', () => {
  it('an unhealthy channel: one warning notification per pause (same id wherever raised) and a warn audit event', () => {
    const notifier = createNotifier();
    const { lines, log } = capture();
    announceChannelUnhealthy(log, notifier, channel());
    expect(notifyChannelUnhealthy(notifier, channel())).toBeNull();
    expect(notifier.recent()).toHaveLength(1);
    expect(notifier.recent()[0]).toMatchObject({ kind: 'channel.unhealthy', severity: 'warning', refs: { channelId: 'ch_1', subscriptionId: 'sub_1' } });
    expect(notifier.recent()[0].message).toContain('refdata channels resume ch_1');
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', audit: true, event: 'channel.unhealthy', channelId: 'ch_1', consecutiveFailures: 5 })]);
  });

  it('a channel a 410 switched off: notification and audit event with the reason', () => {
    const notifier = createNotifier();
    const { lines, log } = capture();
    announceChannelDisabled(log, notifier, channel({}, { enabled: false, disabledReason: 'GONE: peer answered HTTP 410', disabledAt: new Date('2025-06-21T11:00:00Z') }));
    expect(notifier.recent()[0]).toMatchObject({ id: 'channel.disabled:ch_1:2025-06-21T11:00:00.000Z', kind: 'channel.disabled', message: expect.stringContaining('GONE: peer answered HTTP 410') });
    expect(lines[0]).toMatchObject({ audit: true, event: 'channel.disabled', reason: 'GONE: peer answered HTTP 410' });
  });
});

describe('SQL Server channel health statements', () => {
  const statements = [
    health.recordChannelFailureSql('ch', { error: 'HTTP_5XX: x', unhealthyAfter: 5, firstProbeInMs: 30_000 }),
    health.recordChannelSuccessSql('ch'),
    health.markChannelHealthySql('ch', 'probe'),
    health.recordProbeFailureSql('ch', 'CONNECTION: refused', 60_000),
    health.updateChannelSql('ch', { config: { url: 'https://example.com' }, enabled: true }),
    health.updateChannelSql('ch', {}),
    q.startAttemptSql('d', 1, 'run'),
    q.disableChannelSql('ch', 'GONE'),
    q.listDeliveriesSql({ channelId: 'ch', status: 'waiting', limit: 10 }),
  ];

  it('bind exactly the parameters they reference and carry values only as parameters', () => {
    for (const stmt of statements) expectParamsConsistent(stmt);
    for (const stmt of statements) expect(stmt.text).not.toMatch(/example\.com|refused|HTTP_5XX/);
  });

  it('pause once, at the threshold, and say so from the row before and after', () => {
    const s = health.recordChannelFailureSql('ch', { error: 'e', unhealthyAfter: 5, firstProbeInMs: 1_000 });
    expect(s.text).toContain('consecutive_failures = consecutive_failures + 1');
    expect(s.text).toContain('paused_at IS NULL AND (@unhealthy_after > 0 AND consecutive_failures + 1 >= @unhealthy_after');
    // …and only when the channel has not delivered for the quiet period.
    expect(s.text).toContain('AND (last_success_at IS NULL OR last_success_at <= DATEADD(millisecond, -@quiet_ms, SYSUTCDATETIME()))');
    expect(s.params.quiet_ms).toBeDefined();
    expect(s.text).toContain('DATEADD(millisecond, @first_probe_ms, SYSUTCDATETIME())');
    expect(s.text).toContain('DELETED.paused_at IS NULL AND INSERTED.paused_at IS NOT NULL THEN 1 ELSE 0 END AS bit) AS became_unhealthy');
  });

  it('write a success only when it changes something or the last success is a second old', () => {
    expect(health.recordChannelSuccessSql('ch').text).toMatch(/WHERE channel_id = @channel_id AND \(consecutive_failures <> 0 OR paused_at IS NOT NULL .* last_success_at < DATEADD\(second, -1, SYSUTCDATETIME\(\)\)\)/s);
    expect(health.recordProbeFailureSql('ch', 'e', 5).text).toContain('AND paused_at IS NOT NULL');
  });

  it('leave a delivery on a paused channel alone, and treat waiting as not final', () => {
    expect(q.startAttemptSql('d', 2, 'r').text).toContain('NOT EXISTS (SELECT 1 FROM dist.delivery_channels pc WHERE pc.channel_id = h.channel_id AND pc.paused_at IS NOT NULL)');
    expect(q.markFailureSql('d', 'waiting', '{}').text).toContain("status NOT IN (N'delivered')");
    expect(q.disableChannelSql('ch', 'GONE').text).toContain('OUTPUT INSERTED.channel_id WHERE channel_id = @channel_id AND enabled = 1');
  });
});

describe('migration 007 in both dialects', () => {
  const columns = (sql: string) => [...sql.replace(/--[^\n]*/g, '').matchAll(/^\s*(?:ADD COLUMN\s+|ALTER TABLE \S+ ADD\s+)?([a-z_]+)\s+(?:varchar|nvarchar|integer|int|timestamptz|datetime2|text)\b/gm)].map((m) => m[1]).sort();
  const pg = fs.readFileSync(path.join(root, 'postgres/007_channel_health.sql'), 'utf8');
  const ms = fs.readFileSync(path.join(root, 'mssql/007_channel_health.sql'), 'utf8');

  it('adds the same channel columns and allows the waiting status', () => {
    expect(columns(ms)).toEqual(columns(pg));
    expect(columns(pg)).toHaveLength(11);
    for (const sql of [pg, ms]) expect(sql).toMatch(/'waiting'/);
    expect(ms).not.toMatch(/^GO$/m);
  });

  it('rolls back in both dialects, moving waiting deliveries back to retrying first', () => {
    for (const dialect of ['postgres', 'mssql']) {
      const down = fs.readFileSync(path.join(root, `${dialect}/007_channel_health.down.sql`), 'utf8');
      expect(down.indexOf("'retrying' WHERE status =")).toBeLessThan(down.indexOf('DROP CONSTRAINT ck_delivery_history_status'));
      expect(down).toMatch(/DROP COLUMN IF EXISTS health_status/);
    }
  });
});
