// Pure pieces of report distribution: retry policies, sealed secrets, ids, filters, the event's shape, --since.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { mayAccess } from '../../src/reporting/api-keys';
import { deliveryIdFor, matchesFilters } from '../../src/reporting/deliveries';
import { announceDistribution, deliveredTopic, distributionEventId, reportDistributedEvent, reportDistributionEvent, topicTypeOf } from '../../src/reporting/event';
import { statsRangeOf } from '../../src/reporting/stats';
import { memoryEvents } from '../support/reporting';
import { defaultRetryPolicies, nextRetryDelayMs, resolveRetryPolicies } from '../../src/reporting/retry-policy';
import { NoSecretsKeyError, isSealed, open, openChannelConfig, seal, sealChannelConfig, secretsKeyFrom } from '../../src/reporting/sealed-config';
import { parseSince } from '../../src/since';
import type { DeliveryRecord, SubscriptionRecord } from '../../src/reporting/types';

const key = secretsKeyFrom(crypto.randomBytes(32).toString('base64'));
const otherKey = secretsKeyFrom(crypto.randomBytes(32).toString('base64'));

describe('retry policies', () => {
  it('are configurable per channel, with "default" applying to all, from REFDATA_DELIVERY_RETRY', () => {
    const c = loadConfig({ REFDATA_DELIVERY_RETRY: JSON.stringify({ default: { maximumIntervalMs: 600_000 }, EMAIL: { deadlineMs: 3_600_000, maximumAttempts: 5 } }) });
    expect(c.reporting.retry.EMAIL).toMatchObject({ deadlineMs: 3_600_000, maximumAttempts: 5, maximumIntervalMs: 600_000, initialIntervalMs: defaultRetryPolicies.EMAIL.initialIntervalMs });
    expect(c.reporting.retry.API_WEBHOOK).toMatchObject({ ...defaultRetryPolicies.API_WEBHOOK, maximumIntervalMs: 600_000 });
    expect(loadConfig({}).reporting.retry).toEqual(defaultRetryPolicies);
  });

  it('refuses unknown channels, fields and values, naming them', () => {
    for (const bad of ['{', '{"FAX":{}}', '{"EMAIL":{"deadline":1}}', '{"EMAIL":{"backoffCoefficient":0}}']) {
      expect(() => loadConfig({ REFDATA_DELIVERY_RETRY: bad }), bad).toThrow(ConfigError);
    }
  });

  it('never lets the maximum interval fall below the first one, and clamps a peer\'s Retry-After to it', () => {
    expect(resolveRetryPolicies({ SFTP: { initialIntervalMs: 60_000, maximumIntervalMs: 1_000 } }).SFTP.maximumIntervalMs).toBe(60_000);
    expect(nextRetryDelayMs(5_000, { maximumIntervalMs: 60_000 })).toBe(5_000);
    expect(nextRetryDelayMs(7 * 86_400_000, { maximumIntervalMs: 60_000 })).toBe(60_000);
    expect(nextRetryDelayMs(undefined, { maximumIntervalMs: 60_000 })).toBeUndefined();
  });
});

describe('sealed channel secrets', () => {
  it('round-trip under the same key and channel, and fail loudly otherwise', () => {
    const sealed = seal('whsec_abc', key, 'ch_1');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('whsec_abc');
    expect(open(sealed, key, 'ch_1')).toBe('whsec_abc');
    expect(() => open(sealed, key, 'ch_2')).toThrow(/does not open/);
    expect(() => open(sealed, otherKey, 'ch_1')).toThrow(new RegExp(`sealed with key ${key.keyId}, this process has key ${otherKey.keyId}`));
    expect(seal('x', key, 'c')).not.toBe(seal('x', key, 'c'));
  });

  it('seal exactly the fields the channel schema marks secret, leaving the rest readable', () => {
    const webhook = { url: 'https://r.example/hook', secret: 'whsec_abc', format: 'json', headers: { authorization: 'Bearer t' } };
    const stored = sealChannelConfig('API_WEBHOOK', webhook, key, 'ch_1') as typeof webhook;
    expect(stored.url).toBe(webhook.url);
    expect(stored.format).toBe('json');
    expect(isSealed(stored.secret)).toBe(true);
    expect(isSealed(stored.headers.authorization)).toBe(true);
    expect(openChannelConfig(stored, key, 'ch_1')).toEqual(webhook);
    const sftp = { host: 'h', port: 22, username: 'u', auth: { type: 'password', password: 'pw' }, remoteDir: '.', overwrite: true };
    const sealedSftp = sealChannelConfig('SFTP', sftp, key, 'ch_2') as typeof sftp;
    expect(sealedSftp.username).toBe('u');
    expect(isSealed(sealedSftp.auth.password)).toBe(true);
    // Sealing twice leaves sealed values alone.
    expect(sealChannelConfig('SFTP', sealedSftp, key, 'ch_2')).toEqual(sealedSftp);
  });

  it('needs a key only when there is a secret to seal or open', () => {
    expect(sealChannelConfig('DASHBOARD_NOTIFICATION', { severity: 'info', audience: ['a'] }, null, 'c')).toEqual({ severity: 'info', audience: ['a'] });
    expect(() => sealChannelConfig('API_WEBHOOK', { url: 'https://x', secret: 's' }, null, 'c')).toThrow(NoSecretsKeyError);
    expect(() => openChannelConfig({ secret: seal('s', key, 'c') }, null, 'c')).toThrow(/no REFDATA_SECRETS_KEY/);
  });

  it('REFDATA_SECRETS_KEY must be base64 of 32 bytes', () => {
    expect(() => loadConfig({ REFDATA_SECRETS_KEY: 'short' })).toThrow(/REFDATA_SECRETS_KEY/);
    expect(loadConfig({ REFDATA_SECRETS_KEY: crypto.randomBytes(32).toString('base64') }).reporting.secretsKey).toBeDefined();
  });
});

describe('deliveries', () => {
  it('have one stable id per report × subscription × channel', () => {
    expect(deliveryIdFor('r1', 's1', 'c1')).toBe(deliveryIdFor('r1', 's1', 'c1'));
    expect(new Set([deliveryIdFor('r1', 's1', 'c1'), deliveryIdFor('r1', 's1', 'c2'), deliveryIdFor('r1', 's2', 'c1'), deliveryIdFor('r2', 's1', 'c1'), deliveryIdFor('r', '1s1', 'c1')]).size).toBe(5);
    expect(deliveryIdFor('r1', 's1', 'c1')).toMatch(/^dlv_[0-9a-f]{32}$/);
  });

  it('go to subscriptions whose filters match the report', () => {
    const sub = (filters: SubscriptionRecord['filters']) => ({ filters }) as SubscriptionRecord;
    const report = { report_id: 'r', report_type: 'RISK_REPORT' as const, portfolio_id: 'p1', report_period: '2025-06', metadata: { desk: 'rates', n: 3 } };
    expect(matchesFilters(sub(null), report)).toBe(true);
    expect(matchesFilters(sub({ portfolioIds: ['p1', 'p2'] }), report)).toBe(true);
    expect(matchesFilters(sub({ portfolioIds: ['p2'] }), report)).toBe(false);
    expect(matchesFilters(sub({ metadata: { desk: 'rates', n: '3', report_period: '2025-06' } }), report)).toBe(true);
    expect(matchesFilters(sub({ metadata: { desk: 'fx' } }), report)).toBe(false);
    expect(matchesFilters(sub({ metadata: { missing: 'x' } }), report)).toBe(false);
  });

  it('are visible to a subscriber key only when they are its own', () => {
    expect(mayAccess({ role: 'subscriber', subscriberId: 'a', keyId: 'k' }, 'a')).toBe(true);
    expect(mayAccess({ role: 'subscriber', subscriberId: 'a', keyId: 'k' }, 'b')).toBe(false);
    expect(mayAccess({ role: 'operator', subscriberId: null, keyId: 'k' }, 'b')).toBe(true);
  });
});

describe('report_distributed', () => {
  it('goes to a Kafka-legal topic per report type', () => {
    expect(topicTypeOf('PERFORMANCE_REPORT')).toBe('performance');
    expect(deliveredTopic('REFERENCE_DATA')).toBe('reporting.reference_data.delivered');
    expect(deliveredTopic('RISK_REPORT', 'desk.{type}.out')).toBe('desk.risk.out');
  });

  it('keeps the original event\'s shape', () => {
    const d = {
      deliveryId: 'd', subscriberId: 'client_001', channel: 'EMAIL', priority: 1, reportType: 'PERFORMANCE_REPORT',
      payload: { report: { reportId: 'report_20250621_001', reportType: 'PERFORMANCE_REPORT', portfolioId: 'portfolio_001', reportPeriod: '2025-06', filePath: '/reports/p.pdf', fileSizeBytes: 2048576, routingKey: 'portfolio_001.performance.monthly', sourceService: 'report_generation_service', encryptionRequired: true, retentionDays: 90 } },
    } as unknown as DeliveryRecord;
    expect(reportDistributedEvent(d, 'uuid', 'reporting.performance.delivered', new Date('2025-06-21T10:00:00.000Z'))).toEqual({
      event_id: 'uuid',
      timestamp: '2025-06-21T10:00:00.000Z',
      distribution: { topic: 'reporting.performance.delivered', routing_key: 'portfolio_001.performance.monthly', target_subscribers: ['client_001'], delivery_channels: ['EMAIL'], scope: 'delivery' },
      report_data: { report_id: 'report_20250621_001', report_type: 'PERFORMANCE_REPORT', portfolio_id: 'portfolio_001', report_period: '2025-06', file_path: '/reports/p.pdf', file_size_bytes: 2048576 },
      metadata: { source_service: 'report_generation_service', delivery_priority: 1, encryption_required: true, retention_days: 90 },
    });
  });
});

describe('report_distributed per distribution', () => {
  const report = {
    reportId: 'report_20250621_001', reportType: 'PERFORMANCE_REPORT', portfolioId: 'portfolio_001', reportPeriod: '2025-06', filePath: '/reports/p.pdf', fileSizeBytes: 2048576,
    routingKey: 'portfolio_001.performance.monthly', sourceService: 'report_generation_service', encryptionRequired: true, retentionDays: 90,
  } as const;
  const planned = [
    { deliveryId: 'd3', subscriberId: 'portfolio_manager_001', channel: 'DASHBOARD_NOTIFICATION' },
    { deliveryId: 'd1', subscriberId: 'client_001', channel: 'EMAIL' },
    { deliveryId: 'd2', subscriberId: 'client_001', channel: 'DASHBOARD_NOTIFICATION' },
  ];

  it('lists every target subscriber and channel once, as the original example does', () => {
    const e = reportDistributionEvent(report, planned, 1, 'reporting.performance.delivered', new Date('2025-06-21T10:00:00.000Z'));
    expect(e).toEqual({
      event_id: distributionEventId('report_20250621_001', planned),
      timestamp: '2025-06-21T10:00:00.000Z',
      distribution: {
        topic: 'reporting.performance.delivered', routing_key: 'portfolio_001.performance.monthly',
        target_subscribers: ['client_001', 'portfolio_manager_001'], delivery_channels: ['DASHBOARD_NOTIFICATION', 'EMAIL'], scope: 'distribution',
      },
      report_data: { report_id: 'report_20250621_001', report_type: 'PERFORMANCE_REPORT', portfolio_id: 'portfolio_001', report_period: '2025-06', file_path: '/reports/p.pdf', file_size_bytes: 2048576 },
      metadata: { source_service: 'report_generation_service', delivery_priority: 1, encryption_required: true, retention_days: 90 },
    });
  });

  it('has one id per report and set of deliveries, whatever their order', () => {
    expect(distributionEventId('r', planned)).toBe(distributionEventId('r', [...planned].reverse()));
    expect(distributionEventId('r', planned)).not.toBe(distributionEventId('r', planned.slice(1)));
    expect(distributionEventId('r', planned)).not.toBe(distributionEventId('r2', planned));
  });

  it('is stored once per distribution, and not at all when nothing was planned', async () => {
    const events = memoryEvents();
    await announceDistribution(events, report, planned, 3);
    await announceDistribution(events, report, [], 3);
    expect(events.events).toHaveLength(1);
    expect(events.events[0]).toMatchObject({ topic: 'reporting.performance.delivered', key: 'portfolio_001.performance.monthly', eventId: distributionEventId(report.reportId, planned) });
  });
});

describe('stats range', () => {
  const now = new Date('2025-06-21T10:00:00Z');
  it('defaults to the last day up to now', () => {
    expect(statsRangeOf({}, now)).toEqual({ from: new Date('2025-06-20T10:00:00Z'), to: now });
    expect(statsRangeOf({ to: '2025-06-01' }, now)).toEqual({ from: new Date('2025-05-31T00:00:00Z'), to: new Date('2025-06-01T00:00:00Z') });
  });
  it('takes ISO dates (midnight UTC) and times with a zone', () => {
    expect(statsRangeOf({ from: '2025-06-01', to: '2025-06-02T05:30:00+05:30' }, now)).toEqual({ from: new Date('2025-06-01T00:00:00Z'), to: new Date('2025-06-02T00:00:00Z') });
  });
  it.each([
    [{ from: 'yesterday' }, /from "yesterday" is not an ISO date/],
    [{ from: '2025-02-30' }, /not an ISO date/],
    [{ from: '2025-06-01T10:00' }, /not an ISO date/],
    [{ from: '2025-06-02', to: '2025-06-02' }, /must be before/],
    [{ from: '2025-06-03', to: '2025-06-02' }, /must be before/],
    [{ from: '2024-01-01', to: '2025-06-02' }, /longer than 366 days/],
  ])('refuses %j (400 INVALID_RANGE)', (q, message) => {
    expect(() => statsRangeOf(q, now)).toThrow(message);
    try {
      statsRangeOf(q, now);
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_RANGE', httpStatus: 400 });
    }
  });
});

describe('--since', () => {
  const now = new Date('2025-06-21T10:00:00Z');
  it.each([
    ['24h', '2025-06-20T10:00:00.000Z'], ['30m', '2025-06-21T09:30:00.000Z'], ['7d', '2025-06-14T10:00:00.000Z'], ['90s', '2025-06-21T09:58:30.000Z'],
    ['2025-06-01T00:00:00Z', '2025-06-01T00:00:00.000Z'],
  ])('%s', (text, expected) => expect(parseSince(text, now).toISOString()).toBe(expected));
  it('refuses anything else', () => expect(() => parseSince('yesterday', now)).toThrow(/--since/));
});
