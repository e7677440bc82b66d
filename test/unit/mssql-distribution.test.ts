// The SQL Server distribution store without a server: its migration mirrors PostgreSQL's, and every generated
// statement binds exactly the @params it reads, carries values only as parameters, and chunks under the 2,100 limit.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as q from '../../src/db/mssql/distribution-sql';
import type { NewDelivery } from '../../src/db/distribution';
import { expectParamsConsistent } from './mssql/statement-check';

const root = path.resolve(__dirname, '../../sql');
const pgSql = fs.readFileSync(path.join(root, 'postgres/003_distribution.sql'), 'utf8');
const msSql = fs.readFileSync(path.join(root, 'mssql/003_distribution.sql'), 'utf8');

function columnsOf(sql: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of sql.replace(/--[^\n]*/g, '').matchAll(/CREATE TABLE\s+([\w.]+)\s*\(([\s\S]*?)\n\);/g)) {
    out.set(m[1]!, m[2]!.split('\n').map((l) => l.trim().split(/\s+/)[0]!.replace(/[[\]"]/g, '')).filter((c) => c && c !== 'CONSTRAINT'));
  }
  return out;
}

const evil = "x'); DROP TABLE dist.delivery_history; --";
const delivery = (n: number): NewDelivery => ({
  deliveryId: `dlv_${n}`, subscriptionId: 'sub', subscriberId: 'client', reportId: evil, reportType: 'RISK_REPORT', channel: 'API_WEBHOOK',
  channelId: 'ch', priority: 2, workflowId: `delivery:dlv_${n}`,
  payload: { message: { deliveryId: `dlv_${n}`, createdAt: 'now', reportId: evil, reportType: 'RISK_REPORT', title: 't', metadata: {}, attachments: [] }, report: {
    reportId: evil, reportType: 'RISK_REPORT', portfolioId: null, reportPeriod: null, filePath: null, fileSizeBytes: null, routingKey: 'k', sourceService: 's', encryptionRequired: false, retentionDays: 1,
  } },
});

describe('sql/mssql/003_distribution.sql', () => {
  it('creates the same tables and columns as the PostgreSQL migration, as one batch without GO', () => {
    expect(columnsOf(msSql)).toEqual(columnsOf(pgSql));
    expect([...columnsOf(msSql).keys()]).toEqual([
      'dist.report_subscriptions', 'dist.delivery_channels', 'dist.delivery_history', 'dist.distribution_stats', 'dist.notifications', 'ref.api_keys',
    ]);
    expect(msSql).not.toMatch(/^\s*GO\s*$/im);
    expect(msSql).not.toMatch(/outbox/i);
  });

  it('checks JSON columns and the closed lists of statuses and roles', () => {
    for (const col of ['report_types', 'delivery_preferences', 'channel_config', 'payload', 'body']) expect(msSql).toMatch(new RegExp(`ISJSON\\(${col}\\) = 1`));
    expect(msSql).toMatch(/status IN \(N'pending', N'sending', N'retrying', N'delivered', N'failed', N'cancelled'\)/);
    expect(msSql).toMatch(/role IN \(N'admin', N'operator', N'subscriber'\)/);
  });

  it('has a rollback that drops every table it created', () => {
    const down = fs.readFileSync(path.join(root, 'mssql/003_distribution.down.sql'), 'utf8');
    for (const t of columnsOf(msSql).keys()) expect(down).toContain(`DROP TABLE IF EXISTS ${t};`);
  });
});

describe('generated statements', () => {
  const sub = {
    subscriptionId: 'sub', subscriberId: 'client', subscriberType: 'REAL_TIME' as const, reportTypes: ['RISK_REPORT' as const],
    deliveryPreferences: { channels: [], schedule: null, formatPreferences: [], notificationSettings: {} }, filters: null,
  };
  const statements = [
    q.insertSubscriptionSql(sub),
    q.insertChannelSql({ channelId: 'ch', channelType: 'API_WEBHOOK', config: { url: evil }, subscriptionId: 'sub', subscriberId: 'client' }),
    q.selectSubscriptionSql(evil),
    q.listSubscriptionsSql({ subscriberId: 'c', status: 'active', limit: 5 }),
    q.listSubscriptionsSql({ limit: 5 }),
    q.activeSubscriptionsSql('RISK_REPORT'),
    q.setSubscriptionStatusSql('sub', 'active'),
    q.setSubscriptionStatusSql('sub', 'paused'),
    q.lockSubscriptionSql(evil),
    q.updateSubscriptionSql({ subscriptionId: 'sub', subscriberType: 'REAL_TIME', reportTypes: ['RISK_REPORT'], deliveryPreferences: { channels: [], schedule: null, formatPreferences: [], notificationSettings: {} }, filters: null }),
    q.deleteSubscriptionChannelsSql('sub', ['a', evil]),
    q.selectChannelSql('ch'),
    q.listChannelsSql({ subscriberId: 'c', subscriptionId: 's' }),
    q.listChannelsSql({}),
    q.listChannelsSql({ subscriptionIds: ['a', evil] }),
    q.disableChannelSql('ch', 'gone'),
    q.selectDeliverySql('d', true),
    q.listDeliveriesSql({ subscriberId: 'c', subscriptionId: 's', status: 'failed', channel: 'EMAIL', since: new Date(0), limit: 10 }),
    q.startAttemptSql('d', 3, 'run'),
    q.subscriptionStatusSql('s'),
    q.markDeliveredSql('d'),
    q.markFailureSql('d', 'retrying', '{}'),
    q.markFailureSql('d', 'failed', '{}'),
    q.markReplaySql('d'),
    q.countStatSql({ deliveryId: 'd', reportType: 'RISK_REPORT', channel: 'EMAIL' }, 'deliveries_attempted'),
    q.countStatSql({ deliveryId: 'd', reportType: 'RISK_REPORT', channel: 'EMAIL' }, 'deliveries_successful', 42),
    q.statsSinceSql(new Date(0)),
    q.statsSinceSql(new Date(0), new Date(1000)),
    q.deliveryStatsSql({ from: new Date(0), to: new Date(1000) }),
    q.deliveryStatsSql({ from: new Date(0), to: new Date(1000), subscriberId: evil }),
    q.upsertNotificationSql({ id: 'd', severity: 'info', reportId: 'r', reportType: 'RISK_REPORT', title: 't' }, '{}'),
    q.selectNotificationSql('d'),
    q.listNotificationsSql({ subscriberId: 'c', limit: 3 }),
    q.insertApiKeySql({ keyId: 'k', keyHash: 'h', role: 'subscriber', subscriberId: 'c', label: null }),
    q.findApiKeySql('h'),
    q.revokeApiKeySql('k'),
    ...q.insertDeliveriesSql([delivery(1), delivery(2)]),
  ];

  it('bind exactly the parameters they reference', () => {
    for (const stmt of statements) expectParamsConsistent(stmt);
  });

  it('never carry a value in their text', () => {
    for (const stmt of statements) {
      expect(stmt.text).not.toContain('DROP TABLE');
      expect(stmt.text).not.toContain('https://');
    }
  });

  it('insert deliveries in chunks under SQL Server\'s 2,100 parameters, skipping ids that exist', () => {
    const many = Array.from({ length: 450 }, (_, i) => delivery(i));
    const chunks = q.insertDeliveriesSql(many);
    expect(chunks).toHaveLength(3);
    for (const c of chunks) {
      expect(Object.keys(c.params).length).toBeLessThanOrEqual(2100);
      expect(c.text).toMatch(/WHERE NOT EXISTS \(SELECT 1 FROM dist\.delivery_history h WITH \(UPDLOCK, HOLDLOCK\) WHERE h\.delivery_id = v\.delivery_id\)/);
      expect(c.text).toContain('OUTPUT INSERTED.delivery_id');
    }
    // 11 parameters a row (migration 014 added held_for).
    expect(Object.keys(chunks[2].params).length).toBe((450 - 2 * q.DELIVERY_ROWS_PER_STATEMENT) * 11);
  });

  it('count a success once: only a row not yet delivered is updated, and the stats bucket is the UTC hour', () => {
    expect(q.markDeliveredSql('d').text).toContain("status <> N'delivered'");
    expect(q.markFailureSql('d', 'failed', '{}').text).toContain("status NOT IN (N'delivered', N'failed', N'cancelled')");
    expect(q.markFailureSql('d', 'retrying', '{}').text).toContain("status NOT IN (N'delivered')");
    const stat = q.countStatSql({ deliveryId: 'd', reportType: 'RISK_REPORT', channel: 'EMAIL' }, 'deliveries_successful', 42);
    expect(stat.text).toMatch(/DATEADD\(hour, DATEDIFF\(hour, .*SYSUTCDATETIME\(\)\)/);
    expect(stat.text).toContain('WITH (UPDLOCK, HOLDLOCK)');
    expect(stat.params.latency).toEqual({ type: 'int', value: 42 });
    expect(stat.text).toContain('AND shard = @shard');
  });

  it('look the channels of many subscriptions up through one JSON parameter, whatever their number', () => {
    const ids = Array.from({ length: 3000 }, (_, i) => `sub_${i}`);
    const stmt = q.listChannelsSql({ subscriptionIds: ids });
    expect(stmt.text).toContain("subscription_id IN (SELECT j.id FROM OPENJSON(@subscription_ids) WITH (id nvarchar(100) '$') AS j)");
    expect(Object.keys(stmt.params)).toEqual(['subscription_ids']);
    expect(JSON.parse(String(stmt.params.subscription_ids!.value))).toEqual(ids);
  });

  it('match report types inside the JSON array and re-enable channels only on resume', () => {
    expect(q.activeSubscriptionsSql('RISK_REPORT').text).toContain('OPENJSON(report_types)');
    expect(q.setSubscriptionStatusSql('s', 'active').text).toContain('UPDATE dist.delivery_channels SET enabled = 1');
    expect(q.setSubscriptionStatusSql('s', 'paused').text).not.toContain('delivery_channels');
  });
});
