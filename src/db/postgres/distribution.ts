// The distribution store on PostgreSQL: JSON in jsonb, counters by upsert, times from the database clock.
import { statsShardOf, type DistributionStore, type NewChannel, type NewDelivery } from '../distribution';
import { apiKeyFromRow, channelFromRow, deliveryFromRow, deliveryStatsFromRow, notificationFromRow, statsFromRow, subscriptionFromRow } from '../distribution-rows';
import type { PgExecutor, PgSession, SqlValue } from './executor';
import { beginAttemptSql, recordDeliveredSql, recordFailureSql } from './delivery-attempt-sql';
import { markChannelHealthySql, recordChannelFailureSql, recordChannelSuccessSql, recordProbeFailureSql, updateChannelSql } from './channel-health-sql';

async function insertChannel(s: PgSession, c: NewChannel): Promise<void> {
  await s.query(
    `INSERT INTO dist.delivery_channels (channel_id, channel_type, channel_config, subscription_id, subscriber_id) VALUES ($1, $2, $3::jsonb, $4, $5)`,
    [c.channelId, c.channelType, JSON.stringify(c.config), c.subscriptionId, c.subscriberId],
  );
}

async function deliveryRow(s: PgSession, deliveryId: string, lock = false) {
  const rows = await s.query(`SELECT * FROM dist.delivery_history WHERE delivery_id = $1${lock ? ' FOR UPDATE' : ''}`, [deliveryId]);
  return rows[0] ?? null;
}

const limitOf = (n: number) => Math.min(Math.max(n, 1), 10_000);

const STATS_AGGREGATES =
  "count(DISTINCT report_id) AS reports, count(*) AS deliveries, count(*) FILTER (WHERE status = 'delivered') AS delivered, " +
  "count(*) FILTER (WHERE status = 'failed') AS failed, count(*) FILTER (WHERE status = 'cancelled') AS cancelled, " +
  "count(*) FILTER (WHERE status IN ('pending', 'sending', 'retrying', 'waiting')) AS in_progress, sum(retry_count) AS retries, sum(replay_count) AS replays, " +
  "avg(latency_ms::float8) FILTER (WHERE status = 'delivered') AS avg_latency_ms, max(latency_ms) FILTER (WHERE status = 'delivered') AS max_latency_ms";

/** Deliveries created in [$1, $2) (and of subscriber $3 when given), grouped four ways in one statement. */
function deliveryStatsSql(bySubscriber: boolean): string {
  const group = (dimension: string, key: string | null) =>
    `SELECT '${dimension}' AS dimension, ${key ?? 'NULL::text'} AS stat_key, ${STATS_AGGREGATES} FROM d${key ? ` GROUP BY ${key}` : ''}`;
  return `WITH d AS (SELECT * FROM dist.delivery_history WHERE created_at >= $1 AND created_at < $2${bySubscriber ? ' AND subscriber_id = $3' : ''})\n` +
    [group('report_type', 'report_type'), group('channel', 'channel'), group('subscriber', 'subscriber_id'), group('total', null)].join('\nUNION ALL ') +
    '\nORDER BY dimension, stat_key';
}

const STATS_SQL = `SELECT report_type, channel, sum(deliveries_attempted) AS attempted, sum(deliveries_successful) AS successful, sum(deliveries_failed) AS failed,
                sum(total_delivery_time_ms) AS total_ms
           FROM dist.distribution_stats WHERE "timestamp" >= $1 AND ($2::timestamptz IS NULL OR "timestamp" < $2) GROUP BY report_type, channel ORDER BY report_type, channel`;

export function createPostgresDistributionStore(exec: PgExecutor): DistributionStore {
  return {
    async createSubscription(sub, channels) {
      return exec.transaction(async (tx) => {
        const rows = await tx.query(
          `INSERT INTO dist.report_subscriptions (subscription_id, subscriber_id, subscriber_type, report_types, delivery_preferences, filters)
           VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb) ON CONFLICT (subscription_id) DO NOTHING RETURNING *`,
          [sub.subscriptionId, sub.subscriberId, sub.subscriberType, JSON.stringify(sub.reportTypes), JSON.stringify(sub.deliveryPreferences), sub.filters ? JSON.stringify(sub.filters) : null],
        );
        if (rows.length === 0) {
          const [existing] = await tx.query('SELECT * FROM dist.report_subscriptions WHERE subscription_id = $1', [sub.subscriptionId]);
          return { created: false, subscription: subscriptionFromRow(existing) };
        }
        for (const c of channels) await insertChannel(tx, c);
        return { created: true, subscription: subscriptionFromRow(rows[0]) };
      });
    },

    async getSubscription(id) {
      const rows = await exec.query('SELECT * FROM dist.report_subscriptions WHERE subscription_id = $1', [id]);
      return rows[0] ? subscriptionFromRow(rows[0]) : null;
    },

    async listSubscriptions(filter) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.subscriberId) where.push(`subscriber_id = $${params.push(filter.subscriberId)}`);
      if (filter.status) where.push(`status = $${params.push(filter.status)}`);
      params.push(limitOf(filter.limit));
      const rows = await exec.query(
        `SELECT * FROM dist.report_subscriptions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, subscription_id LIMIT $${params.length}`,
        params,
      );
      return rows.map(subscriptionFromRow);
    },

    async activeSubscriptionsFor(reportType) {
      const rows = await exec.query(
        `SELECT * FROM dist.report_subscriptions WHERE status = 'active' AND report_types @> jsonb_build_array($1::text) ORDER BY subscription_id`,
        [reportType],
      );
      return rows.map(subscriptionFromRow);
    },

    async updateSubscription(id, u) {
      return exec.transaction(async (tx) => {
        // The row lock orders concurrent updates, so the version compared is the one replaced.
        const [current] = await tx.query('SELECT * FROM dist.report_subscriptions WHERE subscription_id = $1 FOR UPDATE', [id]);
        if (!current) return null;
        const stored = subscriptionFromRow(current);
        if (u.expectedVersion !== null && stored.version !== u.expectedVersion) return { outcome: 'conflict' as const, subscription: stored };
        const c = u.change;
        const filters = c.filters === undefined ? stored.filters : c.filters;
        const [row] = await tx.query(
          `UPDATE dist.report_subscriptions SET subscriber_type = $2, report_types = $3::jsonb, delivery_preferences = $4::jsonb, filters = $5::jsonb,
             version = version + 1, updated_at = now() WHERE subscription_id = $1 RETURNING *`,
          [id, c.subscriberType ?? stored.subscriberType, JSON.stringify(c.reportTypes ?? stored.reportTypes), JSON.stringify(c.deliveryPreferences ?? stored.deliveryPreferences), filters ? JSON.stringify(filters) : null],
        );
        if (u.removeChannelIds.length > 0) {
          await tx.query('DELETE FROM dist.delivery_channels WHERE subscription_id = $1 AND channel_id IN (SELECT jsonb_array_elements_text($2::jsonb))', [id, JSON.stringify(u.removeChannelIds)]);
        }
        for (const ch of u.addChannels) await insertChannel(tx, ch);
        return { outcome: 'updated' as const, subscription: subscriptionFromRow(row) };
      });
    },

    async setSubscriptionStatus(id, status) {
      return exec.transaction(async (tx) => {
        const rows = await tx.query('UPDATE dist.report_subscriptions SET status = $2, version = version + 1, updated_at = now() WHERE subscription_id = $1 RETURNING *', [id, status]);
        if (rows.length === 0) return null;
        if (status === 'active') {
          await tx.query('UPDATE dist.delivery_channels SET enabled = true, disabled_reason = NULL, disabled_at = NULL, updated_at = now() WHERE subscription_id = $1 AND NOT enabled', [id]);
        }
        return subscriptionFromRow(rows[0]);
      });
    },

    async getChannel(channelId) {
      const rows = await exec.query('SELECT * FROM dist.delivery_channels WHERE channel_id = $1', [channelId]);
      return rows[0] ? channelFromRow(rows[0]) : null;
    },

    async listChannels(filter) {
      if (filter.subscriptionIds?.length === 0) return [];
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.subscriberId) where.push(`subscriber_id = $${params.push(filter.subscriberId)}`);
      if (filter.subscriptionId) where.push(`subscription_id = $${params.push(filter.subscriptionId)}`);
      // One JSON array parameter: any number of ids in one statement.
      if (filter.subscriptionIds) where.push(`subscription_id IN (SELECT jsonb_array_elements_text($${params.push(JSON.stringify(filter.subscriptionIds))}::jsonb))`);
      const rows = await exec.query(`SELECT * FROM dist.delivery_channels ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY channel_id`, params);
      return rows.map(channelFromRow);
    },

    async disableChannel(channelId, reason) {
      const rows = await exec.query(
        'UPDATE dist.delivery_channels SET enabled = false, disabled_reason = $2, disabled_at = now(), updated_at = now() WHERE channel_id = $1 AND enabled RETURNING channel_id',
        [channelId, reason.slice(0, 2000)],
      );
      return rows.length > 0;
    },

    async updateChannel(channelId, change) {
      const params: SqlValue[] = [
        channelId, change.config === undefined ? null : JSON.stringify(change.config), change.enabled ?? null, (change.disabledReason ?? 'switched off by an operator').slice(0, 2000),
      ];
      const [row] = await exec.query(updateChannelSql, params);
      return row ? channelFromRow(row) : null;
    },

    async recordChannelFailure(channelId, f) {
      const [row] = await exec.query(recordChannelFailureSql, [channelId, f.error.slice(0, 2000), f.unhealthyAfter, Math.round(f.firstProbeInMs), Math.round(f.quietMs ?? 0)]);
      return row ? { channel: channelFromRow(row), becameUnhealthy: row.became_unhealthy === true } : null;
    },

    async recordChannelSuccess(channelId) {
      const [row] = await exec.query(recordChannelSuccessSql, [channelId]);
      return row ? { channel: channelFromRow(row), recovered: row.recovered === true } : null;
    },

    async markChannelHealthy(channelId, via) {
      const [row] = await exec.query(markChannelHealthySql, [channelId, via]);
      return row ? { channel: channelFromRow(row), recovered: row.recovered === true } : null;
    },

    async recordProbeFailure(channelId, error, nextProbeInMs) {
      const [row] = await exec.query(recordProbeFailureSql, [channelId, error.slice(0, 2000), Math.round(nextProbeInMs)]);
      return row ? channelFromRow(row) : null;
    },

    async createDeliveries(deliveries: NewDelivery[]) {
      if (deliveries.length === 0) return new Set();
      const cols = ['delivery_id', 'subscription_id', 'subscriber_id', 'report_id', 'report_type', 'channel', 'channel_id', 'priority', 'payload', 'workflow_id', 'held_for'];
      const params: SqlValue[] = [];
      const tuples = deliveries.map((d) => {
        const values: SqlValue[] = [d.deliveryId, d.subscriptionId, d.subscriberId, d.reportId, d.reportType, d.channel, d.channelId, d.priority, JSON.stringify(d.payload), d.workflowId, d.heldFor ?? null];
        const refs = values.map((v) => `$${params.push(v)}`);
        refs[8] = `${refs[8]}::jsonb`;
        return `(${refs.join(', ')}, 'pending')`;
      });
      const rows = await exec.query<{ delivery_id: string }>(
        `INSERT INTO dist.delivery_history (${cols.join(', ')}, status) VALUES ${tuples.join(', ')} ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id`,
        params,
      );
      return new Set(rows.map((r) => r.delivery_id));
    },

    async getDelivery(id) {
      const row = await deliveryRow(exec, id);
      return row ? deliveryFromRow(row) : null;
    },

    async listDeliveries(filter) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.subscriberId) where.push(`subscriber_id = $${params.push(filter.subscriberId)}`);
      if (filter.subscriptionId) where.push(`subscription_id = $${params.push(filter.subscriptionId)}`);
      if (filter.channelId) where.push(`channel_id = $${params.push(filter.channelId)}`);
      if (filter.status) where.push(`status = $${params.push(filter.status)}`);
      if (filter.channel) where.push(`channel = $${params.push(filter.channel)}`);
      if (filter.since) where.push(`updated_at >= $${params.push(filter.since)}`);
      params.push(limitOf(filter.limit));
      const rows = await exec.query(
        `SELECT * FROM dist.delivery_history ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at, delivery_id LIMIT $${params.length}`,
        params,
      );
      return rows.map(deliveryFromRow);
    },

    async beginAttempt(deliveryId, attempt, runId) {
      const [row] = await exec.query(beginAttemptSql, [deliveryId, Math.max(attempt - 1, 0), runId, statsShardOf(deliveryId)]);
      if (!row) return null;
      // row_to_json arrives parsed from node-postgres, but a driver may hand JSON back as text.
      const channel = typeof row.channel_json === 'string' ? (JSON.parse(row.channel_json) as Record<string, unknown>) : (row.channel_json as Record<string, unknown> | null);
      return {
        delivery: deliveryFromRow(row),
        channel: channel ? channelFromRow(channel) : null,
        subscriptionStatus: (row.subscription_status as 'active' | 'paused' | 'cancelled' | null) ?? null,
      };
    },

    async recordDelivered(deliveryId) {
      const [row] = await exec.query(recordDeliveredSql, [deliveryId, statsShardOf(deliveryId)]);
      return row ? deliveryFromRow(row) : null;
    },

    async recordFailure(deliveryId, status, errorDetails) {
      const params: SqlValue[] = [deliveryId, status, errorDetails.slice(0, 8000)];
      if (status === 'failed') params.push(statsShardOf(deliveryId));
      const [row] = await exec.query(recordFailureSql(status), params);
      return row ? deliveryFromRow(row) : null;
    },

    async listHeldDeliveries(subscriptionId, limit) {
      const rows = await exec.query(
        `SELECT * FROM dist.delivery_history WHERE subscription_id = $1 AND held_for IS NOT NULL AND released_at IS NULL AND status <> 'cancelled'
          ORDER BY created_at, delivery_id LIMIT $2`,
        [subscriptionId, limitOf(limit)],
      );
      return rows.map(deliveryFromRow);
    },

    async markReleased(deliveryIds) {
      if (deliveryIds.length === 0) return 0;
      const rows = await exec.query(
        'UPDATE dist.delivery_history SET released_at = clock_timestamp() WHERE delivery_id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb))) AND released_at IS NULL RETURNING delivery_id',
        [JSON.stringify(deliveryIds)],
      );
      return rows.length;
    },

    async markReplayRequested(deliveryId) {
      const rows = await exec.query(
        `UPDATE dist.delivery_history SET status = 'pending', retry_count = 0, replay_count = replay_count + 1, requested_at = clock_timestamp(),
           delivery_time = NULL, latency_ms = NULL, error_details = NULL, updated_at = clock_timestamp() WHERE delivery_id = $1 RETURNING *`,
        [deliveryId],
      );
      return rows[0] ? deliveryFromRow(rows[0]) : null;
    },

    async statsSince(since) {
      return (await exec.query(STATS_SQL, [since, null])).map(statsFromRow);
    },

    async statsBetween(from, to) {
      return (await exec.query(STATS_SQL, [from, to])).map(statsFromRow);
    },

    async deliveryStatsBetween(range) {
      const params: SqlValue[] = [range.from, range.to];
      if (range.subscriberId !== undefined) params.push(range.subscriberId);
      return (await exec.query(deliveryStatsSql(range.subscriberId !== undefined), params)).map(deliveryStatsFromRow);
    },

    async upsertNotification(n) {
      const rows = await exec.query(
        `INSERT INTO dist.notifications (id, subscriber_id, subscription_id, severity, report_id, report_type, title, body)
         SELECT $1, h.subscriber_id, h.subscription_id, $2, $3, $4, $5, $6::jsonb FROM (SELECT 1) one LEFT JOIN dist.delivery_history h ON h.delivery_id = $1
         ON CONFLICT (id) DO UPDATE SET severity = EXCLUDED.severity, title = EXCLUDED.title, body = EXCLUDED.body RETURNING *`,
        [n.id, n.severity, n.reportId, n.reportType, n.title.slice(0, 500), JSON.stringify(n)],
      );
      return notificationFromRow(rows[0]);
    },

    async getNotification(id) {
      const rows = await exec.query('SELECT * FROM dist.notifications WHERE id = $1', [id]);
      return rows[0] ? notificationFromRow(rows[0]) : null;
    },

    async listNotifications(filter) {
      const params: SqlValue[] = [];
      const where = filter.subscriberId ? `WHERE subscriber_id = $${params.push(filter.subscriberId)}` : '';
      params.push(limitOf(filter.limit));
      const rows = await exec.query(`SELECT * FROM dist.notifications ${where} ORDER BY created_at DESC, id LIMIT $${params.length}`, params);
      return rows.map(notificationFromRow);
    },

    async createApiKey(k) {
      const rows = await exec.query(
        'INSERT INTO ref.api_keys (key_id, key_hash, role, subscriber_id, label) VALUES ($1, $2, $3, $4, $5) RETURNING *',
        [k.keyId, k.keyHash, k.role, k.subscriberId, k.label],
      );
      return apiKeyFromRow(rows[0]);
    },

    async findApiKeyByHash(hash) {
      const rows = await exec.query('SELECT * FROM ref.api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [hash]);
      return rows[0] ? apiKeyFromRow(rows[0]) : null;
    },

    async listApiKeys() {
      return (await exec.query('SELECT * FROM ref.api_keys ORDER BY created_at, key_id')).map(apiKeyFromRow);
    },

    async revokeApiKey(keyId) {
      const rows = await exec.query('UPDATE ref.api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL RETURNING key_id', [keyId]);
      return rows.length > 0;
    },
  };
}
