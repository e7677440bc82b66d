// The distribution store on SQL Server: runs the statements of distribution-sql.ts, transactions where rows move together.
import type sql from 'mssql';
import type { DistributionStore } from '../distribution';
import { apiKeyFromRow, channelFromRow, deliveryFromRow, deliveryStatsFromRow, notificationFromRow, statsFromRow, subscriptionFromRow } from '../distribution-rows';
import type { SubscriptionStatus } from '../../reporting/types';
import { rowsOf, run, withTransaction, type Runner } from './client';
import * as q from './distribution-sql';
import * as health from './channel-health-sql';

async function one(on: Runner, stmt: Parameters<typeof rowsOf>[1]) {
  const [row] = await rowsOf(on, stmt);
  return row ?? null;
}

export function createMssqlDistributionStore(pool: sql.ConnectionPool): DistributionStore {
  return {
    createSubscription: (sub, channels) =>
      withTransaction(pool, async (tx) => {
        const inserted = await one(tx, q.insertSubscriptionSql(sub));
        if (!inserted) return { created: false, subscription: subscriptionFromRow((await one(tx, q.selectSubscriptionSql(sub.subscriptionId)))!) };
        for (const c of channels) await run(tx, q.insertChannelSql(c));
        return { created: true, subscription: subscriptionFromRow(inserted) };
      }),
    async getSubscription(id) {
      const row = await one(pool, q.selectSubscriptionSql(id));
      return row ? subscriptionFromRow(row) : null;
    },
    async listSubscriptions(filter) {
      return (await rowsOf(pool, q.listSubscriptionsSql(filter))).map(subscriptionFromRow);
    },
    async activeSubscriptionsFor(reportType) {
      return (await rowsOf(pool, q.activeSubscriptionsSql(reportType))).map(subscriptionFromRow);
    },
    updateSubscription: (id, u) =>
      withTransaction(pool, async (tx) => {
        const current = await one(tx, q.lockSubscriptionSql(id));
        if (!current) return null;
        const stored = subscriptionFromRow(current);
        if (u.expectedVersion !== null && stored.version !== u.expectedVersion) return { outcome: 'conflict' as const, subscription: stored };
        const c = u.change;
        const row = await one(tx, q.updateSubscriptionSql({
          subscriptionId: id, subscriberType: c.subscriberType ?? stored.subscriberType, reportTypes: c.reportTypes ?? stored.reportTypes,
          deliveryPreferences: c.deliveryPreferences ?? stored.deliveryPreferences, filters: c.filters === undefined ? stored.filters : c.filters,
        }));
        if (u.removeChannelIds.length > 0) await run(tx, q.deleteSubscriptionChannelsSql(id, u.removeChannelIds));
        for (const ch of u.addChannels) await run(tx, q.insertChannelSql(ch));
        return { outcome: 'updated' as const, subscription: subscriptionFromRow(row!) };
      }),
    setSubscriptionStatus: (id, status) =>
      withTransaction(pool, async (tx) => {
        // The statement's last result set is the row after the update; an unknown id selects nothing.
        const result = await run(tx, q.setSubscriptionStatusSql(id, status));
        const sets = (result.recordsets as unknown as Record<string, unknown>[][]) ?? [];
        const row = sets[sets.length - 1]?.[0];
        return row ? subscriptionFromRow(row) : null;
      }),
    async getChannel(channelId) {
      const row = await one(pool, q.selectChannelSql(channelId));
      return row ? channelFromRow(row) : null;
    },
    async listChannels(filter) {
      if (filter.subscriptionIds?.length === 0) return [];
      return (await rowsOf(pool, q.listChannelsSql(filter))).map(channelFromRow);
    },
    async disableChannel(channelId, reason) {
      return (await rowsOf(pool, q.disableChannelSql(channelId, reason))).length > 0;
    },
    async updateChannel(channelId, change) {
      const row = await one(pool, health.updateChannelSql(channelId, change));
      return row ? channelFromRow(row) : null;
    },
    async recordChannelFailure(channelId, failure) {
      const row = await one(pool, health.recordChannelFailureSql(channelId, failure));
      return row ? { channel: channelFromRow(row), becameUnhealthy: row.became_unhealthy === true || row.became_unhealthy === 1 } : null;
    },
    async recordChannelSuccess(channelId) {
      const row = await one(pool, health.recordChannelSuccessSql(channelId));
      return row ? { channel: channelFromRow(row), recovered: row.recovered === true || row.recovered === 1 } : null;
    },
    async markChannelHealthy(channelId, via) {
      const row = await one(pool, health.markChannelHealthySql(channelId, via));
      return row ? { channel: channelFromRow(row), recovered: row.recovered === true || row.recovered === 1 } : null;
    },
    async recordProbeFailure(channelId, error, nextProbeInMs) {
      const row = await one(pool, health.recordProbeFailureSql(channelId, error, nextProbeInMs));
      return row ? channelFromRow(row) : null;
    },
    async createDeliveries(deliveries) {
      const inserted = new Set<string>();
      // All chunks or none, so a retried request inserts each delivery once.
      await withTransaction(pool, async (tx) => {
        for (const stmt of q.insertDeliveriesSql(deliveries)) for (const r of await rowsOf(tx, stmt)) inserted.add(String(r.delivery_id));
      });
      return inserted;
    },
    async getDelivery(id) {
      const row = await one(pool, q.selectDeliverySql(id));
      return row ? deliveryFromRow(row) : null;
    },
    async listDeliveries(filter) {
      return (await rowsOf(pool, q.listDeliveriesSql(filter))).map(deliveryFromRow);
    },
    async beginAttempt(deliveryId, attempt, runId) {
      const started = await withTransaction(pool, async (tx) => {
        const row = await one(tx, q.startAttemptSql(deliveryId, attempt, runId));
        if (row) await run(tx, q.countStatSql(deliveryFromRow(row), 'deliveries_attempted'));
        return row;
      });
      const row = started ?? (await one(pool, q.selectDeliverySql(deliveryId)));
      if (!row) return null;
      const [channel, sub] = await Promise.all([one(pool, q.selectChannelSql(String(row.channel_id))), one(pool, q.subscriptionStatusSql(String(row.subscription_id)))]);
      return {
        delivery: deliveryFromRow(row),
        channel: channel ? channelFromRow(channel) : null,
        subscriptionStatus: sub ? (String(sub.status) as SubscriptionStatus) : null,
      };
    },
    recordDelivered: (deliveryId) =>
      withTransaction(pool, async (tx) => {
        const row = await one(tx, q.markDeliveredSql(deliveryId));
        if (!row) {
          const current = await one(tx, q.selectDeliverySql(deliveryId));
          return current ? deliveryFromRow(current) : null;
        }
        const d = deliveryFromRow(row);
        await run(tx, q.countStatSql(d, 'deliveries_successful', d.latencyMs ?? 0));
        return d;
      }),
    recordFailure: (deliveryId, status, errorDetails) =>
      withTransaction(pool, async (tx) => {
        const row = await one(tx, q.markFailureSql(deliveryId, status, errorDetails));
        if (!row) {
          const current = await one(tx, q.selectDeliverySql(deliveryId));
          return current ? deliveryFromRow(current) : null;
        }
        const d = deliveryFromRow(row);
        if (status === 'failed') await run(tx, q.countStatSql(d, 'deliveries_failed'));
        return d;
      }),
    async listHeldDeliveries(subscriptionId, limit) {
      return (await rowsOf(pool, q.listHeldDeliveriesSql(subscriptionId, limit))).map(deliveryFromRow);
    },
    async markReleased(deliveryIds) {
      if (deliveryIds.length === 0) return 0;
      return (await rowsOf(pool, q.markReleasedSql(deliveryIds))).length;
    },
    async markReplayRequested(deliveryId) {
      const row = await one(pool, q.markReplaySql(deliveryId));
      return row ? deliveryFromRow(row) : null;
    },
    async statsSince(since) {
      return (await rowsOf(pool, q.statsSinceSql(since))).map(statsFromRow);
    },
    async statsBetween(from, to) {
      return (await rowsOf(pool, q.statsSinceSql(from, to))).map(statsFromRow);
    },
    async deliveryStatsBetween(range) {
      return (await rowsOf(pool, q.deliveryStatsSql(range))).map(deliveryStatsFromRow);
    },
    async upsertNotification(n) {
      return notificationFromRow((await one(pool, q.upsertNotificationSql(n, JSON.stringify(n))))!);
    },
    async getNotification(id) {
      const row = await one(pool, q.selectNotificationSql(id));
      return row ? notificationFromRow(row) : null;
    },
    async listNotifications(filter) {
      return (await rowsOf(pool, q.listNotificationsSql(filter))).map(notificationFromRow);
    },
    async createApiKey(k) {
      return apiKeyFromRow((await one(pool, q.insertApiKeySql(k)))!);
    },
    async findApiKeyByHash(hash) {
      const row = await one(pool, q.findApiKeySql(hash));
      return row ? apiKeyFromRow(row) : null;
    },
    async listApiKeys() {
      return (await rowsOf(pool, q.listApiKeysSql)).map(apiKeyFromRow);
    },
    async revokeApiKey(keyId) {
      return (await rowsOf(pool, q.revokeApiKeySql(keyId))).length > 0;
    },
  };
}
