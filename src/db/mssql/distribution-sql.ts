// Every T-SQL statement of the distribution store, as pure functions: values as @params, JSON as nvarchar text.
import { statsShardOf, type ChannelFilter, type NewChannel, type NewDelivery, type NewSubscription } from '../distribution';
import type { SubscriptionRecord } from '../../reporting/types';
import type { ApiRole, DeliveryStatus, SubscriptionStatus } from '../../reporting/types';
import { datetimeParam as datetime, intParam as int, textParam as text, type Param, type Statement } from './statement';

const BASE = "CAST('2000-01-01' AS datetime2)";
/** The current hour in UTC: the stats bucket. */
const BUCKET = `DATEADD(hour, DATEDIFF(hour, ${BASE}, SYSUTCDATETIME()), ${BASE})`;
/** Milliseconds since requested_at, clamped to the int column. */
const LATENCY = 'CAST(CASE WHEN DATEDIFF_BIG(millisecond, requested_at, SYSUTCDATETIME()) > 2147483647 THEN 2147483647 ' +
  'WHEN DATEDIFF_BIG(millisecond, requested_at, SYSUTCDATETIME()) < 0 THEN 0 ELSE DATEDIFF_BIG(millisecond, requested_at, SYSUTCDATETIME()) END AS int)';
const limitOf = (n: number) => int(Math.min(Math.max(n, 1), 10_000));

export function insertSubscriptionSql(s: NewSubscription): Statement {
  return {
    text:
      'INSERT INTO dist.report_subscriptions (subscription_id, subscriber_id, subscriber_type, report_types, delivery_preferences, filters)\n' +
      'OUTPUT INSERTED.* SELECT @subscription_id, @subscriber_id, @subscriber_type, @report_types, @preferences, @filters\n' +
      'WHERE NOT EXISTS (SELECT 1 FROM dist.report_subscriptions WITH (UPDLOCK, HOLDLOCK) WHERE subscription_id = @subscription_id)',
    params: {
      subscription_id: text(s.subscriptionId), subscriber_id: text(s.subscriberId), subscriber_type: text(s.subscriberType),
      report_types: text(JSON.stringify(s.reportTypes)), preferences: text(JSON.stringify(s.deliveryPreferences)), filters: text(s.filters ? JSON.stringify(s.filters) : null),
    },
  };
}

export function insertChannelSql(c: NewChannel): Statement {
  return {
    text: 'INSERT INTO dist.delivery_channels (channel_id, channel_type, channel_config, subscription_id, subscriber_id) VALUES (@channel_id, @channel_type, @config, @subscription_id, @subscriber_id)',
    params: { channel_id: text(c.channelId), channel_type: text(c.channelType), config: text(JSON.stringify(c.config)), subscription_id: text(c.subscriptionId), subscriber_id: text(c.subscriberId) },
  };
}

export const selectSubscriptionSql = (id: string): Statement => ({
  text: 'SELECT * FROM dist.report_subscriptions WHERE subscription_id = @subscription_id',
  params: { subscription_id: text(id) },
});

export function listSubscriptionsSql(f: { subscriberId?: string; status?: SubscriptionStatus; limit: number }): Statement {
  const where: string[] = [];
  const params: Record<string, Param> = { limit: limitOf(f.limit) };
  if (f.subscriberId) (where.push('subscriber_id = @subscriber_id'), (params.subscriber_id = text(f.subscriberId)));
  if (f.status) (where.push('status = @status'), (params.status = text(f.status)));
  return { text: `SELECT TOP (@limit) * FROM dist.report_subscriptions${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, subscription_id`, params };
}

export const activeSubscriptionsSql = (reportType: string): Statement => ({
  text: "SELECT * FROM dist.report_subscriptions WHERE status = N'active' AND EXISTS (SELECT 1 FROM OPENJSON(report_types) j WHERE j.value = @report_type) ORDER BY subscription_id",
  params: { report_type: text(reportType) },
});

export function setSubscriptionStatusSql(id: string, status: SubscriptionStatus): Statement {
  const reenable = status === 'active'
    ? '\nUPDATE dist.delivery_channels SET enabled = 1, disabled_reason = NULL, disabled_at = NULL, updated_at = SYSUTCDATETIME() WHERE subscription_id = @subscription_id AND enabled = 0;'
    : '';
  return {
    text: `UPDATE dist.report_subscriptions SET status = @status, version = version + 1, updated_at = SYSUTCDATETIME() WHERE subscription_id = @subscription_id;${reenable}\n` +
      'SELECT * FROM dist.report_subscriptions WHERE subscription_id = @subscription_id',
    params: { subscription_id: text(id), status: text(status) },
  };
}

/** The subscription under an update lock held to the end of the transaction: concurrent updates queue behind it. */
export const lockSubscriptionSql = (id: string): Statement => ({
  text: 'SELECT * FROM dist.report_subscriptions WITH (UPDLOCK, HOLDLOCK) WHERE subscription_id = @subscription_id',
  params: { subscription_id: text(id) },
});

/** The whole new content (the caller merged the change over the stored row); version + 1. */
export function updateSubscriptionSql(s: Pick<SubscriptionRecord, 'subscriptionId' | 'subscriberType' | 'reportTypes' | 'deliveryPreferences' | 'filters'>): Statement {
  return {
    text:
      'UPDATE dist.report_subscriptions SET subscriber_type = @subscriber_type, report_types = @report_types, delivery_preferences = @preferences, filters = @filters,\n' +
      '  version = version + 1, updated_at = SYSUTCDATETIME() OUTPUT INSERTED.* WHERE subscription_id = @subscription_id',
    params: {
      subscription_id: text(s.subscriptionId), subscriber_type: text(s.subscriberType), report_types: text(JSON.stringify(s.reportTypes)),
      preferences: text(JSON.stringify(s.deliveryPreferences)), filters: text(s.filters ? JSON.stringify(s.filters) : null),
    },
  };
}

export const deleteSubscriptionChannelsSql = (subscriptionId: string, channelIds: readonly string[]): Statement => ({
  text: "DELETE FROM dist.delivery_channels WHERE subscription_id = @subscription_id AND channel_id IN (SELECT j.id FROM OPENJSON(@channel_ids) WITH (id nvarchar(100) '$') AS j)",
  params: { subscription_id: text(subscriptionId), channel_ids: text(JSON.stringify(channelIds)) },
});

export const selectChannelSql = (channelId: string): Statement => ({ text: 'SELECT * FROM dist.delivery_channels WHERE channel_id = @channel_id', params: { channel_id: text(channelId) } });

export function listChannelsSql(f: ChannelFilter): Statement {
  const where: string[] = [];
  const params: Record<string, Param> = {};
  if (f.subscriberId) (where.push('subscriber_id = @subscriber_id'), (params.subscriber_id = text(f.subscriberId)));
  if (f.subscriptionId) (where.push('subscription_id = @subscription_id'), (params.subscription_id = text(f.subscriptionId)));
  // One JSON array parameter: any number of ids, clear of the 2,100-parameter limit.
  if (f.subscriptionIds) {
    where.push("subscription_id IN (SELECT j.id FROM OPENJSON(@subscription_ids) WITH (id nvarchar(100) '$') AS j)");
    params.subscription_ids = text(JSON.stringify(f.subscriptionIds));
  }
  return { text: `SELECT * FROM dist.delivery_channels${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY channel_id`, params };
}

/** Outputs the channel id only when this statement switched it off. */
export const disableChannelSql = (channelId: string, reason: string): Statement => ({
  text: 'UPDATE dist.delivery_channels SET enabled = 0, disabled_reason = @reason, disabled_at = SYSUTCDATETIME(), updated_at = SYSUTCDATETIME()\n' +
    'OUTPUT INSERTED.channel_id WHERE channel_id = @channel_id AND enabled = 1',
  params: { channel_id: text(channelId), reason: text(reason.slice(0, 2000)) },
});

const DELIVERY_COLUMNS = ['delivery_id', 'subscription_id', 'subscriber_id', 'report_id', 'report_type', 'channel', 'channel_id', 'priority', 'payload', 'workflow_id', 'held_for'] as const;
/** 11 parameters a row under SQL Server's 2,100-parameter limit. */
export const DELIVERY_ROWS_PER_STATEMENT = 180;

/** Inserts the deliveries that do not exist yet, in statements of at most DELIVERY_ROWS_PER_STATEMENT rows; each outputs the ids it inserted. */
export function insertDeliveriesSql(deliveries: NewDelivery[]): Statement[] {
  const out: Statement[] = [];
  for (let start = 0; start < deliveries.length; start += DELIVERY_ROWS_PER_STATEMENT) {
    const params: Record<string, Param> = {};
    const tuples = deliveries.slice(start, start + DELIVERY_ROWS_PER_STATEMENT).map((d, i) => {
      const values: Param[] = [
        text(d.deliveryId), text(d.subscriptionId), text(d.subscriberId), text(d.reportId), text(d.reportType), text(d.channel), text(d.channelId),
        int(d.priority), text(JSON.stringify(d.payload)), text(d.workflowId), text(d.heldFor ?? null),
      ];
      return `(${values.map((p, c) => ((params[`${DELIVERY_COLUMNS[c]}_${i}`] = p), `@${DELIVERY_COLUMNS[c]}_${i}`)).join(', ')})`;
    });
    out.push({
      text:
        `INSERT INTO dist.delivery_history (${DELIVERY_COLUMNS.join(', ')}, status) OUTPUT INSERTED.delivery_id\n` +
        `SELECT v.*, N'pending' FROM (VALUES ${tuples.join(', ')}) AS v (${DELIVERY_COLUMNS.join(', ')})\n` +
        'WHERE NOT EXISTS (SELECT 1 FROM dist.delivery_history h WITH (UPDLOCK, HOLDLOCK) WHERE h.delivery_id = v.delivery_id)',
      params,
    });
  }
  return out;
}

export const selectDeliverySql = (id: string, lock = false): Statement => ({
  text: `SELECT * FROM dist.delivery_history${lock ? ' WITH (UPDLOCK, HOLDLOCK)' : ''} WHERE delivery_id = @delivery_id`,
  params: { delivery_id: text(id) },
});

export function listDeliveriesSql(f: { subscriberId?: string; subscriptionId?: string; channelId?: string; status?: DeliveryStatus; channel?: string; since?: Date; limit: number }): Statement {
  const where: string[] = [];
  const params: Record<string, Param> = { limit: limitOf(f.limit) };
  if (f.subscriberId) (where.push('subscriber_id = @subscriber_id'), (params.subscriber_id = text(f.subscriberId)));
  if (f.subscriptionId) (where.push('subscription_id = @subscription_id'), (params.subscription_id = text(f.subscriptionId)));
  if (f.channelId) (where.push('channel_id = @channel_id'), (params.channel_id = text(f.channelId)));
  if (f.status) (where.push('status = @status'), (params.status = text(f.status)));
  if (f.channel) (where.push('channel = @channel'), (params.channel = text(f.channel)));
  if (f.since) (where.push('updated_at >= @since'), (params.since = datetime(f.since)));
  return { text: `SELECT TOP (@limit) * FROM dist.delivery_history${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at, delivery_id`, params };
}

/**
 * Takes the row for an attempt, unless this run delivered it already (its answer lost with a worker) or its channel is
 * paused (channel health: no attempt is made, so none is recorded or counted).
 */
export const startAttemptSql = (id: string, attempt: number, runId: string): Statement => ({
  text: "UPDATE h SET status = N'sending', retry_count = @retry_count, run_id = @run_id, updated_at = SYSUTCDATETIME() OUTPUT INSERTED.*\n" +
    "FROM dist.delivery_history h WHERE h.delivery_id = @delivery_id AND (h.status <> N'delivered' OR h.run_id IS NULL OR h.run_id <> @run_id)\n" +
    '  AND NOT EXISTS (SELECT 1 FROM dist.delivery_channels pc WHERE pc.channel_id = h.channel_id AND pc.paused_at IS NOT NULL)',
  params: { delivery_id: text(id), retry_count: int(Math.max(attempt - 1, 0)), run_id: text(runId) },
});

export const subscriptionStatusSql = (id: string): Statement => ({ text: 'SELECT status FROM dist.report_subscriptions WHERE subscription_id = @subscription_id', params: { subscription_id: text(id) } });

export const markDeliveredSql = (id: string): Statement => ({
  text: `UPDATE dist.delivery_history SET status = N'delivered', delivery_time = SYSUTCDATETIME(), updated_at = SYSUTCDATETIME(), latency_ms = ${LATENCY}\n` +
    "OUTPUT INSERTED.* WHERE delivery_id = @delivery_id AND status <> N'delivered'",
  params: { delivery_id: text(id) },
});

export function markFailureSql(id: string, status: 'retrying' | 'waiting' | 'failed' | 'cancelled', errorDetails: string): Statement {
  const final = status === 'failed' || status === 'cancelled';
  return {
    text: `UPDATE dist.delivery_history SET status = @status, error_details = @error_details, updated_at = SYSUTCDATETIME()\n` +
      `OUTPUT INSERTED.* WHERE delivery_id = @delivery_id AND status NOT IN (N'delivered'${final ? ", N'failed', N'cancelled'" : ''})`,
    params: { delivery_id: text(id), status: text(status), error_details: text(errorDetails.slice(0, 8000)) },
  };
}

export const listHeldDeliveriesSql = (subscriptionId: string, limit: number): Statement => ({
  text: "SELECT TOP (@limit) * FROM dist.delivery_history WHERE subscription_id = @subscription_id AND held_for IS NOT NULL AND released_at IS NULL AND status <> N'cancelled' ORDER BY created_at, delivery_id",
  params: { subscription_id: text(subscriptionId), limit: limitOf(limit) },
});

export const markReleasedSql = (deliveryIds: readonly string[]): Statement => ({
  text: "UPDATE dist.delivery_history SET released_at = SYSUTCDATETIME() OUTPUT INSERTED.delivery_id WHERE released_at IS NULL AND delivery_id IN (SELECT j.id FROM OPENJSON(@delivery_ids) WITH (id nvarchar(100) '$') AS j)",
  params: { delivery_ids: text(JSON.stringify(deliveryIds)) },
});

export const markReplaySql = (id: string): Statement => ({
  text: "UPDATE dist.delivery_history SET status = N'pending', retry_count = 0, replay_count = replay_count + 1, requested_at = SYSUTCDATETIME(),\n" +
    '  delivery_time = NULL, latency_ms = NULL, error_details = NULL, updated_at = SYSUTCDATETIME() OUTPUT INSERTED.* WHERE delivery_id = @delivery_id',
  params: { delivery_id: text(id) },
});

export type StatsCounter = 'deliveries_attempted' | 'deliveries_successful' | 'deliveries_failed';

/** One more in the current hour's bucket (the delivery's shard); HOLDLOCK makes the update-else-insert safe against a concurrent first insert. */
export function countStatSql(d: { deliveryId: string; reportType: string; channel: string }, counter: StatsCounter, latencyMs = 0): Statement {
  const latency = counter === 'deliveries_successful';
  const extra = latency
    ? ', total_delivery_time_ms = total_delivery_time_ms + @latency, avg_delivery_time_ms = CAST(total_delivery_time_ms + @latency AS float) / (deliveries_successful + 1)'
    : '';
  return {
    text:
      `DECLARE @bucket datetime2 = ${BUCKET};\n` +
      `UPDATE dist.distribution_stats WITH (UPDLOCK, HOLDLOCK) SET ${counter} = ${counter} + 1${extra}\n` +
      '  WHERE [timestamp] = @bucket AND report_type = @report_type AND channel = @channel AND shard = @shard;\n' +
      `IF @@ROWCOUNT = 0 INSERT INTO dist.distribution_stats ([timestamp], report_type, channel, shard, ${counter}, total_delivery_time_ms, avg_delivery_time_ms)\n` +
      `  VALUES (@bucket, @report_type, @channel, @shard, 1, @latency, ${latency ? 'CAST(@latency AS float)' : 'NULL'})`,
    params: { report_type: text(d.reportType), channel: text(d.channel), shard: int(statsShardOf(d.deliveryId)), latency: int(latency ? latencyMs : 0) },
  };
}

/** Hourly buckets that start at or after `since` (and before `until` when given), summed per report type × channel. */
export const statsSinceSql = (since: Date, until: Date | null = null): Statement => ({
  text:
    'SELECT report_type, channel, SUM(CAST(deliveries_attempted AS bigint)) AS attempted, SUM(CAST(deliveries_successful AS bigint)) AS successful,\n' +
    '  SUM(CAST(deliveries_failed AS bigint)) AS failed, SUM(total_delivery_time_ms) AS total_ms\n' +
    `FROM dist.distribution_stats WHERE [timestamp] >= @since${until ? ' AND [timestamp] < @until' : ''} GROUP BY report_type, channel ORDER BY report_type, channel`,
  params: until ? { since: datetime(since), until: datetime(until) } : { since: datetime(since) },
});

const STATS_AGGREGATES =
  "COUNT(DISTINCT report_id) AS reports, COUNT(*) AS deliveries, SUM(CASE WHEN status = N'delivered' THEN 1 ELSE 0 END) AS delivered, " +
  "SUM(CASE WHEN status = N'failed' THEN 1 ELSE 0 END) AS failed, SUM(CASE WHEN status = N'cancelled' THEN 1 ELSE 0 END) AS cancelled, " +
  "SUM(CASE WHEN status IN (N'pending', N'sending', N'retrying', N'waiting') THEN 1 ELSE 0 END) AS in_progress, " +
  'SUM(CAST(retry_count AS bigint)) AS retries, SUM(CAST(replay_count AS bigint)) AS replays, ' +
  "AVG(CASE WHEN status = N'delivered' THEN CAST(latency_ms AS float) END) AS avg_latency_ms, MAX(CASE WHEN status = N'delivered' THEN latency_ms END) AS max_latency_ms";

/** Deliveries created in [from, to) (and of one subscriber when given), grouped four ways; UNION ALL, not GROUPING SETS (Babelfish). */
export function deliveryStatsSql(range: { from: Date; to: Date; subscriberId?: string }): Statement {
  const group = (dimension: string, key: string | null) =>
    `SELECT N'${dimension}' AS dimension, ${key ?? 'CAST(NULL AS nvarchar(100))'} AS stat_key, ${STATS_AGGREGATES} FROM d${key ? ` GROUP BY ${key}` : ''}`;
  const params: Record<string, Param> = { from: datetime(range.from), to: datetime(range.to) };
  if (range.subscriberId !== undefined) params.subscriber_id = text(range.subscriberId);
  return {
    text:
      `WITH d AS (SELECT * FROM dist.delivery_history WHERE created_at >= @from AND created_at < @to${range.subscriberId !== undefined ? ' AND subscriber_id = @subscriber_id' : ''})\n` +
      [group('report_type', 'report_type'), group('channel', 'channel'), group('subscriber', 'subscriber_id'), group('total', null)].join('\nUNION ALL ') +
      '\nORDER BY dimension, stat_key',
    params,
  };
}

export function upsertNotificationSql(n: { id: string; severity: string; reportId: string; reportType: string; title: string }, body: string): Statement {
  return {
    // Update-or-insert under a key-range lock held to the end of its own transaction (not MERGE: see ledger-sql.ts).
    text:
      'SET XACT_ABORT ON;\nBEGIN TRANSACTION;\n' +
      'UPDATE t SET t.severity = @severity, t.title = @title, t.body = @body FROM dist.notifications t WITH (UPDLOCK, SERIALIZABLE) WHERE t.id = @id;\n' +
      'IF @@ROWCOUNT = 0\n' +
      '  INSERT INTO dist.notifications (id, subscriber_id, subscription_id, severity, report_id, report_type, title, body)\n' +
      '  SELECT @id, h.subscriber_id, h.subscription_id, @severity, @report_id, @report_type, @title, @body\n' +
      '  FROM (SELECT 1 AS one) x LEFT JOIN dist.delivery_history h ON h.delivery_id = @id;\n' +
      'COMMIT TRANSACTION;\n' +
      'SELECT * FROM dist.notifications WHERE id = @id;',
    params: { id: text(n.id), severity: text(n.severity), report_id: text(n.reportId), report_type: text(n.reportType), title: text(n.title.slice(0, 500)), body: text(body) },
  };
}

export const selectNotificationSql = (id: string): Statement => ({ text: 'SELECT * FROM dist.notifications WHERE id = @id', params: { id: text(id) } });

export function listNotificationsSql(f: { subscriberId?: string; limit: number }): Statement {
  const params: Record<string, Param> = { limit: limitOf(f.limit) };
  if (f.subscriberId) params.subscriber_id = text(f.subscriberId);
  return { text: `SELECT TOP (@limit) * FROM dist.notifications${f.subscriberId ? ' WHERE subscriber_id = @subscriber_id' : ''} ORDER BY created_at DESC, id`, params };
}

export const insertApiKeySql = (k: { keyId: string; keyHash: string; role: ApiRole; subscriberId: string | null; label: string | null }): Statement => ({
  text: 'INSERT INTO ref.api_keys (key_id, key_hash, role, subscriber_id, label) OUTPUT INSERTED.* VALUES (@key_id, @key_hash, @role, @subscriber_id, @label)',
  params: { key_id: text(k.keyId), key_hash: text(k.keyHash), role: text(k.role), subscriber_id: text(k.subscriberId), label: text(k.label) },
});

export const findApiKeySql = (hash: string): Statement => ({ text: 'SELECT * FROM ref.api_keys WHERE key_hash = @key_hash AND revoked_at IS NULL', params: { key_hash: text(hash) } });
export const listApiKeysSql = 'SELECT * FROM ref.api_keys ORDER BY created_at, key_id';
export const revokeApiKeySql = (keyId: string): Statement => ({
  text: 'UPDATE ref.api_keys SET revoked_at = SYSUTCDATETIME() OUTPUT INSERTED.key_id WHERE key_id = @key_id AND revoked_at IS NULL',
  params: { key_id: text(keyId) },
});
